/*
 * Runs a parsed scenario on the simulator. It owns what the scenario adds to the kernel: which statement
 * each process is at, the fd labels, the completed ops and the anomalies. Scheduling is the caller's:
 * step(pid) runs one micro-step, runStatement(pid) one statement, runDefault() the default schedule
 * (processes woken mid-statement first, in the order they were woken, then the lowest next line; each
 * statement to completion or until it blocks).
 */
import { resolveOptions } from './options';
import { SimEngine, KernelSnapshot, StepOutcome } from '../sim/engine';
import { createKernel } from '../sim/create';
import type { AnomalyKind, OpResult } from '../sim/events';
import { simLocks, simPipes, simProcesses, simQueues, simTables, simWakeView } from '../model/from-sim';
import type { Locks, Pipe, Process, WaitQueue } from '../model/model';
import { classifyStuck } from '../model/stuck';
import { OpCall } from '../sim/program';
import { Err, LockPolicy, Profile, SimOptions, errName } from '../sim/types';
import type { Scenario, Statement } from './ast';
import { blobJson, showBytes } from './bytes';
import { unmetExpectation } from './expect';
import { MinHeap } from './heap';
import { bytesDigest } from './bytes';

export interface OpRecord {
  line: number;
  pid: number;
  op: string;
  result: OpResult;
  error: string | null;
  /** What a read returned, in literal syntax (its first 48 bytes). */
  data?: string;
  /** A read of more than 48 bytes: the first 16 hex digits of the SHA-256 of all it got. */
  digest?: string;
  /** A pipe: the dataId it made (how a comparison with another kernel names the pipe). */
  dataId?: number;
  /**
   * A real kernel's run: how many statements had been handed out when it completed. Ops completing in
   * one round ran concurrently (woken by one event), in an order the scheduler chose.
   */
  round?: number;
  /** A real kernel's run: the round it was handed out in (in flight from then until `round`). */
  given?: number;
}

export interface Anomaly {
  kind: AnomalyKind;
  line: number;
  pid: number;
  message: string;
}

/** A process at the end of a run: the model's, and the statement it is inside (its line and micro-step). */
export interface RunProcess extends Process {
  inside: { op: string; line: number; step: string } | null;
}

/**
 * A run's outcome, in the model's types (core/model/model.ts) whichever kernel ran it: the simulator
 * (ScenarioRun.result) or a real one (core/kernel-output/run-result.ts). `--json` writes it in the contract's
 * shape (run-json.ts), the only place its queues become strings.
 */
export interface RunResult {
  file: string;
  /** companion-kernel, upstream-kernel: the result of a real kernel (sqliteos run --on). */
  profile: Profile | 'companion-kernel' | 'upstream-kernel';
  locks: LockPolicy;
  capacity: number;
  ok: boolean;
  ops: OpRecord[];
  tables: Record<string, Record<string, unknown>[]>;
  /** Tables a real kernel could not show at the end (a writer held PENDING: they read "busy"), left empty. */
  unreadable?: string[];
  /**
   * A real kernel's rows of processes and pipes outside the scenario (the guest's own programs, other
   * users'), left out of `tables`: how many, per table. Rows of the scenario's pipes are never left out.
   */
  outside?: Record<string, number>;
  /**
   * A simulator run's (watchQueries()): per query statement (`pid:line`), the rows its SQL returns on the
   * committed tables as the run went on (at each statement's end and each commit), each change with the
   * number of statements completed by then.
   * How a comparison checks a query that a real kernel ran among other work: its rows must be the
   * tables at some point of that work here.
   */
  queryTimeline?: Record<string, QueryTimeline>;
  pipes: Pipe[];
  processes: RunProcess[];
  /** The locks at the end (not `locks`, which names the lock policy); null where the kernel shows none (`hidden`). */
  lockState: Locks | null;
  /** What this run's kernel cannot show (the published kernel: lock state, pipe ends), and why. */
  hidden?: string;
  queues: WaitQueue[];
  anomalies: Anomaly[];
}

