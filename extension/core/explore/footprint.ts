/*
 * What a process's steps touch, for the explorer's partial-order reduction (persistent sets, Godefroid
 * 1996, chapter 4). A footprint is a set of resources; two footprints conflict when they share one.
 * Resources, by what they stand for in the simulated kernel:
 *   pipe:NAME  one pipe's rows (pipe_data, pipe_chunk, its pid_pipe rows), counts, EOF state and wait
 *              queues; NAME is the read label of the statement that makes it, so a pipe not made yet
 *              has its name already and every order of the other processes' steps names it the same
 *   fds:H      the fd table of handler H (its pid_pipe rows)
 *   pid:N      process N's pid_store row
 *   alloc      the ids a new pipe takes (pipe_data's rowid, the wait queue ids)
 *   cs         the global write mutex, the store's lock levels, connections and wait queues, the kept
 *              jobs: every step that takes the mutex. See quiet().
 *   *          everything (a query or a transaction reads the whole store; threads share a table whose
 *              future this module does not follow)
 * Footprints are computed per statement, over-approximating each of its micro-steps; a process's future
 * is the union over its remaining statements and over everything its forks will run.
 */
import type { Scenario, Statement } from '../scenario/ast';
import type { ScenarioRun } from '../scenario/runner';
import { TXN_OPS } from '../sim/program';
import { pipeLabels, scenarioQueries } from './canonical';

export type Footprint = Set<string>;

const ALL = '*';

/**
 * Whether the critical sections of different processes commute from this state on: nobody holds or waits
 * for the mutex or a lock level, no job is kept, no transaction is open and no statement left (of any
 * process, made yet or not) opens one or queries. Then the explorer runs each critical section as one
 * transition (nobody could see inside it), each starts and ends with the mutex free and the store
 * unlocked, and two of them on footprints that do not otherwise conflict give the same state in either
 * order. The condition only gets truer as statements are used up.
 */
export function quiet(run: ScenarioRun, left: FutureStatements): boolean {
  const s = run.kernel.state;
  if (s.mutex.owner !== null || s.mutex.waiters.length > 0 || s.deferred.length > 0) return false;
  const st = s.store;
  if (st.numReaders > 0 || st.readQ.length > 0 || st.writeQ.length > 0 || st.conns.length > 0) return false;
  for (const p of Object.values(s.procs)) if (p.txnConn !== null) return false;
  return !left.observers(run);
}

/** The scenario's statements, read ahead of the run (each process's own list is the runner's). */
export class FutureStatements {
  /** A label -> the pipe statement that names it. */
  private readonly pipeOf = new Map<string, Extract<Statement, { op: 'pipe' }>>();

  constructor(readonly scenario: Scenario) {
    for (const s of scenario.statements) {
      if (s.op === 'pipe') {
        this.pipeOf.set(s.read.name, s);
        this.pipeOf.set(s.write.name, s);
      }
    }
  }

  /** Whether a statement left (of a process made or still to be made) queries or opens a transaction. */
  observers(run: ScenarioRun): boolean {
    for (const pid of this.scenario.pids) {
      const list = run.statementsOf(pid);
      for (let i = this.firstLeft(run, pid); i < list.length; i++) {
        const op = list[i].op;
        if (op === 'query' || TXN_OPS.has(op)) return true;
      }
    }
    return false;
  }

  /** The index of the first statement a process has not finished; 0 for one not made yet, past the end for one gone. */
  private firstLeft(run: ScenarioRun, pid: number): number {
    const p = run.kernel.state.procs[pid];
    if (!p) return 0;
    if (p.status === 'exited') return Infinity;
    return p.current ? p.current.index : p.next;
  }

  /**
   * The pipe resource a label names, or ALL where the state does not say for sure. `busy` is the pipe
   * the statement in progress already works on (its fd may have left the table: a close).
   */
  private pipeResource(run: ScenarioRun, label: string, table: number | null, busy?: number): string {
    const made = this.pipeOf.get(label);
    if (!made) return ALL;
    const name = `pipe:${made.read.name}`;
    const fd = run.labels[label];
    // Not made yet: the fd will name the new pipe (labels name one pipe each).
    if (fd === undefined) return name;
    if (table === null) return ALL;
    const id = run.kernel.state.handlers[table]?.fds[fd]?.dataId ?? busy;
    // No such end: EBADF, which touches no pipe (the name is more than it needs).
    if (id === undefined) return name;
    return `pipe:${pipeLabels(run).get(id)}` === name ? name : ALL;
  }

