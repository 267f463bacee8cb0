/*
 * The simulated kernel: its state, the engine that runs syscall programs one micro-step at a time, and the
 * primitives the programs are made of (the global write mutex, connections and lock levels, wait queues,
 * sleeping and waking). It decides nothing about scheduling: callers choose which process steps next
 * (the scenario runner's default schedule, the debug adapter, the explorer).
 */
import { AnomalyKind, Listener, OpResult, SimEvent } from './events';
import { checkInvariants, lock, newStore, unlock } from './locks';
import { Exec, Locals, OpCall, OpName, Program, SimProfile } from './program';
import { DbSnapshot, SimDb } from './db';
import { schemaFor } from './schema';
import { QueueId, queueName } from '../model/model';
import {
  Conn,
  FIRST_FD,
  FdEntry,
  Job,
  KernelState,
  Lock,
  ProcState,
  SimOptions,
  Waiter,
  cloneState,
} from './types';

export type StepOutcome =
  | { kind: 'continue' }
  | { kind: 'blocked'; on: QueueId }
  | { kind: 'done'; result: OpResult; error?: string; data?: Uint8Array };

export interface KernelSnapshot {
  state: KernelState;
  db: DbSnapshot;
  violations: string;
}

export class SimulatorError extends Error {}

export class SimEngine {
  state: KernelState;
  private listeners: Listener[] = [];
  private readonly programs: Record<OpName, Program>;
  /** The invariant violations last reported, so one broken state is reported once. */
  private violations = '';
  private lastOutcome: StepOutcome | null = null;

  /** The engine runs one profile's programs (sim/create.ts picks them: createKernel). */
  constructor(
    readonly opts: SimOptions,
    readonly db: SimDb,
    private readonly profile: SimProfile,
  ) {
    this.programs = profile.programs;
    db.execScript(schemaFor(opts.profile));
    this.state = {
      procs: {},
      handlers: {},
      pipes: {},
      store: newStore(),
      mutex: { owner: null, waiters: [] },
      nextConn: 1,
      nextQueueId: 1,
      deferred: [],
      counters: { syscalls: 0, steps: 0, sleeps: 0, wakeups: 0, bytesWritten: 0, bytesRead: 0, leakedConnections: 0 },
    };
  }

  // ---- listeners ----------------------------------------------------------------------------------

  on(l: Listener): () => void {
    this.listeners.push(l);
    return () => {
      this.listeners = this.listeners.filter((x) => x !== l);
    };
  }

  get listening(): boolean {
    return this.listeners.length > 0;
  }

  emit(e: SimEvent): void {
    for (const l of this.listeners) l(e);
  }

  private where(p: ProcState): { pid: number; line: number } {
    return { pid: p.pid, line: p.current?.line ?? 0 };
  }

  anomaly(p: ProcState | null, kind: AnomalyKind, message: string): void {
    this.emit({ pid: p?.pid ?? 0, line: p?.current?.line ?? 0, type: 'anomaly', kind, message });
  }

  // ---- processes ----------------------------------------------------------------------------------

  /** Creates the first process (pid_store row (pid, pid)), as boot leaves init. */
  boot(pid = 1): void {
    this.db.write('INSERT INTO pid_store(pid, parent_id) VALUES (?, ?)', [pid, pid]);
    this.state.handlers[pid] = { id: pid, fds: {}, users: [pid] };
    this.state.procs[pid] = newProc(pid, pid, 0);
  }

  proc(pid: number): ProcState {
    const p = this.state.procs[pid];
    if (!p) throw new SimulatorError(`no process P${pid}`);
    return p;
  }