export interface QueryTimeline {
  sql: string;
  /** `done`: statements completed when the SQL returned these rows (0: before any). */
  rows: { done: number; rows: OpResult }[];
}

export interface RunSnapshot {
  kernel: KernelSnapshot;
  labels: Record<string, number>;
  ops: OpRecord[];
  anomalies: Anomaly[];
}

/** Options from the command line or settings win over the file's own directives. */
/** The CLI's case of resolveOptions: its flags over the file's @ lines over the defaults. */
export function optionsFor(s: Scenario, over: Partial<SimOptions> = {}): SimOptions {
  return resolveOptions({ overrides: over, file: s });
}

/** Added to a process's line when it is in the middle of a statement, so it runs first. */
const MID_STATEMENT = 1e9;

export class ScenarioRun {
  private readonly byPid = new Map<number, Statement[]>();
  labels: Record<string, number> = {};
  ops: OpRecord[] = [];
  /** Runnable processes by next line; kept up to date from wake-ups, spawns and steps. */
  private readonly ready = new MinHeap();
  anomalies: Anomaly[] = [];
  /** The default schedule gives up after this many micro-steps (a guard, far above any real scenario). */
  maxSteps = 50_000_000;
  /** Set by watchQueries(); the committed version it last recorded. */
  private queryTimeline?: Record<string, QueryTimeline>;
  private timelineVersion = -1;

  static async create(scenario: Scenario, over: Partial<SimOptions> = {}): Promise<ScenarioRun> {
    return new ScenarioRun(scenario, await createKernel(optionsFor(scenario, over)));
  }

  constructor(
    readonly scenario: Scenario,
    readonly kernel: SimEngine,
  ) {
    for (const pid of scenario.pids) this.byPid.set(pid, []);
    for (const s of scenario.statements) this.byPid.get(s.pid)!.push(s);
    kernel.boot(1);
    kernel.on((e) => {
      if (e.type === 'anomaly') this.anomalies.push({ kind: e.kind, line: e.line, pid: e.pid, message: e.message });
      else if (e.type === 'wake') this.offer(e.target);
    });
    this.offer(1);
  }

  statementsOf(pid: number): Statement[] {
    return this.byPid.get(pid) ?? [];
  }

  /** The statement a process is running or will start next. */
  nextStatement(pid: number): Statement | undefined {
    const p = this.kernel.state.procs[pid];
    if (!p || p.status === 'exited') return undefined;
    const list = this.statementsOf(pid);
    return p.current ? list[p.current.index] : list[p.next];
  }

  /**
   * A runnable process's place in the default schedule: one woken in the middle of a statement goes
   * before any that would start a new one (the system is quiescent before the next statement starts,
   * as on a real kernel), and those in the order they were woken (Linux runs tasks woken after a long
   * sleep in that order: a reader woken by a writer's unlock before the task its mutex release wakes);
   * the rest by line. undefined when it cannot run.
   */
  private priority(pid: number): number | undefined {
    const p = this.kernel.state.procs[pid];
    const s = p && p.status === 'runnable' ? this.nextStatement(pid) : undefined;
    return s && (p.current ? p.wokenAt - MID_STATEMENT : s.line);
  }

  /** Queues a process for the default schedule if it can run; stale entries are dropped when met. */
  private offer(pid: number): void {
    const at = this.priority(pid);
    if (at !== undefined) this.ready.push(at, pid);
  }

  private rebuildReady(): void {
    this.ready.clear();
    for (const pid of Object.keys(this.kernel.state.procs)) this.offer(Number(pid));
  }

  /**
   * The process the default schedule runs next: one woken in the middle of its statement, else the
   * runnable one with the lowest next line.
   */
  nextRunnable(): number | undefined {
    for (;;) {
      const top = this.ready.peek();
      if (!top) return undefined;
      const [at, pid] = top;
      if (this.priority(pid) === at) return pid;
      this.ready.pop();
    }
  }

