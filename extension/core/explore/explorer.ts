/*
 * The interleaving explorer: breadth-first over the schedules of a scenario's processes, one micro-step
 * at a time at the points where a real kernel could switch tasks (the mutex, BEGIN/COMMIT, lock level
 * changes, SQL statements, sleeps and wake-ups; steps between them run on without a switch; a critical
 * section under the global write mutex is one step unless a lock-free reader could see inside it). Equal states
 * are visited once. Unless `reduction: false` (the full search, the oracle), four reductions apply:
 *  - canonical states (canonical.ts): states that differ only in orders and names nothing to come can
 *    tell apart are one state; the full search keys states exactly;
 *  - steps that commute with every other process's steps (unseen(): an SQL statement of the open write
 *    transaction, a lookup in an unshared fd table, ...) make no switch point and need none after them;
 *  - persistent sets (footprint.ts): at each state only some of the runnable processes are tried;
 *  - sleep sets (Godefroid 1996, chapter 5): a process whose next step commutes with a sibling choice
 *    already tried is not tried again after it; a state met again with a smaller sleep set is expanded
 *    for what it slept on before.
 * Breadth-first over every interleaving gives a shortest schedule to the first violation; the reduced
 * search's is shortened (shorten.ts). The debug adapter replays either.
 */
import type { AnomalyKind } from '../sim/events';
import { type OpName, TXN_OPS } from '../sim/program';
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
  /** Choices left out because they were asleep: tried already in an order they commute with (0 without reduction). */
  slept: number;
  /** everyViolation: every violation kind and line met, by line, each with its first schedule (the search went on past each, not into it). */
  violations?: Violation[];
}

export interface ExploreOptions extends Partial<SimOptions> {
  maxStates?: number;
  /** false: every runnable process at every state, today's full search (the oracle). */
  reduction?: boolean;
  /**
   * Search on past a violation (not into the state it left) to the end or --max-states, and report every
   * kind and line met in `violations`; `violation` stays the first. For the oracle's comparisons: a
   * scenario with two violations may show either first, by the order each search tries things.
   */
  everyViolation?: boolean;
  /** With everyViolation: the search ends at the first violation this accepts (minimize.ts looks for one). */
  stopWhen?: (v: Violation) => boolean;
  /** false: the reduced search's schedules are left as found, not shortened (minimize.ts's many searches). */
  shorten?: boolean;
  /** false: the reduction without persistent sets (sleep sets and the rest still apply): to measure each alone. */
  persistentSets?: boolean;
  /** false: the reduction without sleep sets, likewise. */
  sleepSets?: boolean;
  /**
   * Also runs both orders of every two choices the reduction calls independent at each state and
   * throws if they end in different states or one disables the other (slow: for tests).
   */
  checkIndependence?: boolean;
}

/** What the reduced search must keep of the full one: the violation (kind, line; with everyViolation every one), whether every state was seen, the end states. */
export function verdict(r: ExploreResult) {
  if (r.violations) return { violations: r.violations.map((v) => `${v.kind} at line ${v.line}`), exhausted: r.exhausted, complete: r.complete };
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
    advance(run, x, true);
    if (!run.runnable().includes(y)) throw new IndependenceError(`P${x}'s step disables P${y}'s after schedule [${where.join(',')}]`);
    advance(run, y, true);
    return hash(run);
  };
  if (order(a, b) !== order(b, a)) throw new IndependenceError(`P${a} and P${b} called independent but their two orders differ after schedule [${where.join(',')}]`);
}

/** The check mode's test of unseen(): `u`'s next step and `q`'s next transition, in either order, reach one state. */
function checkUnseen(run: ScenarioRun, snap: RunSnapshot, u: number, q: number, where: number[]): void {
  const at = `after schedule [${where.join(',')}] and part of P${u}'s next transition`;
  run.restore(snap);
  run.step(u);
  if (!run.runnable().includes(q)) throw new IndependenceError(`P${u}'s unseen step disables P${q} ${at}`);
  advance(run, q, true);
  const first = hash(run);
  run.restore(snap);
  advance(run, q, true);
  if (!run.runnable().includes(u) || !unseen(run, u)) throw new IndependenceError(`P${q}'s step changes or disables P${u}'s unseen step ${at}`);
  run.step(u);
  if (hash(run) !== first) throw new IndependenceError(`P${u}'s step called unseen, but it and P${q}'s step differ in their two orders ${at}`);
}

const READER_OPS = new Set(['query', ...TXN_OPS]);

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