  /** Kernel side of fork/clone: a new task with its own copy of the fd table, or sharing it. */
  spawn(parent: ProcState, child: number, shareFiles: boolean, copyFds: boolean): void {
    if (this.state.procs[child]) throw new SimulatorError(`P${child} already exists`);
    let handler = child;
    if (shareFiles) {
      handler = parent.handler;
      this.state.handlers[handler].users.push(child);
    } else {
      const fds: Record<number, FdEntry> = {};
      if (copyFds) {
        for (const [fd, e] of Object.entries(this.state.handlers[parent.handler].fds)) {
          fds[Number(fd)] = { ...e };
          this.adjustEnds(e, +1);
        }
      }
      this.state.handlers[child] = { id: child, fds, users: [child] };
    }
    this.state.procs[child] = newProc(child, handler, parent.pid);
  }

  adjustEnds(e: FdEntry, delta: number): void {
    const pipe = this.state.pipes[e.dataId];
    if (!pipe) return;
    if (e.end === 'r') pipe.readers += delta;
    else pipe.writers += delta;
  }

  /** The lowest free fd of the process's table, as get_unused_fd_flags picks it. */
  allocFd(p: ProcState, reserved: number[] = []): number {
    const h = this.state.handlers[p.handler];
    let fd = FIRST_FD;
    while (h.fds[fd] !== undefined || reserved.includes(fd) || h.reserved?.includes(fd)) fd++;
    return fd;
  }

  fdEntry(p: ProcState, fd: number): FdEntry | undefined {
    return this.state.handlers[p.handler]?.fds[fd];
  }

  // ---- the global write mutex -----------------------------------------------------------------------
  // Waiters queue in FIFO order. The published kernel's mutex is handed to the first waiter on release
  // (as a Linux mutex does once a waiter has waited). The companion kernel's (sql.c's wmutex) is freed
  // and its first waiter woken, which takes it only if nobody took it first (a task already running,
  // such as a woken reader) and otherwise queues again at the tail.

  /** Whether release hands the mutex to its first waiter (published) or frees it and wakes them (companion). */
  get mutexHandoff(): boolean {
    return this.opts.profile !== 'companion';
  }

  mutexLock(p: ProcState): boolean {
    const m = this.state.mutex;
    if (m.owner === null) {
      m.owner = p.pid;
      if (this.listening) this.emit({ ...this.where(p), type: 'mutex', action: 'acquire' });
      this.applyDeferred(p);
      return true;
    }
    if (m.owner === p.pid) {
      if (!p.txnWrite) throw new SimulatorError(`P${p.pid} locks the write mutex it already holds`);
      // 553(8)'s holder: the companion's mutex is recursive for it; the published one is a plain
      // mutex, so its holder's own pipe call or fork sleeps on it for ever (below).
      if (this.opts.profile === 'companion') {
        m.nested = (m.nested ?? 0) + 1;
        return true;
      }
    }
    m.waiters.push(p.pid);
    if (this.listening) this.emit({ ...this.where(p), type: 'mutex', action: 'wait' });
    return false;
  }

  mutexUnlock(p: ProcState): void {
    const m = this.state.mutex;
    if (m.owner !== p.pid) throw new SimulatorError(`P${p.pid} unlocks the write mutex held by ${m.owner === null ? 'nobody' : `P${m.owner}`}`);
    if (m.nested) {
      if (--m.nested === 0) delete m.nested;
      return;
    }
    this.applyDeferred(p);
    const next = m.waiters.shift();
    const handoff = next !== undefined && this.mutexHandoff;
    m.owner = handoff ? next : null;
    if (this.listening) this.emit({ ...this.where(p), type: 'mutex', action: handoff ? 'handoff' : 'release', to: next });
    if (next !== undefined) this.wakeProc(p, this.proc(next), { kind: 'mutex' });
  }

  // ---- companion bookkeeping jobs (sql.c's sqlos_job) -------------------------------------------------

  /**
   * Runs a job now if the write mutex is free (or the caller's) and the store can be written without
   * waiting (no reader holds it), after the jobs kept before it; otherwise keeps it, in order.
   */
  job(p: ProcState, job: Job): void {
    const owner = this.state.mutex.owner;
    const mine = owner === null || owner === p.pid;
    if (mine) this.applyDeferred(p);
    if (!mine || this.state.deferred.length > 0 || !this.tryJob(p, job)) this.state.deferred.push(job);
  }

