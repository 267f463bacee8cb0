/*
 * Run Pipe Benchmarks on a machine (an SSH target: the QEMU guest, a WSL2 distro, any Linux host; or this
 * machine): our bw_sqlpipe / lat_sqlpipe (static, shipped in the extension, uploaded once to the cache
 * there like the inspect helper) on SQL pipes and on stock pipes in the same run, for each chunk size and
 * configuration chosen, and lmbench's own bw_pipe / lat_pipe when the machine has them. Each program runs
 * in a session of its own, so Cancel leaves nothing running. The result is a BenchRecord: the host, its
 * kernel release and CPU, whether it is emulated, every value and the programs' own lines.
 */
import { BenchRecord, PipeKind, Series, parseBenchOutput } from '../core/bench/pipes';
import { simulatorPipeSeries } from '../core/bench/sim-pipes';
import { CACHE_DIR_SH, Shell, placeCached, shellQuote } from './kernel-host';
import { runInSession } from './session-run';
import { LocalShell } from './sources';

export interface BenchPlan {
  /** Bytes per write for the bandwidth runs (4 KiB … 1 MiB). */
  chunks: number[];
  /** The writer this many chunks ahead of the reader (0: not measured). */
  ahead: number;
  /** This many idle processes each holding a pipe during the runs (0: not measured). */
  holders: number;
  /** Runs per measurement (the median is reported). */
  runs: number;
  /** lmbench's bw_pipe / lat_pipe too, where installed. */
  lmbench: boolean;
  /** Which pipes our programs measure (the simulator's SQL pipe is measured elsewhere: stock only). */
  pipes?: PipeKind[];
}

export type BenchEvent = { kind: 'line'; text: string } | { kind: 'step'; index: number; total: number; label: string };

interface Step {
  label: string;
  argv: string[];
  program: 'ours' | 'lmbench';
  chunk: number;
}

const FACTS = [
  'printf "release\\t%s\\n" "$(uname -r)"',
  `printf "cpu\\t%s\\n" "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"`,
  `printf "cache\\t%s\\n" ${CACHE_DIR_SH}`,
  // Where installing lmbench can work: apt-get, and root or sudo that asks no password.
  'command -v apt-get >/dev/null && { [ "$(id -u)" = 0 ] || sudo -n true 2>/dev/null; } && printf "apt\\tyes\\n"',
  'for d in /usr/lib/lmbench/bin/*; do [ -x "$d/bw_pipe" ] && printf "lmbench\\t%s\\n" "$d" && break; done; command -v bw_pipe >/dev/null && printf "lmbench\\t%s\\n" "$(dirname "$(command -v bw_pipe)")"; true',
].join('; ');

export function planSteps(plan: BenchPlan, bin: string, lmbench: string | undefined): Step[] {
  const steps: Step[] = [];
  const ours = (name: 'bw_sqlpipe' | 'lat_sqlpipe', pipe: PipeKind, chunk: number, extra: string[], what: string): Step => ({
    label: `${name === 'bw_sqlpipe' ? 'bandwidth' : 'latency'}, ${pipe === 'sql' ? 'SQL pipe' : 'stock pipe'}${name === 'bw_sqlpipe' ? `, ${chunk >= 1024 ? `${chunk / 1024} KiB` : `${chunk} B`}` : ''}${what}`,
    argv: [`${bin}/${name}`, ...(pipe === 'stock' ? ['--stock'] : []), ...(name === 'bw_sqlpipe' ? ['--chunk', String(chunk)] : []), '--runs', String(plan.runs), ...extra],
    program: 'ours',
    chunk: name === 'bw_sqlpipe' ? chunk : 1,
  });
  for (const pipe of plan.pipes ?? (['stock', 'sql'] as const)) {
    for (const c of plan.chunks) steps.push(ours('bw_sqlpipe', pipe, c, [], ''));
    steps.push(ours('lat_sqlpipe', pipe, 1, [], ''));
    if (plan.ahead > 0) steps.push(ours('bw_sqlpipe', pipe, plan.chunks[0], ['--ahead', String(plan.ahead)], `, writer ${plan.ahead} chunks ahead`));
    if (plan.holders > 0) {
      steps.push(ours('bw_sqlpipe', pipe, plan.chunks[0], ['--procs', String(plan.holders)], `, ${plan.holders} processes holding pipes`));
      steps.push(ours('lat_sqlpipe', pipe, 1, ['--procs', String(plan.holders)], `, ${plan.holders} processes holding pipes`));
    }
  }
  if (plan.lmbench && lmbench) {
    for (const c of plan.chunks) steps.push({ label: `lmbench bw_pipe, ${c / 1024} KiB`, argv: [`${lmbench}/bw_pipe`, '-m', String(c), '-N', String(plan.runs)], program: 'lmbench', chunk: c });
    steps.push({ label: 'lmbench lat_pipe', argv: [`${lmbench}/lat_pipe`, '-N', String(plan.runs)], program: 'lmbench', chunk: 1 });
  }
  return steps;
}

