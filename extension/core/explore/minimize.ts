/*
 * A scenario made small while it still shows one violation: the same kind at the same statement, as
 * syzkaller and C-Reduce shrink a crash's reproducer. The order is syzkaller's: everything after the
 * violating statement in one go, then statements in chunks halved down to one at a time (ddmin) and
 * neighbouring pairs, each removal taking what depends on it (a fork its child's statements, a pipe the
 * statements on its fds), then expectations no longer needed and the data halved; the statement passes again while anything
 * changes. Each candidate is tested by replaying the last schedule that showed the violation (its steps on
 * the statements kept: fast, and a real schedule when it works), else by a bounded exploration. Only
 * what the test accepts is kept, so the result shows the violation whatever a pass tried.
 */
import type { Literal, Scenario, Statement } from '../scenario/ast';
import { showBytes } from '../scenario/bytes';
import { DEFAULT_OPTIONS, resolveOptions } from '../scenario/options';
import { parseScenario } from '../scenario/parser';
import { printStatement } from '../scenario/print';
import { Anomaly, ScenarioRun } from '../scenario/runner';
import type { AnomalyKind } from '../sim/events';
import type { SimOptions } from '../sim/types';
import { ExploreOptions, explore } from './explorer';

export interface MinimizeOptions extends ExploreOptions {
  /** The violation to keep, when the scenario shows more than one kind (default: the first found). */
  kind?: AnomalyKind;
  /** The violating statement's line, when the scenario shows violations at more than one. */
  line?: number;
  /** run: keep an anomaly of the default schedule (`sqliteos run`), not one of any interleaving. */
  by?: 'explore' | 'run';
  /** Candidates tried at most (default 2,000). */
  maxTests?: number;
  progress?: (p: { tests: number; statements: number }) => void;
  /** Polled before each test: true stops with the smallest scenario so far. */
  cancelled?: () => boolean;
}

export interface MinimizeResult {
  /** The minimized scenario, a file of its own (header comment, directives, statements). */
  source: string;
  kind: AnomalyKind;
  message: string;
  /** The violating statement's line in `source`. */
  line: number;
  /** A (shortened) schedule of `source` that shows it: the debugger's replay (not with by: 'run'). */
  schedule?: number[];
  original: { file: string; line: number; text: string; statements: number; bytes: number };
  statements: number;
  /** Bytes written by the scenario's writes. */
  bytes: number;
  tests: number;
  ms: number;
  /** Stopped by `cancelled` or maxTests before the passes ended: smaller may exist. */
  stopped?: 'cancelled' | 'max-tests';
}

/** The scenario shows no such violation, so there is nothing to keep. */
export class MinimizeError extends Error {}

/** A statement of the scenario being shrunk: `s.line` is its line in the original file, its identity. */
type Items = Statement[];
/** One micro-step of a schedule that showed the violation: the process and its statement's original line. */
type Guide = { pid: number; line: number }[];

/** A literal cut to its first n bytes, written as it was (a count stays a count: its pattern's prefix is the shorter pattern). */
function prefix(l: Literal, n: number): Literal {
  const bytes = l.bytes.subarray(0, n);
  const source = l.kind === 'count' ? String(n) : l.kind === 'hex' ? `x"${Buffer.from(bytes).toString('hex')}"` : showBytes(bytes, Infinity);
  return { ...l, bytes, source };
}

/** The simulator options minimize was given (the scenario's own directives apply under them). */
const simOf = (o: MinimizeOptions): Partial<SimOptions> => ({ profile: o.profile, locks: o.locks, capacity: o.capacity });

/** `sqliteos run`'s anomalies: the default schedule to its end, dead ends included. */
async function defaultAnomalies(scenario: Scenario, sim: Partial<SimOptions>): Promise<Anomaly[]> {
  const run = await ScenarioRun.create(scenario, sim);
  try {
    run.runDefault();
    return run.result().anomalies;
  } finally {
    run.kernel.close();
  }
}

function withText(s: Statement): Statement {
  return { ...s, text: printStatement(s) };
}

const bytesOf = (items: Items) => items.reduce((n, s) => n + (s.op === 'write' ? s.data.bytes.length : 0), 0);

