/*
 * Pipe benchmarks, read and summed up: the output of our programs (bw_sqlpipe / lat_sqlpipe: one JSON
 * object per run, then lmbench's text line) and of lmbench's bw_pipe / lat_pipe, turned into runs with
 * their values; medians and the SQL / stock ratios; the paper's Table 1 beside them; CSV and JSON out and
 * back. One parser and one set of statistics for the extension, the CLI and `npm run bench:kernel`.
 * No VS Code here.
 */
import { median } from './stats';

export type Program = 'ours' | 'lmbench' | 'simulator';
export type Bench = 'bw' | 'lat';
export type PipeKind = 'sql' | 'stock';

/** One measured series: a program, what it measured, on which pipe, in which configuration. */
export interface Series {
  program: Program;
  bench: Bench;
  pipe: PipeKind;
  /** plain, aheadN (the writer N chunks ahead), procsN (N idle processes holding pipes). */
  config: string;
  /** Bytes per write (bandwidth); 1 for latency. */
  chunk: number;
  unit: 'MB/s' | 'us';
  values: number[];
}

export interface Parsed {
  series: Series[];
  /** What could not be read, with its line: a run that died, a unit not known, a line cut short. */
  problems: string[];
}

const UNITS: Record<string, 'MB/s' | 'us'> = { 'MB/s': 'MB/s', 'MB/sec': 'MB/s', us: 'us', microseconds: 'us' };
const TEXT = /^(SQL pipe|Pipe) (bandwidth|latency): ([0-9.eE+-]+) (\S+)\s*$/;

function key(s: Omit<Series, 'values' | 'unit'>): string {
  return `${s.program}|${s.bench}|${s.pipe}|${s.config}|${s.chunk}`;
}

/**
 * Reads benchmark output. `program` says whose text lines these are when nothing in the text says so;
 * in a console log, lines after a line "lmbench:" are lmbench's. Our programs' text lines only close
 * the series their JSON lines opened (a series with runs but no closing line died part-way).
 */
export function parseBenchOutput(text: string, program: Program = 'ours', defaults: { chunk?: number } = {}): Parsed {
  const found = new Map<string, Series>();
  const open = new Set<string>();
  const problems: string[] = [];
  let who: Program = program;
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    const at = `line ${i + 1}`;
    if (line === 'lmbench:') {
      who = 'lmbench';
      return;
    }
    if (line.startsWith('{"bench":')) {
      let j: Record<string, unknown>;
      try {
        j = JSON.parse(line) as Record<string, unknown>;
      } catch {
        const why = line.endsWith('}') ? (/":(-?inf|-?nan)\b/i.test(line) ? "a value that is not a number (inf or nan: a run too short for the guest's clock?)" : 'not valid JSON') : 'cut short';
        problems.push(`${at}: a run's line is ${why}: ${line.slice(0, 80)}`);
        return;
      }
      if (j.bench === 'profile') return;
      const unit = UNITS[String(j.unit)];
      const value = Number(j.value);
      if (j.bench !== 'bw' && j.bench !== 'lat') return void problems.push(`${at}: unknown benchmark '${String(j.bench)}'`);
      if (!unit) return void problems.push(`${at}: unit '${String(j.unit)}' is not one this reads (MB/s, us)`);
      if (!Number.isFinite(value) || value <= 0) return void problems.push(`${at}: value '${String(j.value)}' is not a positive number`);
      const s = { program: 'ours' as Program, bench: j.bench as Bench, pipe: (j.pipe === 'stock' ? 'stock' : 'sql') as PipeKind, config: String(j.config ?? 'plain'), chunk: Number(j.chunk ?? (j.bench === 'bw' ? 65536 : 1)) };
      const k = key(s);
      const series = found.get(k) ?? { ...s, unit, values: [] };
      series.values.push(value);
      found.set(k, series);
      open.add(k);
      return;
    }
    const t = TEXT.exec(line);
    if (!t) return;
    const bench: Bench = t[2] === 'bandwidth' ? 'bw' : 'lat';
    const pipe: PipeKind = t[1] === 'SQL pipe' ? 'sql' : 'stock';
    const unit = UNITS[t[4]];
    if (who === 'ours') {
      // The closing line of the series just measured.
      for (const k of open) if (k.includes(`|${bench}|${pipe}|`)) open.delete(k);
      return;
    }
    if (!unit || (bench === 'bw') !== (unit === 'MB/s')) return void problems.push(`${at}: unit '${t[4]}' is not one this reads for ${t[2]} (MB/sec, microseconds)`);
    const value = Number(t[3]);
    if (!Number.isFinite(value) || value <= 0) return void problems.push(`${at}: value '${t[3]}' is not a positive number`);
    const s = { program: who, bench, pipe, config: 'plain', chunk: bench === 'bw' ? (defaults.chunk ?? 65536) : 1 };
    const k = key(s);
    const series = found.get(k) ?? { ...s, unit, values: [] };
    series.values.push(value);
    found.set(k, series);
  });
  for (const k of open) {
    const s = found.get(k)!;
    problems.push(`${s.bench} ${s.pipe} ${s.config} (${s.chunk} B): ${s.values.length} runs and no closing line: the program died part-way`);
  }
  return { series: [...found.values()], problems };
}