  /** Processes that can take a step now, lowest next line first. */
  runnable(): number[] {
    return Object.values(this.kernel.state.procs)
      .filter((p) => p.status === 'runnable' && this.nextStatement(p.pid) !== undefined)
      .sort((a, b) => this.nextStatement(a.pid)!.line - this.nextStatement(b.pid)!.line)
      .map((p) => p.pid);
  }

  private callFor(s: Statement): OpCall | string {
    const fd = (name: string): number | string => this.labels[name] ?? `fd label '${name}' is not bound yet: its pipe has not run`;
    switch (s.op) {
      case 'pipe':
        return s.nonblock ? { op: 'pipe', nonblock: true } : { op: 'pipe' };
      case 'fork':
      case 'thread':
        return { op: s.op, child: s.child };
      case 'write': {
        const f = fd(s.fd.name);
        return typeof f === 'string' ? f : { op: 'write', fd: f, bytes: s.data.bytes };
      }
      case 'read': {
        const f = fd(s.fd.name);
        return typeof f === 'string' ? f : { op: 'read', fd: f, n: s.n };
      }
      case 'close': {
        const f = fd(s.fd.name);
        return typeof f === 'string' ? f : { op: 'close', fd: f };
      }
      case 'query':
        return { op: 'query', sql: s.sql };
      case 'begin':
        return s.write ? { op: 'begin', write: true } : { op: 'begin' };
      case 'savepoint':
      case 'release':
      case 'rollback_to':
        return { op: s.op, name: s.name.name };
      default:
        return { op: s.op };
    }
  }

  /** One micro-step of the process: starts its next statement first if it is between statements. */
  step(pid: number): StepOutcome {
    const p = this.kernel.proc(pid);
    let started = false;
    if (!p.current) {
      const s = this.statementsOf(pid)[p.next];
      if (!s) throw new Error(`P${pid} has no statement left`);
      const call = this.callFor(s);
      if (typeof call === 'string') {
        p.next++;
        this.complete(s, { kind: 'done', result: Err.EBADF, error: `EBADF (-9): ${call}` });
        this.offer(pid);
        return { kind: 'done', result: Err.EBADF, error: call };
      }
      this.kernel.start(pid, call, s.line, p.next);
      p.next++;
      started = true;
    }
    const index = p.current!.index;
    const out = this.kernel.stepOnce(pid);
    if (out.kind === 'done') this.complete(this.statementsOf(pid)[index], out);
    // A commit in the middle of a statement (a write's first chunk before it sleeps, jobs kept for the mutex).
    else if (this.queryTimeline && this.kernel.db.committedVersion !== this.timelineVersion) this.recordQueries();
    // A statement begun or ended changes the process's place in the default schedule.
    if (started || out.kind !== 'continue') this.offer(pid);
    return out;
  }

  /** From now on, each completed statement records what every query of the scenario would return (RunResult.queryTimeline). */
  watchQueries(): void {
    this.queryTimeline = {};
    this.recordQueries();
  }

  private recordQueries(): void {
    this.timelineVersion = this.kernel.db.committedVersion;
    for (const s of this.scenario.statements) {
      if (s.op !== 'query') continue;
      let rows: OpResult;
      try {
        rows = this.kernel.db.queryReadOnly(s.sql).rows as OpResult;
      } catch {
        continue; // bad SQL: the statement's own result says so
      }
      const t = (this.queryTimeline![`${s.pid}:${s.line}`] ??= { sql: s.sql, rows: [] });
      const last = t.rows[t.rows.length - 1];
      if (!last || JSON.stringify(last.rows) !== JSON.stringify(rows)) t.rows.push({ done: this.ops.length, rows });
    }
  }

