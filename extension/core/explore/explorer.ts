/*
 * The interleaving explorer: breadth-first over the schedules of a scenario's processes, one micro-step
 * at a time at the points where a real kernel could switch tasks (the mutex, BEGIN/COMMIT, lock level
 * changes, SQL statements, sleeps and wake-ups; steps between them run on without a switch; a critical
 * section under the global write mutex is one step unless a lock-free reader could see inside it). Equal states
 * are visited once (hash of the kernel state, the tables and the fd labels). Breadth-first means the first
 * violation found comes with a shortest schedule, which the debug adapter can replay.
 */
import { createHash } from 'crypto';
import type { AnomalyKind } from '../sim/events';
import type { SimOptions } from '../sim/types';
import type { Scenario } from '../scenario/ast';
import { RunSnapshot, ScenarioRun } from '../scenario/runner';

export interface Violation {
  kind: AnomalyKind;
  line: number;
  message: string;
  /** The pid of each micro-step, from the start: replay it with the debug adapter's `schedule`. */
  schedule: number[];
}

export interface ExploreResult {
  ok: boolean;
  profile: string;
  locks: string;
  states: number;
  transitions: number;
  /** Terminal states (nothing left to run) reached without a violation. */
  complete: number;
  /** Every reachable state was visited (false when --max-states cut the search short). */
  exhausted: boolean;
  ms: number;
  violation: Violation | null;
}

export interface ExploreOptions extends Partial<SimOptions> {
  maxStates?: number;
}

/** Micro-step kinds after which another process may run; the rest run on in the same process. */
const SWITCH_KINDS = new Set(['mutex', 'txn', 'lock', 'sql', 'sleep', 'wake']);

function canonical(run: ScenarioRun): string {
  const k = run.kernel;
  const s = k.state;
  // Connection ids and counters differ between orders that reach the same state: leave them out.
  const conns = s.store.conns.map((c) => [c.pid, c.level, c.purpose]);
  const procs = Object.values(s.procs).map((p) => ({
    ...p,
    txnConn: p.txnConn === null ? null : 1,
    wokenAt: undefined,
    current: p.current && { ...p.current, locals: { ...p.current.locals, conn: undefined } },
  }));
  const db = k.db.contentKey(digest);
  return serialize([procs, s.handlers, s.pipes, { ...s.store, conns }, s.mutex, s.deferred, db, run.labels]);
}

/** Byte arrays are never written once stored: each one's digest is computed once. */
const bytesKeys = new WeakMap<Uint8Array, string>();

/**
 * JSON-like text of plain data, byte arrays as their digest: what JSON.stringify with a replacer gives,
 * at a fraction of its cost (a replacer function is called for every value). undefined members are left
 * out, as JSON.stringify leaves them.
 */