export interface Ratio {
  program: Program;
  bench: Bench;
  config: string;
  chunk: number;
  sql: number;
  stock: number;
  /** SQL / stock: bandwidth below 1 is slower; latency above 1 is slower. */
  ratio: number;
}

/** Medians of each series, and SQL / stock where both were measured alike. */
export function ratios(series: Series[]): Ratio[] {
  const out: Ratio[] = [];
  for (const s of series) {
    if (s.pipe !== 'sql') continue;
    // The simulator's SQL pipe is compared with this machine's stock pipe measured by our program.
    const stockProgram = s.program === 'simulator' ? 'ours' : s.program;
    const stock = series.find((o) => o.pipe === 'stock' && o.program === stockProgram && o.bench === s.bench && o.config === s.config && o.chunk === s.chunk);
    if (!stock || !s.values.length || !stock.values.length) continue;
    const sql = median(s.values);
    const st = median(stock.values);
    out.push({ program: s.program, bench: s.bench, config: s.config, chunk: s.chunk, sql, stock: st, ratio: sql / st });
  }
  return out;
}

/** The paper's Table 1 (pipe bandwidth, MB/s, lmbench), as printed. */
export const PAPER_TABLE_1 = [
  { cpu: 'AMD Ryzen 5 5600', memory: '16GB', sql: 124.8, stock: 1852.33 },
  { cpu: 'i5-13600KF', memory: '32GB', sql: 102.18, stock: 3271.53 },
].map((r) => ({ ...r, ratio: r.sql / r.stock }));

/**
 * The SQL pipe against the stock pipe in words that read the same way for both measures (more bandwidth
 * is better, more latency worse): "3.56× slower", "1.20× faster". The bare ratio SQL / stock says the
 * opposite thing for the two.
 */