  /** sqlos_run_deferred(): after a read transaction ends, the kept jobs run if the write mutex is free. */
  runDeferred(p: ProcState): void {
    if (this.state.mutex.owner === null) this.applyDeferred(p);
  }

  /** The kept jobs, in order, while they can run (the mutex is the caller's or free). */
  applyDeferred(p: ProcState): void {
    const d = this.state.deferred;
    while (d.length > 0 && this.tryJob(p, d[0])) d.shift();
  }

  /** A job on the kernel connection, which refuses to wait: false (nothing written) while a reader holds the store. */
  private tryJob(p: ProcState, job: Job): boolean {
    if (this.state.store.numReaders > 0 || this.db.writer !== null) return false;
    this.db.beginWrite(p.pid);
    for (const [sql, params] of job.sql) {
      if (this.listening && p.current) this.emit({ ...this.where(p), type: 'sql', sql });
      this.db.write(sql, params);
    }
    this.db.commitWrite();
    return true;
  }

  // ---- connections and lock levels ----------------------------------------------------------------

  openConn(p: ProcState, purpose: string): number {
    const c: Conn = { id: this.state.nextConn++, pid: p.pid, level: Lock.NONE, purpose };
    this.state.store.conns.push(c);
    return c.id;
  }

  conn(id: number): Conn {
    const c = this.state.store.conns.find((x) => x.id === id);
    if (!c) throw new SimulatorError(`no connection ${id}`);
    return c;
  }

  connLevel(id: number): Lock {
    return this.conn(id).level;
  }

  closeConn(id: number): void {
    this.state.store.conns = this.state.store.conns.filter((c) => c.id !== id);
  }

  /** Asks the VFS for a lock level; on a wait the process is put to sleep on read_q or write_q. */
  lock(x: Exec, level: Lock): 'granted' | 'wait' | 'busy' {
    const c = this.conn(x.l.conn!);
    const from = c.level;
    const out = lock(this.opts.locks, this.state.store, c, level, x.l.lockResumed ?? false);
    if (out.kind === 'granted') {
      if (this.listening) this.emit({ ...this.where(x.p), type: 'lock', conn: c.id, from, to: c.level });
      if (out.violation) this.anomaly(x.p, 'invariant', out.violation);
      return 'granted';
    }
    if (out.kind === 'busy') {
      if (this.listening) this.emit({ ...this.where(x.p), type: 'lock', conn: c.id, from, to: level, busy: true });
      return 'busy';
    }
    if (this.listening) this.emit({ ...this.where(x.p), type: 'lock', conn: c.id, from, to: c.level, queue: out.queue });
    const q = out.queue === 'read_q' ? this.state.store.readQ : this.state.store.writeQ;
    // Both kernels sleep on read_q with prepare_to_wait (at the head), on write_q exclusively (the tail).
    this.prepareToWait(x.p, q, out.queue === 'write_q');
    x.l.lockResumed = out.queue === 'write_q';
    this.block(x, { kind: 'store', queue: out.queue }, x.p.current!.step);
    return 'wait';
  }

  /** Drops a lock level and performs the wake-ups the policy asks for; NONE may also close the connection. */
  unlock(x: Exec, level: Lock, close = false): void {
    const c = this.state.store.conns.find((k) => k.id === x.l.conn);
    if (!c) return;
    const from = c.level;
    const out = unlock(this.opts.locks, this.state.store, c, level);
    if (this.listening && from !== c.level) this.emit({ ...this.where(x.p), type: 'lock', conn: c.id, from, to: c.level });
    if (out.wakeWriter) this.wakeUp(x.p, this.state.store.writeQ, 1, { kind: 'store', queue: 'write_q' });
    if (out.wakeReaders) this.wakeUp(x.p, this.state.store.readQ, 0, { kind: 'store', queue: 'read_q' });
    if (close && level === Lock.NONE) this.closeConn(c.id);
  }