function serialize(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
    case 'boolean':
      return String(v);
    case 'string':
      return JSON.stringify(v);
    case 'undefined':
      return 'null';
    case 'object':
      break;
    default:
      return JSON.stringify(v) ?? 'null';
  }
  if (v instanceof Uint8Array) {
    let key = bytesKeys.get(v);
    if (key === undefined) bytesKeys.set(v, (key = `"${digest(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'))}"`));
    return key;
  }
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + serialize(v[i]);
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const k in v as Record<string, unknown>) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${serialize(x)}`;
    first = false;
  }
  return `${out}}`;
}

function digest(s: string): string {
  return createHash('sha1').update(s).digest('base64');
}

function hash(run: ScenarioRun): string {
  return digest(canonical(run));
}

const READER_OPS = new Set(['query', 'begin', 'commit']);

/**
 * Whether anyone else could observe `pid`'s steps while it holds the write mutex: only a process that
 * works without the mutex (a query or a read transaction, running or about to start) can. When nobody
 * can, the whole critical section runs as one transition — a reduction that loses no behaviour, since
 * every other process would first have to take the mutex.
 */
function observed(run: ScenarioRun, pid: number): boolean {
  for (const p of Object.values(run.kernel.state.procs)) {
    if (p.pid === pid || p.status === 'exited') continue;
    if (p.txnConn !== null) return true;
    const op = p.current?.op ?? run.nextStatement(p.pid)?.op;
    if (op && READER_OPS.has(op)) return true;
  }
  return false;
}

/** Runs `pid` on to its next switch point (or the end of its statement, or a sleep); returns the steps taken. */
function advance(run: ScenarioRun, pid: number): number {
  for (let n = 1; ; n++) {
    const out = run.step(pid);
    if (out.kind !== 'continue') return n;
    const p = run.kernel.state.procs[pid];
    if (run.kernel.state.mutex.owner === pid && !observed(run, pid)) continue;
    const step = p.current && run.kernel.programOf(p).at(p.current.step);
    if (!step || (SWITCH_KINDS.has(step.kind) && !step.local)) return n;
  }
}

interface Frontier {
  snap: RunSnapshot;
  schedule: number[];
}

export async function explore(scenario: Scenario, opts: ExploreOptions = {}): Promise<ExploreResult> {
  const t0 = performance.now();
  const maxStates = opts.maxStates ?? 50000;
  const run = await ScenarioRun.create(scenario, opts);
  const seen = new Set<string>([hash(run)]);
  let frontier: Frontier[] = [{ snap: run.snapshot(), schedule: [] }];
  let transitions = 0;
  let complete = 0;
  let violation: Violation | null = null;
  let exhausted = true;
  const result = (): ExploreResult => {
    const res: ExploreResult = {
      ok: violation === null,
      profile: run.kernel.opts.profile,
      locks: run.kernel.opts.locks,
      states: seen.size,
      transitions,
      complete,
      exhausted: exhausted && violation === null,
      ms: performance.now() - t0,
      violation,
    };
    run.kernel.close();
    return res;
  };
  while (frontier.length > 0) {
    const next: Frontier[] = [];
    for (const node of frontier) {
      run.restore(node.snap);
      const choices = run.runnable();
      if (choices.length === 0) {
        const stuck = run.stuck();
        if (stuck.length > 0) {
          violation = { kind: stuck[0].kind, line: stuck[0].line, message: stuck[0].message, schedule: node.schedule };
          return result();
        }
        complete++;
        continue;
      }
      for (const [i, pid] of choices.entries()) {
        // The first choice starts from the state just restored (runnable() only reads it).
        if (i > 0) run.restore(node.snap);
        const before = run.anomalies.length;
        const steps = advance(run, pid);
        transitions++;
        const schedule = node.schedule.concat(Array<number>(steps).fill(pid));
        if (run.anomalies.length > before) {
          const a = run.anomalies[before];
          violation = { kind: a.kind, line: a.line, message: a.message, schedule };
          return result();
        }
        const h = hash(run);
        if (seen.has(h)) continue;
        seen.add(h);
        if (seen.size >= maxStates) {
          exhausted = false;
          return result();
        }
        next.push({ snap: run.snapshot(), schedule });
      }
    }
    frontier = next;
  }
  return result();
}

/** Replays a schedule (pids per micro-step) on a fresh run; returns the run where it ended. */
export async function replay(scenario: Scenario, schedule: number[], opts: Partial<SimOptions> = {}): Promise<ScenarioRun> {
  const run = await ScenarioRun.create(scenario, opts);
  for (const pid of schedule) run.step(pid);
  return run;
}

/** A run of micro-steps of one process on one statement, as a person reads a schedule. */
export interface ScheduleStep {
  pid: number;
  line: number;
  /** The statement's text as the scenario wrote it (op and operands). */
  statement: string;
  microSteps: number;
}

/** The schedule replayed, its micro-steps gathered by process and statement, in order. */
export async function scheduleSteps(scenario: Scenario, schedule: number[], opts: Partial<SimOptions> = {}): Promise<ScheduleStep[]> {
  const run = await ScenarioRun.create(scenario, opts);
  const out: ScheduleStep[] = [];
  for (const pid of schedule) {
    const s = run.nextStatement(pid);
    const line = s?.line ?? 0;
    const last = out[out.length - 1];
    if (last && last.pid === pid && last.line === line) last.microSteps++;
    else out.push({ pid, line, statement: s ? s.op : '?', microSteps: 1 });
    run.step(pid);
  }
  return out;
}