export function versusStock(bench: 'bw' | 'lat', sql: number, stock: number): string {
  const slower = bench === 'bw' ? stock / sql : sql / stock;
  const x = slower >= 1 ? slower : 1 / slower;
  return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}× ${slower >= 1 ? 'slower' : 'faster'}`;
}

/** One stored run of the Run Pipe Benchmarks command. */
export interface BenchRecord {
  id: string;
  date: string;
  /** user@host, "this machine", or "simulator". */
  host: string;
  kind: 'simulator' | 'ssh' | 'local';
  release: string;
  cpu: string;
  /** Under emulation (QEMU TCG) only the ratios mean anything. */
  emulated: boolean;
  configuration: { chunks: number[]; ahead: number; holders: number; runs: number };
  series: Series[];
  problems: string[];
  /** What was left out and why, not a fault of the run (lmbench not installed there); absent in older records. */
  notes?: string[];
  /** lmbench is missing but apt-get and root (or sudo without a password) are there: it can be installed. */
  lmbenchInstallable?: boolean;
  /** The programs' own lines, as they printed them. */
  raw: string[];
}

const CSV_COLUMNS = ['id', 'date', 'host', 'kind', 'release', 'cpu', 'emulated', 'program', 'bench', 'pipe', 'config', 'chunk', 'unit', 'run', 'value'] as const;

function cell(v: string | number | boolean): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per measured value, so a spreadsheet can take medians of its own. */
export function recordsToCsv(records: BenchRecord[]): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const r of records) {
    for (const s of r.series) {
      s.values.forEach((v, i) => {
        rows.push([r.id, r.date, r.host, r.kind, r.release, r.cpu, r.emulated, s.program, s.bench, s.pipe, s.config, s.chunk, s.unit, i, v].map(cell).join(','));
      });
    }
  }
  return `${rows.join('\r\n')}\r\n`;
}

/** Reads a CSV written by recordsToCsv back into records (series and their values; raw lines stay out). */
export function recordsFromCsv(text: string): BenchRecord[] {
  const rows = parseCsv(text);
  const head = rows.shift() ?? [];
  if (head.join(',') !== CSV_COLUMNS.join(',')) throw new Error(`not a benchmark CSV: its header is '${head.join(',')}'`);
  const byId = new Map<string, BenchRecord>();
  for (const [n, row] of rows.entries()) {
    if (row.length === 1 && row[0] === '') continue;
    if (row.length !== CSV_COLUMNS.length) throw new Error(`row ${n + 2}: ${row.length} cells for ${CSV_COLUMNS.length} columns`);
    const c = Object.fromEntries(CSV_COLUMNS.map((k, i) => [k, row[i]])) as Record<(typeof CSV_COLUMNS)[number], string>;
    const r = byId.get(c.id) ?? { id: c.id, date: c.date, host: c.host, kind: c.kind as BenchRecord['kind'], release: c.release, cpu: c.cpu, emulated: c.emulated === 'true', configuration: { chunks: [], ahead: 0, holders: 0, runs: 0 }, series: [], problems: [], raw: [] };
    byId.set(c.id, r);
    const s0 = { program: c.program as Program, bench: c.bench as Bench, pipe: c.pipe as PipeKind, config: c.config, chunk: Number(c.chunk) };
    let s = r.series.find((x) => key(x) === key(s0));
    if (!s) r.series.push((s = { ...s0, unit: c.unit as Series['unit'], values: [] }));
    s.values.push(Number(c.value));
  }
  return [...byId.values()];
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cur);
      cur = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cur);
      rows.push(row);
      row = [];
      cur = '';
    } else cur += ch;
  }
  if (cur || row.length) {
    row.push(cur);
    rows.push(row);
  }
  return rows;
}

/** Text like the paper's table: each measured ratio, then the paper's. */
export function ratioTable(series: Series[], emulated: boolean): string {
  const lines = ['program    bench config        chunk      stock pipe      SQL pipe    SQL / stock'];
  for (const r of ratios(series)) {
    const unit = r.bench === 'bw' ? 'MB/s' : 'us';
    lines.push(`${r.program.padEnd(10)} ${r.bench.padEnd(5)} ${r.config.padEnd(12)} ${String(r.chunk).padStart(7)} ${r.stock.toFixed(2).padStart(11)} ${unit.padEnd(4)} ${r.sql.toFixed(2).padStart(9)} ${unit.padEnd(4)} ${r.ratio.toFixed(4).padStart(9)}`);
  }
  const self = series.filter((x) => x.pipe === 'sql' && x.config !== 'plain');
  if (self.length) lines.push('', 'SQL pipe against itself (the same measurement, plain):');
  for (const s of self) {
    const plain = series.find((o) => o.pipe === 'sql' && o.config === 'plain' && o.program === s.program && o.bench === s.bench && o.chunk === s.chunk);
    if (plain) lines.push(`  ${s.bench.padEnd(4)} ${s.config.padEnd(12)} / plain: ${(median(s.values) / median(plain.values)).toFixed(3)}`);
  }
  for (const s of series.filter((x) => x.program === 'lmbench')) lines.push(`lmbench    ${s.bench.padEnd(5)} ${s.pipe.padEnd(12)} ${median(s.values).toFixed(2)} ${s.unit} (lmbench's own median${s.values.length > 1 ? `, ${s.values.length} invocations` : ''})`);
  lines.push('', "the paper's Table 1 (lmbench, bandwidth):");
  for (const p of PAPER_TABLE_1) lines.push(`  ${p.cpu.padEnd(18)} stock ${p.stock.toFixed(2)} MB/s, SQL ${p.sql.toFixed(2)} MB/s, SQL / stock ${p.ratio.toFixed(4)}`);
  if (emulated) lines.push('', 'measured under emulation (QEMU TCG): only the ratios mean anything, not the MB/s or microseconds');
  return lines.join('\n');
}