  /** The pipe names of every end in a handler's table; ALL for an end of a pipe no statement made. */
  private heldPipes(run: ScenarioRun, handler: number): string[] {
    const labels = pipeLabels(run);
    return Object.values(run.kernel.state.handlers[handler]?.fds ?? {}).map((e) => {
      const label = labels.get(e.dataId);
      return label === undefined ? ALL : `pipe:${label}`;
    });
  }

  /**
   * The footprint of `list[from..to)` run by `pid` with fd table `handler`. `table` is a handler whose
   * fd numbers still mean for this process what they mean now (null once the walk can no longer tell: a
   * pipe made in the walk takes the lowest free fds, which a bound label may name); `held` the pipes it
   * holds or may hold an end of. Forks are followed into the child's statements.
   */
  private walk(run: ScenarioRun, pid: number, handler: number, table: number | null, held: string[], from: number, to: number, out: Footprint, busy?: number): void {
    const list = run.statementsOf(pid);
    for (let i = from; i < Math.min(to, list.length); i++) {
      const s = list[i];
      if (i > from) busy = undefined;
      switch (s.op) {
        case 'pipe':
          out.add('alloc').add(`fds:${handler}`).add('cs').add(`pipe:${s.read.name}`);
          held.push(`pipe:${s.read.name}`);
          table = null;
          break;
        case 'read':
        case 'write':
        case 'close':
          // After a close the label's fd is free, but only a pipe made later can take it (no dup here).
          out.add(`fds:${handler}`).add('cs').add(this.pipeResource(run, s.fd.name, table, busy));
          break;
        case 'fork':
          out.add(`fds:${handler}`).add(`pid:${s.child}`).add('cs');
          for (const r of held) out.add(r);
          // The child starts with a copy of this table and runs all its statements.
          this.walk(run, s.child, s.child, table, held.slice(), 0, Infinity, out);
          break;
        case 'exit':
          out.add(`pid:${pid}`).add(`fds:${handler}`).add('cs');
          for (const r of held) out.add(r);
          break;
        case 'query':
        case 'begin':
        case 'commit':
        case 'rollback':
        case 'savepoint':
        case 'release':
        case 'rollback_to':
          // The whole store, under its lock levels; quiet() is false while any is left, so 'cs' conflicts.
          out.add('cs');
          break;
        default:
          // thread: a table shared from here on
          out.add(ALL);
      }
      if (out.has(ALL)) return;
    }
  }

  /** What `pid`'s statement in progress (or next) touches. */
  next(run: ScenarioRun, pid: number): Footprint {
    return this.of(run, pid, 1);
  }

  /** What `pid` and every process it will make touch from here to their ends. */
  future(run: ScenarioRun, pid: number): Footprint {
    return this.of(run, pid, Infinity);
  }

  private of(run: ScenarioRun, pid: number, count: number): Footprint {
    const out: Footprint = new Set();
    const p = run.kernel.state.procs[pid];
    if (!p || p.status === 'exited') return out;
    // A table shared with a thread changes under the walk: not followed.
    if (run.kernel.state.handlers[p.handler].users.length > 1) return out.add(ALL);
    const from = this.firstLeft(run, pid);
    const busy = p.current?.locals.dataId;
    this.walk(run, pid, p.handler, p.handler, this.heldPipes(run, p.handler), from, from + count, out, typeof busy === 'number' ? busy : undefined);
    return out;
  }
}

/**
 * The resources whose uses by different processes commute from this state on: the critical sections
 * when quiet(), and then also the ids a new pipe takes where the state key names pipes by the statement
 * that made them (canonical.ts: no query in the scenario), since two pipes made in either order then
 * give one state.
 */
export function commuting(run: ScenarioRun, left: FutureStatements): Set<string> {
  if (!quiet(run, left)) return new Set();
  return scenarioQueries(left.scenario) ? new Set(['cs']) : new Set(['cs', 'alloc']);
}

/** Whether two footprints share a resource other than the commuting ones. */
export function conflict(a: Footprint, b: Footprint, commute: Set<string>): boolean {
  if (a.has(ALL) && b.size > 0) return true;
  if (b.has(ALL) && a.size > 0) return true;
  for (const r of a) if (b.has(r) && !commute.has(r)) return true;
  return false;
}