/**
 * Whether the step `pid` runs next commutes with every step of every other process (Lipton's
 * both-movers), as the reduced search may assume: a step that says so of itself (Step.unseen), and an SQL
 * statement of the process holding the open write transaction (its rows are its own until it commits:
 * readers see committed rows only, sim/db.ts).
 */
function unseen(run: ScenarioRun, pid: number): boolean {
  const k = run.kernel;
  const p = k.state.procs[pid];
  // Between statements, the next one's first step; a label not bound yet (its pipe is still to be made,
  // by whoever) ends the statement at once, EBADF, in an order others decide.
  const s = p.current ? undefined : run.nextStatement(pid);
  if (s && 'fd' in s && run.labels[s.fd.name] === undefined) return false;
  const op = p.current?.op ?? s?.op;
  const step = op && k.program(op as OpName).at(p.current?.step ?? k.program(op as OpName).first);
  // A guarded step may be passed over for the next, whose guard reads the state then: not vouched for.
  if (!step || step.when) return false;
  return (step.kind === 'sql' && k.db.writer === pid) || (step.unseen?.(k, p) ?? false);
}

/**
 * Runs `pid` on to its next switch point (or the end of its statement, or a sleep); returns the steps
 * taken. `reduced`: steps that commute with everything (unseen()) neither make a switch point nor need
 * one after them: a switch falls only before a step others can see, once one has run in this transition.
 */
export function advance(run: ScenarioRun, pid: number, reduced = false, onUnseen?: () => void): number {
  let shown = !reduced;
  // Each time unseen() decides, the check mode tests its word where the run then stands (onUnseen leaves it there).
  const vouched = (): boolean => {
    const yes = unseen(run, pid);
    if (yes) onUnseen?.();
    return yes;
  };
  // Past a switch point on an unseen step's word, the steps the full search runs with it (up to its next
  // switch point) must be unseen too; the first that is not gets the switch point instead (the unseen
  // step before it commutes with everything, so a switch after it is the switch before it).
  let moved = false;
  for (let n = 1; ; n++) {
    if (!shown && !vouched()) shown = true;
    const out = run.step(pid);
    if (out.kind !== 'continue') return n;
    if (run.kernel.state.mutex.owner === pid && !observed(run, pid)) continue;
    const p = run.kernel.state.procs[pid];
    const step = p.current && run.kernel.programOf(p).at(p.current.step);
    if (!step) return n;
    if (!SWITCH_KINDS.has(step.kind) || step.local) {
      if (moved && !step.local && !vouched()) return n;
      continue;
    }
    moved = false;
    if (shown && !(reduced && vouched())) return n;
    moved = shown;
  }
}

interface Frontier {
  snap: RunSnapshot;
  schedule: number[];
  /** The processes asleep here: their next steps commute with an order already tried. */
  sleep: Set<number>;
  /** A state met again with a smaller sleep set: only these choices are left to try (the rest were tried). */
  only?: Set<number>;
  key: string;
}

/** Whether two processes' next steps commute here (never in the published profile: no footprints). */
function independent(run: ScenarioRun, left: FutureStatements, commute: Set<string>, a: number, b: number): boolean {
  return run.kernel.opts.profile === 'companion' && !conflict(left.next(run, a), left.next(run, b), commute);
}