/** The statements left when `drop` goes, with every statement that needs one of them: undefined if `keep` would go. */
function without(items: Items, drop: Set<number>, keep: number): Items | undefined {
  const pids = new Set<number>();
  const labels = new Set<string>();
  const gone = new Set(drop);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [i, s] of items.entries()) {
      const uses = s.op === 'read' || s.op === 'write' || s.op === 'close' ? s.fd.name : undefined;
      if (!gone.has(i) && (pids.has(s.pid) || (uses !== undefined && labels.has(uses)))) {
        gone.add(i);
        grew = true;
      }
      if (!gone.has(i)) continue;
      if ((s.op === 'fork' || s.op === 'thread') && !pids.has(s.child)) {
        pids.add(s.child);
        grew = true;
      }
      if (s.op === 'pipe' && !labels.has(s.read.name)) {
        labels.add(s.read.name).add(s.write.name);
        grew = true;
      }
    }
  }
  if ([...gone].some((i) => items[i].line === keep)) return undefined;
  return items.filter((_, i) => !gone.has(i));
}

class Shrinker {
  tests = 0;
  stopped?: 'cancelled' | 'max-tests';
  private readonly header: string[];
  private readonly sim: Partial<SimOptions>;

  constructor(
    private items: Items,
    private readonly target: { kind: AnomalyKind; line: number },
    private guide: Guide,
    private readonly opts: MinimizeOptions,
    private readonly maxStates: number,
    scenario: Scenario,
  ) {
    // The options that show it, written into the result so it shows it alone: the file's, and those given
    // here (a default is left unwritten; the published kernel has no capacity).
    const o = resolveOptions({ overrides: { profile: opts.profile, locks: opts.locks, capacity: opts.capacity }, file: scenario });
    const d = DEFAULT_OPTIONS;
    this.header = [
      (scenario.profile || o.profile !== d.profile) && `@profile ${o.profile}`,
      (scenario.locks || o.locks !== d.locks) && `@locks ${o.locks}`,
      o.profile === 'companion' && (scenario.capacity !== undefined || o.capacity !== d.capacity) && `@capacity ${o.capacity}`,
    ].filter((l): l is string => !!l);
    this.sim = simOf(opts);
  }

  get result(): Items {
    return this.items;
  }

  /** Where the statement of original line `line` is in render()'s text. */
  lineOf(line: number): number {
    return this.header.length + this.items.findIndex((s) => s.line === line) + 1;
  }

  render(items: Items = this.items, comment: string[] = []): string {
    return [...comment, ...this.header, ...items.map((s) => s.text), ''].join('\n');
  }

  /** Whether the candidate still shows the target; when it does, it becomes the scenario. */
  async try(items: Items | undefined): Promise<boolean> {
    if (!items || this.stopped) return false;
    if (this.opts.cancelled?.()) this.stopped = 'cancelled';
    else if (this.tests >= (this.opts.maxTests ?? 2000)) this.stopped = 'max-tests';
    if (this.stopped) return false;
    this.tests++;
    const ok = await this.shows(items);
    if (ok) this.items = items;
    this.opts.progress?.({ tests: this.tests, statements: this.items.length });
    return ok;
  }

  private async shows(items: Items): Promise<boolean> {
    const parsed = parseScenario(this.render(items));
    if (!parsed.ok) return false;
    const scenario = parsed.scenario;
    const original = (line: number) => items[line - this.header.length - 1]?.line;
    const hit = (as: readonly Pick<Anomaly, 'kind' | 'line'>[]) => as.some((a) => a.kind === this.target.kind && original(a.line) === this.target.line);
    if (this.opts.by === 'run') return hit(await defaultAnomalies(scenario, this.sim));
    if (await this.replays(scenario, original, hit)) return true;
    const res = await explore(scenario, { ...this.opts, maxStates: this.maxStates, everyViolation: true, stopWhen: (v) => hit([v]), shorten: false });
    const v = res.violations?.find((w) => hit([w]));
    if (v) this.guide = await guideOf(scenario, v.schedule, this.sim, original);
    return v !== undefined;
  }