  private complete(s: Statement, out: Extract<StepOutcome, { kind: 'done' }>): void {
    const failed = typeof out.result === 'number' && out.result < 0;
    const rec: OpRecord = { line: s.line, pid: s.pid, op: s.op, result: out.result, error: out.error ?? (failed ? errName(out.result as number) : null) };
    if (out.data) {
      rec.data = showBytes(out.data);
      if (out.data.length > 48) rec.digest = bytesDigest(out.data);
    }
    this.ops.push(rec);
    if ((s.op === 'fork' || s.op === 'thread') && out.result === s.child) this.offer(s.child);
    if (s.op === 'pipe' && Array.isArray(out.result)) {
      this.labels[s.read.name] = out.result[0] as number;
      this.labels[s.write.name] = out.result[1] as number;
      const id = this.kernel.fdEntry(this.kernel.proc(s.pid), out.result[0] as number)?.dataId;
      if (id !== undefined) rec.dataId = id;
    }
    const unmet = unmetExpectation(s, out.result, rec.error, out.data);
    if (unmet) this.addAnomaly('expectation', s, unmet);
    if (this.queryTimeline) this.recordQueries();
  }

  private addAnomaly(kind: AnomalyKind, s: { line: number; pid: number }, message: string): void {
    this.kernel.emit({ type: 'anomaly', pid: s.pid, line: s.line, kind, message });
  }

  /** Runs a statement to completion or until the process blocks. */
  runStatement(pid: number): StepOutcome {
    for (;;) {
      const out = this.step(pid);
      if (out.kind !== 'continue') return out;
    }
  }

  /** The default schedule, to the end: afterwards every process is exited, idle or blocked for good. */
  runDefault(): void {
    let steps = 0;
    for (;;) {
      const next = this.nextRunnable();
      if (next === undefined) break;
      for (;;) {
        const out = this.step(next);
        if (++steps > this.maxSteps) {
          this.addAnomaly('error', { line: this.nextStatement(next)?.line ?? 0, pid: next }, `gave up after ${this.maxSteps} micro-steps`);
          return;
        }
        if (out.kind !== 'continue') break;
      }
    }
  }

  /** Blocked processes once nothing can run: each is a deadlock, or a lost wake-up if its condition holds. */
  stuck(): Anomaly[] {
    if (this.nextRunnable() !== undefined) return [];
    const blocked = Object.values(this.kernel.state.procs).filter((p) => p.status === 'blocked');
    if (!blocked.length) return [];
    const view = simWakeView(this.kernel);
    return blocked.map((p) => classifyStuck(p.pid, p.waitingOn!, this.nextStatement(p.pid), view));
  }

  result(): RunResult {
    const anomalies = [...this.anomalies, ...this.stuck()];
    const k = this.kernel;
    const tbl: RunResult['tables'] = {};
    for (const t of simTables(k)) {
      tbl[t.name] = t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i] instanceof Uint8Array ? blobJson(r[i] as Uint8Array) : r[i]])));
    }
    const inside = (pid: number): RunProcess['inside'] => {
      const c = k.state.procs[pid].current;
      return c ? { op: c.op, line: c.line, step: c.step } : null;
    };
    return {
      file: this.scenario.file,
      profile: k.opts.profile,
      locks: k.opts.locks,
      capacity: k.opts.capacity,
      ok: anomalies.length === 0,
      ops: this.ops,
      tables: tbl,
      pipes: simPipes(k),
      processes: simProcesses(k).map((p) => ({ ...p, inside: inside(p.pid) })),
      lockState: simLocks(k),
      queues: simQueues(k),
      anomalies,
      ...(this.queryTimeline ? { queryTimeline: this.queryTimeline } : {}),
    };
  }

  snapshot(): RunSnapshot {
    return { kernel: this.kernel.snapshot(), labels: { ...this.labels }, ops: this.ops.slice(), anomalies: this.anomalies.slice() };
  }

  restore(s: RunSnapshot): void {
    this.kernel.restore(s.kernel);
    this.labels = { ...s.labels };
    this.ops = s.ops.slice();
    this.anomalies = s.anomalies.slice();
    this.rebuildReady();
  }
}
