/*
 * Benchmark results brought in from a file, for the report to hold beside the runs made here: a JSON
 * export (one record, a list, or the export's {records}), a CSV export, or the raw output of our
 * programs and lmbench — a saved `sqliteos bench pipes` output or a QEMU console log, as `npm run
 * bench:kernel` and `npm run bench:published` leave them (each kernel measured against its own stock
 * pipe in one boot). A file none of them reads is an error naming the file and why.
 */
import { createHash } from 'crypto';
import { BenchRecord, Series, parseBenchOutput, recordsFromCsv } from './pipes';

export class ImportError extends Error {}

function isRecord(v: unknown): v is BenchRecord {
  const r = v as BenchRecord;
  return !!r && typeof r === 'object' && typeof r.id === 'string' && Array.isArray(r.series) && typeof r.host === 'string';
}

/** The configuration the series were measured in: chunk sizes, how far ahead, how many holders, runs. */
function configurationOf(series: Series[]): BenchRecord['configuration'] {
  const n = (prefix: string) => Math.max(0, ...series.map((s) => (s.config.startsWith(prefix) ? Number(s.config.slice(prefix.length)) || 0 : 0)));
  return {
    chunks: [...new Set(series.filter((s) => s.bench === 'bw').map((s) => s.chunk))].sort((a, b) => a - b),
    ahead: n('ahead'),
    holders: n('procs'),
    runs: Math.max(0, ...series.map((s) => s.values.length)),
  };
}

/** A record of raw benchmark output: `name` says where it came from, `date` when (the file's time). */
export function recordFromOutput(text: string, name: string, date: string): BenchRecord {
  const parsed = parseBenchOutput(text);
  if (parsed.series.length === 0) {
    throw new ImportError(`${name}: no benchmark results in it (neither our programs' JSON lines nor lmbench's lines)${parsed.problems.length ? `; ${parsed.problems[0]}` : ''}`);
  }
  const release = /Linux version (\S+)/.exec(text)?.[1];
  // A console log of a QEMU guest without KVM (as this project's benchmarks boot it): TCG, where only
  // the ratios mean anything.
  const emulated = /SeaBIOS|QEMU/.test(text) && !/Hypervisor detected: KVM/.test(text);
  return {
    id: `import-${createHash('sha256').update(text).digest('hex').slice(0, 16)}`,
    date,
    host: `imported: ${name}`,
    kind: 'local',
    release: release ?? 'unknown (not in the file)',
    cpu: emulated ? 'QEMU TCG (emulated)' : 'unknown (not in the file)',
    emulated,
    configuration: configurationOf(parsed.series),
    series: parsed.series,
    problems: parsed.problems,
    notes: [`imported from ${name}`],
    raw: text.split(/\r?\n/).filter((l) => l.startsWith('{"bench":') || /^(SQL pipe|Pipe) (bandwidth|latency):/.test(l.trim())),
  };
}

/** The records in a file's text (`name`: the file, for errors and the records' host), each id once. */
export function importBenchFile(text: string, name: string, date: string): BenchRecord[] {
  const seen = new Set<string>();
  return readBenchFile(text, name, date).filter((r) => !seen.has(r.id) && !!seen.add(r.id));
}

function readBenchFile(text: string, name: string, date: string): BenchRecord[] {
  const trimmed = text.trimStart();
  if ((trimmed.startsWith('{') && !trimmed.startsWith('{"bench":')) || trimmed.startsWith('[')) {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch (e) {
      throw new ImportError(`${name}: not valid JSON (${(e as Error).message})`);
    }
    const list = isRecord(j) ? [j] : Array.isArray(j) ? j : Array.isArray((j as { records?: unknown }).records) ? (j as { records: unknown[] }).records : undefined;
    if (!list || !list.length || !list.every(isRecord)) throw new ImportError(`${name}: JSON, but not benchmark records (an export of Show Benchmark Report, or \`sqliteos bench pipes --json\`)`);
    return list;
  }
  if (trimmed.startsWith('id,date,')) {
    try {
      return recordsFromCsv(text);
    } catch (e) {
      throw new ImportError(`${name}: ${(e as Error).message}`);
    }
  }
  return [recordFromOutput(text, name, date)];
}