  /** The guide's steps on the statements kept, then the default schedule to the end: does it show the target? */
  private async replays(scenario: Scenario, original: (line: number) => number | undefined, hit: (as: Anomaly[]) => boolean): Promise<boolean> {
    const kept = new Set(scenario.statements.map((s) => original(s.line)));
    const run = await ScenarioRun.create(scenario, this.sim);
    try {
      for (const g of this.guide) {
        const s = kept.has(g.line) ? run.nextStatement(g.pid) : undefined;
        if (!s || original(s.line)! > g.line || !run.runnable().includes(g.pid)) continue;
        run.step(g.pid);
        if (hit(run.anomalies)) return true;
      }
      run.runDefault();
      return hit(run.anomalies) || hit(run.stuck());
    } catch {
      return false;
    } finally {
      run.kernel.close();
    }
  }

  /** ddmin over the statements: chunks of half, a quarter, ... one; true when any went. */
  async statements(): Promise<boolean> {
    let any = false;
    for (let chunk = Math.max(1, Math.ceil(this.items.length / 2)); ; chunk = Math.max(1, Math.floor(chunk / 2))) {
      let changed = false;
      for (let end = this.items.length; end > 0 && !this.stopped; ) {
        const start = Math.max(0, end - chunk);
        const drop = new Set(Array.from({ length: end - start }, (_, k) => start + k));
        if (await this.try(without(this.items, drop, this.target.line))) changed = any = true;
        end = Math.min(start, this.items.length);
      }
      // ddmin's chunks are aligned: two neighbours that only go together may straddle them.
      if (chunk === 1 && !changed && !this.stopped) changed = await this.pairs();
      if (this.stopped || (chunk === 1 && !changed)) return any;
      any ||= changed;
    }
  }

  /** Each two neighbouring statements together, from the end: true when any went. */
  private async pairs(): Promise<boolean> {
    let any = false;
    for (let i = this.items.length - 2; i >= 0 && !this.stopped; i--) {
      if (await this.try(without(this.items, new Set([i, i + 1]), this.target.line))) any = true;
      i = Math.min(i, this.items.length - 1);
    }
    return any;
  }

  /** Each expectation the violation does not need, then each write's data and each read's count halved while it holds. */
  async data(): Promise<boolean> {
    let any = false;
    for (let i = this.items.length - 1; i >= 0 && !this.stopped; i--) {
      const s = this.items[i];
      if ('expect' in s && s.expect) any = (await this.try(this.replace(i, { ...s, expect: undefined } as Statement))) || any;
    }
    for (let i = this.items.length - 1; i >= 0 && !this.stopped; i--) {
      for (;;) {
        const s = this.items[i];
        const halved =
          // a write expected to write N bytes keeps its data: halved, it could not write N whatever happens
          s.op === 'write' && s.data.bytes.length > 1 && s.expect?.kind !== 'result'
            ? { ...s, data: prefix(s.data, s.data.bytes.length >> 1) }
            : s.op === 'read' && s.n > 1
              ? { ...s, n: s.n >> 1, expect: s.expect && 'bytes' in s.expect ? prefix(s.expect, Math.min(s.expect.bytes.length, s.n >> 1)) : s.expect }
              : undefined;
        if (!halved || !(await this.try(this.replace(i, halved)))) break;
        any = true;
      }
    }
    return any;
  }

  private replace(i: number, s: Statement): Items {
    return this.items.map((t, k) => (k === i ? withText(s) : t));
  }

  /** Syzkaller's first step: nothing after the violating statement. */
  async tail(): Promise<void> {
    const at = this.items.findIndex((s) => s.line === this.target.line);
    const after = new Set(this.items.map((_, i) => i).filter((i) => i > at));
    if (after.size) await this.try(without(this.items, after, this.target.line));
  }
}