  // ---- wait queues ---------------------------------------------------------------------------------

  /**
   * prepare_to_wait(_exclusive), while still holding what protects the condition: as Linux queues them, an exclusive waiter at the tail, a non-exclusive
   * one at the head (__add_wait_queue), so that a wake-up of every waiter wakes the non-exclusive ones
   * last-come first, and at one priority they run in that order (seen on the published kernel: three
   * readers of one pipe woken by one write read in the reverse of the order they slept).
   */
  prepareToWait(p: ProcState, q: Waiter[], exclusive: boolean): void {
    if (q.some((w) => w.pid === p.pid)) {
      // already queued: stays where it is
    } else if (exclusive) q.push({ pid: p.pid, exclusive });
    else q.unshift({ pid: p.pid, exclusive });
    p.woken = false;
  }

  /** schedule(): sleeps unless a waker already took us off the queue since prepare_to_wait. */
  sleep(x: Exec, on: QueueId, resumeAt: string): boolean {
    if (x.p.woken) {
      x.p.woken = false;
      return false;
    }
    this.block(x, on, resumeAt);
    return true;
  }

  /** finish_wait: leave the queue if no waker removed us. */
  finishWait(p: ProcState, q: Waiter[]): void {
    const i = q.findIndex((w) => w.pid === p.pid);
    if (i >= 0) q.splice(i, 1);
  }

  /** __wake_up: every non-exclusive waiter up to and including nrExclusive exclusive ones (0 = all). */
  wakeUp(by: ProcState, q: Waiter[], nrExclusive: number, on: QueueId): number {
    let woken = 0;
    let left = nrExclusive;
    while (q.length > 0) {
      const w = q.shift()!;
      this.wakeProc(by, this.proc(w.pid), on);
      woken++;
      if (w.exclusive && nrExclusive > 0 && --left === 0) break;
    }
    return woken;
  }

  private wakeProc(by: ProcState, target: ProcState, on: QueueId): void {
    // A sleeper is made runnable; a task between prepare_to_wait and schedule() is told, so its
    // schedule() falls through (the flag means nothing anywhere else, and is not left set).
    if (target.status === 'blocked') {
      target.status = 'runnable';
      target.waitingOn = null;
    } else target.woken = true;
    target.wokenAt = ++this.state.counters.wakeups;
    if (this.listening) this.emit({ ...this.where(by), type: 'wake', target: target.pid, on });
  }

  block(x: Exec, on: QueueId, resumeAt: string): void {
    x.p.status = 'blocked';
    x.p.waitingOn = on;
    x.p.current!.step = resumeAt;
    x.halted = 'blocked';
    this.state.counters.sleeps++;
    if (this.listening) this.emit({ ...this.where(x.p), type: 'sleep', on });
  }

  finish(x: Exec, result: OpResult, error?: string, data?: Uint8Array): void {
    this.profile.onFinish?.(x);
    const cur = x.p.current!;
    x.p.current = null;
    x.halted = 'done';
    this.lastOutcome = { kind: 'done', result, error, data };
    this.emit({ pid: x.p.pid, line: cur.line, type: 'op-done', op: cur.op, result, error, data });
  }

  // ---- the engine ----------------------------------------------------------------------------------

  programOf(p: ProcState): Program {
    return this.programs[p.current!.op as OpName];
  }

  program(op: OpName): Program {
    return this.programs[op];
  }

  /** Starts a syscall on a runnable, idle process; its first micro-step runs on the next stepOnce. */
  start(pid: number, call: OpCall, line = 0, index = -1): void {
    const p = this.proc(pid);
    if (p.status !== 'runnable') throw new SimulatorError(`P${pid} is ${p.status}`);
    if (p.current) throw new SimulatorError(`P${pid} is inside ${p.current.op}`);
    const locals: Locals = { call };
    p.current = { index, line, op: call.op, step: this.programs[call.op].first, locals: locals as unknown as Record<string, unknown> };
    this.state.counters.syscalls++;
    if (this.listening) this.emit({ pid, line, type: 'op-start', op: call.op });
  }