export async function explore(scenario: Scenario, opts: ExploreOptions = {}): Promise<ExploreResult> {
  const t0 = performance.now();
  const maxStates = opts.maxStates ?? 50000;
  const run = await ScenarioRun.create(scenario, opts);
  const reduction = opts.reduction !== false;
  const left = new FutureStatements(scenario);
  let pruned = 0;
  let slept = 0;
  const key = () => hash(run, !reduction);
  /** Each state met -> the sleep set it was (or will be) expanded with. */
  const seen = new Map<string, Set<number>>();
  let frontier: Frontier[] = [{ snap: run.snapshot(), schedule: [], sleep: new Set(), key: key() }];
  seen.set(frontier[0].key, frontier[0].sleep);
  /** States whose expansion has begun: one met again after it needs a node of its own for what it missed. */
  const expanded = new Set<string>();
  let transitions = 0;
  /** End states, counted by their canonical keys (the full search's exact keys split equal ones). */
  const ends = new Set<string>();
  /** Each kind and line met, first schedule kept (more than one only with everyViolation). */
  const violations = new Map<string, Violation>();
  /** A violation met: true when the search ends at it, false when it goes on past it (everyViolation). */
  const meet = (v: Violation): boolean => {
    violation ??= v;
    if (!violations.has(`${v.kind}:${v.line}`)) violations.set(`${v.kind}:${v.line}`, v);
    if (!opts.everyViolation) return true;
    if (opts.stopWhen?.(v) !== true) return false;
    exhausted = false;
    return true;
  };
  let violation: Violation | null = null;
  let exhausted = true;
  // The check mode: every step the reduced search runs on through as unseen, tried against each other process's next transition.
  const checkUnseenOf = (pid: number, where: number[]) =>
    reduction && opts.checkIndependence
      ? () => {
          const snap = run.snapshot();
          for (const q of run.runnable()) if (q !== pid) checkUnseen(run, snap, pid, q, where);
          run.restore(snap);
        }
      : undefined;
  const result = async (): Promise<ExploreResult> => {
    run.kernel.close();
    // Breadth-first over every interleaving gives a shortest schedule; over the reduced graph (merged
    // steps, states left out), only a short one: shorten it so the debugger replays few steps.
    for (const v of violations.values()) {
      v.shortest = !reduction;
      if (reduction && opts.shorten !== false) v.schedule = await shorten(scenario, v, opts);
    }
    const res: ExploreResult = {
      ok: violation === null,
      profile: run.kernel.opts.profile,
      locks: run.kernel.opts.locks,
      states: seen.size,
      transitions,
      complete: ends.size,
      exhausted: exhausted && (violation === null || opts.everyViolation === true),
      ms: performance.now() - t0,
      violation,
      reduction,
      pruned,
      slept,
    };
    if (opts.everyViolation) res.violations = [...violations.values()].sort((a, b) => a.line - b.line || (a.kind < b.kind ? -1 : 1));
    return res;
  };
  while (frontier.length > 0) {
    const next: Frontier[] = [];
    for (const node of frontier) {
      expanded.add(node.key);
      run.restore(node.snap);
      const all = run.runnable();
      const persistent = reduction && opts.persistentSets !== false ? persistentSet(run, all, left) : all;
      pruned += node.only ? 0 : all.length - persistent.length;
      const choices = persistent.filter((pid) => !node.sleep.has(pid) && (!node.only || node.only.has(pid)));
      slept += node.only ? 0 : persistent.length - choices.length;
      // Sleep sets are computed before any choice moves the run on.
      const commute = reduction && opts.sleepSets !== false && (choices.length > 1 || node.sleep.size > 0) ? commuting(run, left) : null;
      const childSleep = choices.map((pid, i) => {
        const out = new Set<number>();
        if (!commute) return out;
        for (const q of [...node.sleep, ...choices.slice(0, i)]) if (independent(run, left, commute, q, pid)) out.add(q);
        return out;
      });
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
      if (all.length === 0) {
        const stuck = run.stuck();
        if (stuck.length > 0) {
          // Each sleeper is its own violation (another's wait can hide a lost wake-up behind a deadlock).
          for (const a of stuck) if (meet({ kind: a.kind, line: a.line, message: a.message, schedule: node.schedule })) return result();
          continue;
        }
        ends.add(hash(run));
        continue;
      }
      for (const [i, pid] of choices.entries()) {
        // The first choice starts from the state just restored (runnable() only reads it).
        if (i > 0) run.restore(node.snap);
        const before = run.anomalies.length;
        const steps = advance(run, pid, reduction, checkUnseenOf(pid, node.schedule));
        transitions++;
        const schedule = node.schedule.concat(Array<number>(steps).fill(pid));
        if (run.anomalies.length > before) {
          const a = run.anomalies[before];
          if (meet({ kind: a.kind, line: a.line, message: a.message, schedule })) return result();
          continue;
        }
        const h = key();
        const sleep = childSleep[i];
        const had = seen.get(h);
        if (had) {
          // Met again: what it slept on then but not now was never tried from it. Try that, and keep
          // the smaller sleep set (a state not expanded yet shares its set object with its frontier node).
          const missed = [...had].filter((q) => !sleep.has(q));
          if (missed.length === 0) continue;
          for (const q of missed) had.delete(q);
          if (!expanded.has(h)) continue;
          next.push({ snap: run.snapshot(), schedule, sleep: new Set(had), only: new Set(missed), key: h });
          continue;
        }
        seen.set(h, sleep);
        if (seen.size >= maxStates) {
          exhausted = false;
          return result();
        }
        next.push({ snap: run.snapshot(), schedule, sleep, key: h });
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