/** The result shown once more, as `explore` (or `run`) shows it: the message in its own lines and a shortened schedule. */
async function confirm(source: string, file: string, at: { kind: AnomalyKind; line: number }, opts: MinimizeOptions): Promise<{ message: string; schedule?: number[] }> {
  const parsed = parseScenario(source, file);
  if (!parsed.ok) throw new Error(`minimize: the result does not parse: ${parsed.errors[0].toString()}`);
  const hit = (a: { kind: AnomalyKind; line: number }) => a.kind === at.kind && a.line === at.line;
  if (opts.by === 'run') {
    const a = (await defaultAnomalies(parsed.scenario, simOf(opts))).find(hit);
    if (a) return { message: a.message };
  } else {
    const res = await explore(parsed.scenario, { ...opts, maxStates: undefined, everyViolation: true, stopWhen: hit });
    const v = res.violations?.find(hit);
    if (v) return { message: v.message, schedule: v.schedule };
  }
  throw new Error(`minimize: the result no longer shows the ${at.kind} at line ${at.line}`);
}

/** A schedule of `scenario` as steps on original lines (what later candidates replay). */
async function guideOf(scenario: Scenario, schedule: number[], sim: Partial<SimOptions>, original: (line: number) => number | undefined): Promise<Guide> {
  const run = await ScenarioRun.create(scenario, sim);
  try {
    return schedule.map((pid) => {
      const line = original(run.nextStatement(pid)?.line ?? 0) ?? 0;
      run.step(pid);
      return { pid, line };
    });
  } finally {
    run.kernel.close();
  }
}

export async function minimize(scenario: Scenario, source: string, opts: MinimizeOptions = {}): Promise<MinimizeResult> {
  const t0 = performance.now();
  const sim = simOf(opts);
  const wanted = (k: AnomalyKind, line: number) => (opts.kind === undefined || k === opts.kind) && (opts.line === undefined || line === opts.line);
  const what = `${opts.kind ?? 'violation'}${opts.line === undefined ? '' : ` at line ${opts.line}`}`;
  let target: { kind: AnomalyKind; line: number; message: string };
  let guide: Guide = [];
  let maxStates = opts.maxStates ?? 0;
  if (opts.by === 'run') {
    const found = await defaultAnomalies(scenario, sim);
    const a = found.find((x) => wanted(x.kind, x.line));
    if (!a) throw new MinimizeError(`no ${what} in the default schedule${found.length ? ` (it shows ${found.map((x) => `${x.kind} at line ${x.line}`).join(', ')})` : ''}; without --run every interleaving is searched`);
    target = a;
  } else {
    const res = await explore(scenario, { ...opts, everyViolation: true, stopWhen: (v) => wanted(v.kind, v.line), shorten: false });
    const v = res.violations?.find((x) => wanted(x.kind, x.line));
    if (!v) {
      const others = res.violations?.length ? ` (it shows ${res.violations.map((x) => `${x.kind} at line ${x.line}`).join(', ')})` : '';
      throw new MinimizeError(`no ${what} in ${res.exhausted ? 'any interleaving' : `the ${res.states} states searched (--max-states)`}${others}: nothing to keep`);
    }
    target = v;
    guide = await guideOf(scenario, v.schedule, sim, (line) => line);
    // A candidate's search may take a few times the states the whole scenario needed to show it.
    maxStates ||= Math.max(5000, 4 * res.states);
  }
  const lines = source.split('\n');
  const original = { file: scenario.file, line: target.line, text: (lines[target.line - 1] ?? '').trim(), statements: scenario.statements.length, bytes: bytesOf(scenario.statements) };
  const s = new Shrinker(scenario.statements, target, guide, opts, maxStates, scenario);
  await s.tail();
  // Smaller data can free statements again (a write no read needs all of); statements() ends at its own fixpoint.
  do await s.statements();
  while ((await s.data()) && !s.stopped);
  const items = s.result;
  const comment = [
    `# Minimized by sqliteos minimize from ${scenario.file} (${original.statements} statements, ${original.bytes} bytes written):`,
    `# its ${target.kind} at line ${target.line}, ${original.text}`,
  ];
  const minimized = s.render(items, comment);
  const line = comment.length + s.lineOf(target.line);
  const shown = await confirm(minimized, scenario.file, { kind: target.kind, line }, opts);
  return {
    source: minimized,
    kind: target.kind,
    message: shown.message,
    schedule: shown.schedule,
    line,
    original,
    statements: items.length,
    bytes: bytesOf(items),
    tests: s.tests,
    ms: performance.now() - t0,
    stopped: s.stopped,
  };
}
