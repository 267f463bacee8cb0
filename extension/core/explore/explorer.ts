/*
 * The interleaving explorer: breadth-first over the schedules of a scenario's processes, one micro-step
 * at a time at the points where a real kernel could switch tasks (the mutex, BEGIN/COMMIT, lock level
 * changes, SQL statements, sleeps and wake-ups; steps between them run on without a switch; a critical
 * section under the global write mutex is one step unless a lock-free reader could see inside it). Equal states
 * are visited once (canonical.ts). At each state only a persistent set of the runnable processes is tried
 * (footprint.ts), unless `reduction: false`. Breadth-first over every interleaving gives a shortest
 * schedule to the first violation; the reduced search's is shortened (shorten.ts). The debug adapter
 * replays either.
 */
import type { AnomalyKind } from '../sim/events';
import type { SimOptions } from '../sim/types';
import type { Scenario } from '../scenario/ast';
import { RunSnapshot, ScenarioRun } from '../scenario/runner';
import { Footprint, FutureStatements, commuting, conflict } from './footprint';
import { stateKey as hash } from './canonical';
import { shorten } from './shorten';

export interface Violation {
  kind: AnomalyKind;
  line: number;
  message: string;
  /** The pid of each micro-step, from the start: replay it with the debug adapter's `schedule`. */
  schedule: number[];
  /**
   * true: the shortest schedule to this violation (breadth-first over every interleaving). false: found
   * by the reduced search and then shortened (shorten.ts), short but not proven shortest.
   */
  shortest?: boolean;
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
  /** Whether persistent sets cut the choices (false with --no-reduction). */
  reduction: boolean;
  /** Choices left out at some state because another process's steps commute with them (0 without reduction). */
  pruned: number;
}

export interface ExploreOptions extends Partial<SimOptions> {
  maxStates?: number;
  /** false: every runnable process at every state, today's full search (the oracle). */
  reduction?: boolean;
  /**
   * Also runs both orders of every two choices the reduction calls independent at each state and
   * throws if they end in different states or one disables the other (slow: for tests).
   */
  checkIndependence?: boolean;
}

/** What the reduced search must keep of the full one: the violation (kind, line), whether every state was seen, the end states. */
export function verdict(r: ExploreResult) {
  return { kind: r.violation?.kind ?? null, line: r.violation?.line ?? null, exhausted: r.exhausted, complete: r.violation ? null : r.complete };
}

export class IndependenceError extends Error {}

/** Micro-step kinds after which another process may run; the rest run on in the same process. */
const SWITCH_KINDS = new Set(['mutex', 'txn', 'lock', 'sql', 'sleep', 'wake']);

/**
 * A persistent set of the runnable processes (Godefroid's stubborn-set closure over footprints): from
 * each runnable seed, add every live process whose future conflicts with what a member does next (for a
 * member that sleeps: with what it sleeps in, so those who could wake it come in); the smallest set's
 * runnable members are the choices. Whatever the processes left out do before a member runs commutes
 * with it, so every end state and every anomaly stays reachable. The state graph has no cycles (every
 * transition moves a process on in its statement, or puts one woken back to sleep after the waker moved
 * on), so no cycle proviso is needed; reduction.test.ts walks the examples' graphs for a cycle.
 */
function persistentSet(run: ScenarioRun, choices: number[], left: FutureStatements): number[] {
  // The published kernel's rows of different pipes share one rowid sequence and its lookups join the
  // whole pid_pipe table: its steps are not given footprints, and its search is not reduced.
  if (choices.length <= 1 || run.kernel.opts.profile !== 'companion') return choices;
  const commute = commuting(run, left);
  const live = Object.values(run.kernel.state.procs)
    .filter((p) => p.status !== 'exited')
    .map((p) => p.pid);
  const next = new Map<number, Footprint>();
  const future = new Map<number, Footprint>();
  const nextOf = (pid: number) => next.get(pid) ?? next.set(pid, left.next(run, pid)).get(pid)!;
  const futureOf = (pid: number) => future.get(pid) ?? future.set(pid, left.future(run, pid)).get(pid)!;
  const enabled = new Set(choices);
  let best = choices;
  for (const seed of choices) {
    const set = new Set([seed]);
    const work = [seed];
    let runnable = 1;
    while (work.length > 0 && runnable < best.length) {
      const x = nextOf(work.pop()!);
      for (const q of live) {
        if (set.has(q) || !conflict(x, futureOf(q), commute)) continue;
        set.add(q);
        work.push(q);
        if (enabled.has(q)) runnable++;
      }
    }
    if (runnable < best.length) best = choices.filter((c) => set.has(c));
    if (best.length === 1) break;
  }
  return best;
}

/** The check mode: both orders of two choices called independent reach one state, neither disabling the other. */
function checkPair(run: ScenarioRun, snap: RunSnapshot, a: number, b: number, where: number[]): void {
  const order = (x: number, y: number): string => {
    run.restore(snap);
    advance(run, x);
    if (!run.runnable().includes(y)) throw new IndependenceError(`P${x}'s step disables P${y}'s after schedule [${where.join(',')}]`);
    advance(run, y);
    return hash(run);
  };
  if (order(a, b) !== order(b, a)) throw new IndependenceError(`P${a} and P${b} called independent but their two orders differ after schedule [${where.join(',')}]`);
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
export function advance(run: ScenarioRun, pid: number): number {
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
  const reduction = opts.reduction !== false;
  const left = new FutureStatements(scenario);
  let pruned = 0;
  const seen = new Set<string>([hash(run)]);
  let frontier: Frontier[] = [{ snap: run.snapshot(), schedule: [] }];
  let transitions = 0;
  let complete = 0;
  let violation: Violation | null = null;
  let exhausted = true;
  const result = async (): Promise<ExploreResult> => {
    run.kernel.close();
    if (violation) {
      // Breadth-first over every interleaving gives a shortest schedule; over the reduced graph, only a
      // short one: shorten it so the debugger replays few steps.
      violation.shortest = pruned === 0;
      if (pruned > 0) violation.schedule = await shorten(scenario, violation, opts);
    }
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
      reduction,
      pruned,
    };
    return res;
  };
  while (frontier.length > 0) {
    const next: Frontier[] = [];
    for (const node of frontier) {
      run.restore(node.snap);
      const all = run.runnable();
      const choices = reduction ? persistentSet(run, all, left) : all;
      pruned += all.length - choices.length;
      if (reduction && opts.checkIndependence) {
        // Footprints of this state, taken before checkPair moves the run on.
        const commute = commuting(run, left);
        const next = new Map(all.map((pid) => [pid, left.next(run, pid)]));
        for (const [i, a] of all.entries()) {
          for (const b of all.slice(i + 1)) {
            if (!conflict(next.get(a)!, next.get(b)!, commute)) checkPair(run, node.snap, a, b, node.schedule);
          }
        }
        run.restore(node.snap);
      }
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