  /** Runs one micro-step of the process's current syscall. */
  stepOnce(pid: number): StepOutcome {
    const p = this.proc(pid);
    if (p.status !== 'runnable' || !p.current) throw new SimulatorError(`P${pid} has no syscall to step`);
    const prog = this.programOf(p);
    const x: Exec = { k: this, p, l: p.current.locals as unknown as Locals, halted: null };
    let step = prog.at(p.current.step);
    while (step.when && !step.when(x)) {
      const next = prog.after(step.id);
      if (!next) throw new SimulatorError(`${prog.name}: ran off the end after ${step.id}`);
      step = prog.at(next);
      p.current.step = step.id;
    }
    this.state.counters.steps++;
    if (this.listening) {
      this.emit({ pid, line: p.current.line, type: 'step', op: prog.name, step: step.id, kind: step.kind, text: step.text });
    }
    this.lastOutcome = null;
    let next: string | void = undefined;
    try {
      next = step.run(x);
    } catch (e) {
      this.crash(x, e as Error);
    }
    this.checkInvariants(p);
    if (x.halted === 'done') return this.lastOutcome!;
    if (x.halted === 'blocked') return { kind: 'blocked', on: p.waitingOn! };
    const to = next ?? prog.after(step.id);
    if (!to) throw new SimulatorError(`${prog.name}: ran off the end after ${step.id}`);
    p.current.step = to;
    return { kind: 'continue' };
  }

  /** A step threw: undo what the syscall holds, fail it with -EINVAL, and report an error anomaly. */
  private crash(x: Exec, e: Error): void {
    const p = x.p;
    if (this.db.writer === p.pid) this.db.rollbackWrite();
    for (const c of this.state.store.conns.filter((k) => k.pid === p.pid && k.id !== p.txnConn)) {
      this.unlock({ ...x, l: { ...x.l, conn: c.id } }, Lock.NONE, true);
    }
    // the call's own hold only: a 553(8) holder keeps the one it took in user space
    const m = this.state.mutex;
    if (m.owner === p.pid && (!p.txnWrite || m.nested)) this.mutexUnlock(p);
    const msg = `${p.current!.op}: ${e.message}`;
    this.anomaly(p, 'error', msg);
    x.halted = null;
    this.finish(x, -22, msg);
  }

  private checkInvariants(p: ProcState): void {
    const v = checkInvariants(this.opts.locks, this.state.store);
    const key = v.join('\n');
    if (key === this.violations) return;
    const before = new Set(this.violations.split('\n'));
    this.violations = key;
    for (const m of v) if (!before.has(m)) this.anomaly(p, 'invariant', m);
  }

  /** Runs a syscall to completion; throws if it blocks (for callers with nobody to wake it). */
  run(pid: number, call: OpCall): Extract<StepOutcome, { kind: 'done' }> {
    this.start(pid, call);
    for (;;) {
      const out = this.stepOnce(pid);
      if (out.kind === 'done') return out;
      if (out.kind === 'blocked') throw new SimulatorError(`P${pid} blocked in ${call.op} on ${queueName(out.on)}`);
    }
  }

  // ---- snapshots -----------------------------------------------------------------------------------

  snapshot(): KernelSnapshot {
    return { state: cloneState(this.state), db: this.db.snapshot(), violations: this.violations };
  }

  restore(s: KernelSnapshot): void {
    this.state = cloneState(s.state);
    this.db.restore(s.db);
    this.violations = s.violations;
  }

  close(): void {
    this.db.close();
  }
}

function newProc(pid: number, handler: number, parent: number): ProcState {
  return { pid, handler, parent, status: 'runnable', waitingOn: null, woken: false, wokenAt: 0, txnConn: null, current: null, next: 0 };
}