/** Runs the plan on the machine behind `shell`; `label` names it in the record. */
export async function runPipeBench(
  shell: Shell,
  programs: Buffer,
  plan: BenchPlan,
  who: { host: string; kind: BenchRecord['kind'] },
  on: (e: BenchEvent) => void,
  signal?: AbortSignal,
): Promise<BenchRecord> {
  const facts = await shell.exec(FACTS, { timeoutMs: 30000 });
  const f: Record<string, string> = {};
  for (const l of facts.stdout.toString('utf8').split('\n')) {
    const [k, ...v] = l.split('\t');
    if (k && !(k in f)) f[k] = v.join('\t');
  }
  // One program, two names: it picks its test by argv[0].
  const bw = await placeCached(shell, f.cache, 'bw_sqlpipe', programs, 30000);
  const bin = bw.slice(0, bw.lastIndexOf('/'));
  const link = await shell.exec(`ln -sf bw_sqlpipe ${shellQuote(`${bin}/lat_sqlpipe`)}`);
  if (link.code !== 0) throw new Error(`${shell.label}: could not put the benchmark programs in ${bin}: ${link.stderr.trim()}`);
  const cpu = f.cpu || 'unknown CPU';
  const record: BenchRecord = {
    id: `${Date.now().toString(36)}-${bin.slice(-4)}`,
    date: new Date().toISOString(),
    host: who.host,
    kind: who.kind,
    release: f.release ?? '?',
    cpu,
    emulated: /QEMU|TCG/i.test(cpu),
    configuration: { chunks: plan.chunks, ahead: plan.ahead, holders: plan.holders, runs: plan.runs },
    series: [],
    problems: [],
    raw: [],
  };
  if (plan.lmbench && !f.lmbench) {
    record.lmbenchInstallable = f.apt === 'yes';
    const how = record.lmbenchInstallable ? 'Install lmbench There installs it' : 'no apt-get with root there: install it by hand to compare with it';
    record.notes = [`lmbench not installed on ${shell.label}: its rows are left out (${how})`];
  }
  const steps = planSteps(plan, bin, f.lmbench);
  for (const [i, step] of steps.entries()) {
    on({ kind: 'step', index: i, total: steps.length, label: step.label });
    const lines: string[] = [];
    const r = await runInSession(shell, step.argv.map(shellQuote).join(' '), (text) => {
      lines.push(text);
      on({ kind: 'line', text });
    }, signal);
    record.raw.push(`$ ${step.argv.join(' ')}`, ...lines);
    const parsed = parseBenchOutput(lines.join('\n'), step.program, { chunk: step.chunk });
    record.problems.push(...parsed.problems.map((p) => `${step.label}: ${p}`));
    if (r.code !== 0) {
      record.problems.push(`${step.label}: exit ${r.code}${lines.length ? `: ${lines[lines.length - 1]}` : ''}${/not implemented/i.test(lines.join(' ')) ? ' (no SQLiteOS kernel there?)' : ''}`);
      continue;
    }
    merge(record.series, parsed.series);
  }
  return record;
}

/**
 * The simulator's SQL pipe (sql.js) against this machine's stock pipe, measured by our program in the
 * same run; `onSim` names each simulator measurement as it starts.
 */
export async function runSimulatorBench(programs: Buffer, plan: BenchPlan, on: (e: BenchEvent) => void, onSim: (label: string) => void, signal?: AbortSignal): Promise<BenchRecord> {
  const r = await runPipeBench(new LocalShell(), programs, { ...plan, pipes: ['stock'], lmbench: false }, { host: 'simulator', kind: 'simulator' }, on, signal);
  merge(r.series, await simulatorPipeSeries(plan.chunks, plan.runs, onSim));
  return { ...r, release: `companion profile (stock pipe: this machine, ${r.release})` };
}

/** Adds series, joining values of the same program, benchmark, pipe, configuration and chunk. */
export function merge(into: Series[], more: Series[]): void {
  for (const s of more) {
    const same = into.find((o) => o.program === s.program && o.bench === s.bench && o.pipe === s.pipe && o.config === s.config && o.chunk === s.chunk);
    if (same) same.values.push(...s.values);
    else into.push({ ...s, values: [...s.values] });
  }
}
