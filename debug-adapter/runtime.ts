/*
 * The debug runtime: a scenario on the simulator, driven by a debugger. No DAP here: it stops, steps
 * and reports through typed events, and session.ts translates them into the protocol. Because the simulator is
 * deterministic, every stop keeps a snapshot and stepping back is restoring one.
 */
import { EventEmitter } from 'events';
import { parseScenario } from '../extension/core/scenario/parser';
import { RunSnapshot, ScenarioRun } from '../extension/core/scenario/runner';
import { Statement } from '../extension/core/scenario/ast';
import { simLocks, simPipes, simProcesses, simQueues, simTables } from '../extension/core/model/from-sim';
import { LOCK_LEVELS, QueueId, queueName, sleepersOn } from '../extension/core/model/model';
import { LockPolicy, Profile } from '../extension/core/sim/types';
import { Env, evaluate } from '../extension/core/explore/condition';
import { KERNEL_FUNCTIONS, OP_NAMES, OpName } from '../extension/core/sim/program';
import { preview, textTable } from '../extension/core/format';
import { writeKeyword } from '../extension/core/sim/db';
import { algorithmLine, renderAlgorithm } from './algorithm';
import { OptionLayer, resolveOptions } from '../extension/core/scenario/options';
import { summarize } from '../extension/core/scenario/summary';

export interface LaunchArgs {
  program: string;
  source: string;
  /** Launch arguments: the highest layer of resolveOptions. */
  profile?: Profile;
  locks?: LockPolicy;
  capacity?: number;
  /** What the editor chose and its settings, passed in by the extension (the lower layers). */
  overrides?: OptionLayer;
  settings?: OptionLayer;
  stopOnEntry?: boolean;
  /** pids per micro-step, as `sqliteos explore` prints them: replayed instead of the default schedule. */
  schedule?: number[];
}

export type StopReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'exception' | 'pause';

export interface Stop {
  reason: StopReason;
  pid: number;
  description: string;
  /** For exceptions: the filter that caught it and the whole message. */
  exception?: { filter: ExceptionFilter; text: string };
  /** The scenario line the stop is about (an anomaly's, a blocking statement's), where that is not the next one. */
  line?: number;
}

export const EXCEPTION_FILTERS = ['block', 'deadlock', 'lost-wakeup', 'invariant', 'expectation'] as const;
export type ExceptionFilter = (typeof EXCEPTION_FILTERS)[number];

export interface LineBreakpoint {
  id: number;
  line: number;
  verified: boolean;
  condition?: string;
}

/**
 * One frame of a process's stack, in the runtime's terms: the syscall's micro-step, or the statement.
 * Its id is one frameProcess() reads back.
 */
export type RuntimeFrame =
  | { kind: 'step'; id: number; op: OpName; name: string; line: number }
  | { kind: 'statement'; id: number; name: string; line: number };

/** Frame ids: a process's frames are pid * FRAMES_PER_PROCESS + 0 (statement), + 1 (micro-step). */
const FRAMES_PER_PROCESS = 1000;

/** A variable as the runtime shows it; children are produced when the debugger opens it. */
export interface RuntimeVariable {
  name: string;
  value: string;
  children?: () => RuntimeVariable[];
}

/** A scope of a stopped process's frame: its variables, produced when the debugger opens it. */
export interface RuntimeScope {
  name: string;
  /** Large: the debugger should not open it without being asked (the tables). */
  expensive: boolean;
  /** The frame's own variables (the debugger opens them first). */
  locals?: boolean;
  variables: () => RuntimeVariable[];
}

/** What the debug console says back to an expression, or why it cannot (its message, for the console). */
export class EvaluateError extends Error {}

const CONSOLE_HELP = 'the debug console runs read-only SQL (SELECT, WITH, PRAGMA, VALUES, EXPLAIN) or a condition (numReaders > 1, currentMaxLock == PENDING && writeQ > 0)';

export interface RuntimeEvents {
  stopped: [Stop];
  output: [string];
  end: [];
}

export class ScenarioRuntime extends EventEmitter<RuntimeEvents> {
  run!: ScenarioRun;
  private history: { snap: RunSnapshot; at: number }[] = [];
  private breakpoints: LineBreakpoint[] = [];
  private functions = new Set<string>();
  private filters = new Set<ExceptionFilter>();
  private schedule: number[] | undefined;
  private scheduleAt = 0;
  private pauseRequested = false;
  private nextBpId = 1;
  lastStop: Stop | undefined;
  ended = false;
  private sourceLines: string[] = [];

  async launch(args: LaunchArgs): Promise<void> {
    this.sourceLines = args.source.split('\n');
    const parsed = parseScenario(args.source, args.program);
    if (!parsed.ok) throw new Error(parsed.errors.map(String).join('\n'));
    const s = parsed.scenario;
    const launch = { profile: args.profile, locks: args.locks, capacity: args.capacity };
    this.run = await ScenarioRun.create(s, resolveOptions({ launch, overrides: args.overrides, file: s, settings: args.settings }));
    this.schedule = args.schedule;
    this.emit('output', `${args.program}: ${this.run.kernel.opts.profile} profile, ${this.run.kernel.opts.locks} locks${this.schedule ? `, replaying a ${this.schedule.length}-step schedule` : ''}\n`);
  }

  /** Starts the run: stops on entry, or runs to the first stop. */
  start(stopOnEntry: boolean): void {
    if (stopOnEntry) this.stop({ reason: 'entry', pid: 1, description: 'Paused on entry' });
    else this.continue();
  }

  // ---- breakpoints -------------------------------------------------------------------------------------

  /** Line breakpoints move to the next statement line; past the last one they stay unverified. */
  setBreakpoints(lines: { line: number; condition?: string }[]): LineBreakpoint[] {
    const stmtLines = this.run.scenario.statements.map((s) => s.line);
    this.breakpoints = lines.map((b) => {
      const line = stmtLines.find((l) => l >= b.line);
      return { id: this.nextBpId++, line: line ?? b.line, verified: line !== undefined, condition: b.condition };
    });
    return this.breakpoints;
  }

  /** Function breakpoints on syscall names: the op (`write`) or its kernel name (`sql_pipe_write`). */
  setFunctionBreakpoints(names: string[]): boolean[] {
    this.functions = new Set();
    return names.map((n) => {
      const ops = KERNEL_FUNCTIONS[n] ?? [n];
      if (!ops.every((op) => (OP_NAMES as readonly string[]).includes(op))) return false;
      for (const op of ops) this.functions.add(op);
      return true;
    });
  }

  setExceptionFilters(filters: string[]): void {
    this.filters = new Set(filters.filter((f): f is ExceptionFilter => (EXCEPTION_FILTERS as readonly string[]).includes(f)));
  }

  // ---- state -------------------------------------------------------------------------------------------

  /** The names conditions and watch expressions can use. */
  env(pid?: number): Env {
    const { processes: procs, locks: l, queues, pipes } = this.inspect();
    const levels = Object.fromEntries(LOCK_LEVELS.map((n, i) => [n, i]));
    return {
      ...levels,
      currentMaxLock: levels[l.currentMaxLock],
      numReaders: l.numReaders,
      writeMutexOwner: l.writeMutex.owner ?? 0,
      mutexWaiters: l.writeMutex.waiters.length,
      readQ: sleepersOn(queues, { kind: 'store', queue: 'read_q' }).length,
      writeQ: sleepersOn(queues, { kind: 'store', queue: 'write_q' }).length,
      blocked: procs.filter((p) => p.state === 'blocked').length,
      processes: procs.filter((p) => p.state !== 'exited').length,
      pipes: pipes.length,
      buffered: pipes.reduce((n, p) => n + p.buffered, 0),
      pid: pid ?? 0,
    };
  }

  evaluateCondition(expr: string, pid?: number): number {
    return evaluate(expr, this.env(pid));
  }

  query(sql: string) {
    return this.run.kernel.db.queryReadOnly(sql);
  }

  /**
   * The debug console: read-only SQL as a text table, or a condition's value, in the frame's process.
   * Throws EvaluateError with a message saying how the expression was read and what the console takes.
   */
  evaluate(expr: string, frameId?: number): string {
    const e = expr.trim();
    const kw = writeKeyword(e);
    if (kw) throw new EvaluateError(`${kw} would change the kernel: ${CONSOLE_HELP}`);
    const sql = /^(select|with|pragma|values|explain)\b/i.test(e);
    try {
      if (!sql) return String(this.evaluateCondition(e, frameId === undefined ? undefined : this.frameProcess(frameId)));
      const r = this.query(e);
      return textTable(r.columns, r.rows).trimEnd();
    } catch (err) {
      throw new EvaluateError(`${(err as Error).message} (read as a ${sql ? 'SQL' : 'condition'}: the debug console runs read-only SQL or a condition over the kernel's state)`);
    }
  }

  /** The process a frame id belongs to. */
  frameProcess(frameId: number): number {
    return Math.floor(frameId / FRAMES_PER_PROCESS);
  }

  /** The processes as threads: id and the name the debugger shows. */
  threads(): { id: number; name: string }[] {
    if (!this.launched) return [];
    return this.inspect().processes.map((p) => ({ id: p.pid, name: `P${p.pid} (${p.state}${p.waitingOn ? ` on ${queueName(p.waitingOn)}` : ''})` }));
  }

  /** The scopes of a frame: its process, the locks, the wait queues and the tables. */
  scopes(frameId: number): RuntimeScope[] {
    const pid = this.frameProcess(frameId);
    const i = this.inspect();
    const v = (name: string, value: unknown, children?: () => RuntimeVariable[]): RuntimeVariable => ({ name, value: typeof value === 'string' ? value : JSON.stringify(value), children });
    const pids = (ps: number[], none: string) => ps.map((p) => `P${p}`).join(', ') || none;
    const proc = (): RuntimeVariable[] => {
      const p = i.processes.find((x) => x.pid === pid);
      if (!p) return [v('pid', pid), v('state', 'not created yet')];
      const fds = this.fdsOf(pid);
      const c = this.run.kernel.state.procs[pid].current;
      return [
        v('pid', p.pid),
        v('handler', p.handler),
        v('parent', p.parent),
        v('state', p.state),
        v('waitingOn', p.waitingOn ? queueName(p.waitingOn) : 'nothing'),
        v('inside', c ? `${c.op} (line ${c.line}) at ${c.step}` : 'between statements'),
        v('fds', `${fds.length} open`, () => fds.map((f) => v(`fd ${f.fd}`, `pipe ${f.dataId} ${f.end} end`))),
      ];
    };
    const locks = (): RuntimeVariable[] => {
      const l = i.locks;
      return [
        v('currentMaxLock', l.currentMaxLock),
        v('numReaders', l.numReaders),
        v('writeMutexOwner', l.writeMutex.owner === null ? 'free' : `P${l.writeMutex.owner}`),
        v('writeMutexWaiters', pids(l.writeMutex.waiters, 'none')),
        v('connections', `${l.connections.length} open`, () => l.connections.map((c) => v(`connection ${c.id}`, `P${c.owner} ${c.level} (${c.purpose})`))),
      ];
    };
    const on = (id: QueueId) => v(queueName(id), pids(sleepersOn(i.queues, id), 'empty'));
    const queues = (): RuntimeVariable[] => [
      on({ kind: 'store', queue: 'read_q' }),
      on({ kind: 'store', queue: 'write_q' }),
      ...i.pipes.flatMap((p) => [
        on({ kind: 'pipe', dataId: p.dataId, queue: 'read_wq' }),
        on({ kind: 'pipe', dataId: p.dataId, queue: 'write_wq' }),
        v(`pipe ${p.dataId}`, `${p.buffered} B buffered, ${p.readers} reader(s), ${p.writers} writer(s)`),
      ]),
    ];
    const tables = (): RuntimeVariable[] =>
      i.tables().map((t) => v(t.name, `${t.rows.length} row(s)`, () => t.rows.map((r, n) => v(`[${n}]`, t.columns.map((c, k) => `${c}=${preview(r[k], 8)}`).join(', ')))));
    return [
      { name: `Process P${pid}`, expensive: false, variables: proc },
      { name: 'Locks', expensive: false, variables: locks },
      { name: 'Wait queues', expensive: false, variables: queues },
      { name: 'Tables', expensive: true, locals: true, variables: tables },
    ];
  }

  get launched(): boolean {
    return this.run !== undefined;
  }

  /**
   * The stack of `pid`, top first: inside a syscall, its micro-step in the rendered algorithm; then the
   * statement concerned: the one an exception is about (an expectation checks the statement that just
   * ran, not the next), else the next to run, else the last one run, else the one that made the process.
   */
  stack(pid: number): RuntimeFrame[] {
    const p = this.run.kernel.state.procs[pid];
    const frames: RuntimeFrame[] = [];
    if (p?.current) {
      const prog = this.run.kernel.program(p.current.op as OpName);
      const step = prog.at(p.current.step);
      frames.push({ kind: 'step', id: pid * FRAMES_PER_PROCESS + 1, op: prog.name, name: `${prog.name}: ${step.text}`, line: algorithmLine(prog, step.id) });
    }
    const stop = this.lastStop;
    const about = stop?.pid === pid && stop.line !== undefined && !p?.current ? this.run.scenario.statements.find((x) => x.line === stop.line) : undefined;
    const next = this.statementOf(pid);
    const last = this.lastLineOf(pid);
    const at = (name: string, line: number): RuntimeFrame => ({ kind: 'statement', id: pid * FRAMES_PER_PROCESS, name, line });
    if (about) frames.push(at(`${stop!.description}: ${about.text}`, about.line));
    else if (next) frames.push(at(next.text, next.line));
    else if (last !== undefined) frames.push(at(`P${pid} ${p?.status === 'exited' ? 'exited' : 'has no statement left'} after line ${last}`, last));
    else frames.push(at(`P${pid} has run nothing`, this.run.scenario.statements.find((s) => (s.op === 'fork' || s.op === 'thread') && s.child === pid)?.line ?? 1));
    return frames;
  }

  /** A syscall's algorithm as "step in" shows it, one line per micro-step. */
  algorithm(op: OpName): { name: string; text: string } {
    const k = this.run.kernel;
    return { name: `${op} (${k.opts.profile}).alg`, text: renderAlgorithm(k.opts.profile, k.opts.locks, k.program(op)) };
  }

  /** The fds of `pid`'s fd table: which pipe and which end each names. */
  fdsOf(pid: number): { fd: number; dataId: number; end: 'read' | 'write' }[] {
    const p = this.run.kernel.state.procs[pid];
    const fds = p ? (this.run.kernel.state.handlers[p.handler]?.fds ?? {}) : {};
    return Object.entries(fds).map(([fd, e]) => ({ fd: Number(fd), dataId: e.dataId, end: e.end === 'r' ? 'read' : 'write' }));
  }

  close(): void {
    this.run?.kernel.close();
  }

  /** The line of the last statement `pid` ran to its end, if any. */
  lastLineOf(pid: number): number | undefined {
    for (let i = this.run.ops.length - 1; i >= 0; i--) if (this.run.ops[i].pid === pid) return this.run.ops[i].line;
    return undefined;
  }

  statementOf(pid: number): Statement | undefined {
    return this.run.nextStatement(pid);
  }

  /** The kernel now, in the model's types (core/model/from-sim.ts). */
  inspect() {
    const k = this.run.kernel;
    return { processes: simProcesses(k), locks: simLocks(k), queues: simQueues(k), pipes: simPipes(k), tables: () => simTables(k) };
  }

  get canStepBack(): boolean {
    return this.history.length > 1;
  }

  // ---- execution -----------------------------------------------------------------------------------------

  private stop(s: Stop): void {
    this.lastStop = s;
    this.history.push({ snap: this.run.snapshot(), at: this.scheduleAt });
    this.emit('stopped', s);
  }

  /** The run is over: what ran, each return code, and every anomaly with its line, then 'end'. */
  private end(): void {
    this.ended = true;
    this.emit('output', `\n${summarize(this.run.result(), this.sourceLines)}\n`);
    this.emit('end');
  }

  /** Who runs next: the replayed schedule while it lasts, else the default schedule. */
  private pick(): number | undefined {
    if (this.schedule && this.scheduleAt < this.schedule.length) {
      const pid = this.schedule[this.scheduleAt];
      const p = this.run.kernel.state.procs[pid];
      if (p?.status === 'runnable' && this.run.nextStatement(pid)) return pid;
      this.emit('output', `schedule step ${this.scheduleAt + 1}: P${pid} cannot run here; following the default schedule from now on\n`);
      this.schedule = undefined;
    }
    return this.run.nextRunnable();
  }

  /** Whether starting `pid`'s next statement hits a breakpoint. */
  private breakpointAt(pid: number): Stop | undefined {
    const p = this.run.kernel.state.procs[pid];
    if (p.current) return undefined;
    const s = this.run.nextStatement(pid);
    if (!s) return undefined;
    for (const b of this.breakpoints) {
      if (!b.verified || b.line !== s.line) continue;
      if (b.condition) {
        try {
          if (!this.evaluateCondition(b.condition, pid)) continue;
        } catch (e) {
          this.emit('output', `breakpoint condition '${b.condition}' at line ${b.line}: ${(e as Error).message}\n`);
        }
      }
      return { reason: 'breakpoint', pid, description: `Breakpoint at line ${s.line}` };
    }
    if (this.functions.has(s.op)) return { reason: 'function breakpoint', pid, description: `Breakpoint on ${s.op}` };
    return undefined;
  }

  /** One micro-step of `pid`; returns a stop if an exception filter caught something. */
  private microStep(pid: number): Stop | undefined {
    const before = this.run.anomalies.length;
    const out = this.run.step(pid);
    if (this.schedule) this.scheduleAt++;
    if (this.run.anomalies.length > before) {
      const a = this.run.anomalies[before];
      const filter = a.kind === 'error' ? 'invariant' : (a.kind as ExceptionFilter);
      if (this.filters.has(filter) || a.kind === 'error') {
        return { reason: 'exception', pid, description: `${a.kind} at line ${a.line}`, exception: { filter, text: a.message }, line: a.line };
      }
    }
    if (out.kind === 'blocked' && this.filters.has('block')) {
      const s = this.run.nextStatement(pid);
      return { reason: 'exception', pid, description: `P${pid} blocked`, exception: { filter: 'block', text: `P${pid} blocks on ${queueName(out.on)} in '${s?.text}' (line ${s?.line})` } };
    }
    return undefined;
  }

  /** When nothing can run: a deadlock / lost wake-up stop if asked for, else the end. */
  private finished(): void {
    const stuck = this.run.stuck();
    const caught = stuck.find((a) => this.filters.has(a.kind as ExceptionFilter));
    if (caught && this.lastStop?.exception?.text !== caught.message) {
      this.stop({ reason: 'exception', pid: caught.pid, description: `${caught.kind} at line ${caught.line}`, exception: { filter: caught.kind as ExceptionFilter, text: caught.message }, line: caught.line });
      return;
    }
    for (const a of [...this.run.anomalies, ...stuck]) this.emit('output', `${this.run.scenario.file}:${a.line}: ${a.kind}: ${a.message}\n`);
    this.end();
  }

  /** Runs the schedule until a breakpoint, an exception the user asked for, a pause, or the end. */
  continue(): void {
    let first = true;
    for (let n = 0; ; n++) {
      if (this.pauseRequested) {
        this.pauseRequested = false;
        const pid = this.pick() ?? 1;
        return this.stop({ reason: 'pause', pid, description: 'Paused' });
      }
      const pid = this.pick();
      if (pid === undefined) return this.finished();
      if (!first) {
        const bp = this.breakpointAt(pid);
        if (bp) return this.stop(bp);
      }
      first = false;
      const ex = this.microStep(pid);
      if (ex) return this.stop(ex);
      if (n > this.run.maxSteps) return this.stop({ reason: 'pause', pid, description: `Paused after ${n} micro-steps` });
    }
  }

  /** Step over: the rest of `pid`'s statement (or its next one), other processes standing still. */
  next(pid: number): void {
    const target = this.runnableOr(pid);
    if (target === undefined) return this.finished();
    for (;;) {
      const ex = this.microStep(target);
      if (ex) return this.stop(ex);
      const p = this.run.kernel.state.procs[target];
      if (!p.current || p.status !== 'runnable') break;
    }
    this.stop({ reason: 'step', pid: target, description: 'Step' });
  }

  /** Step in: one micro-step of `pid`. */
  stepIn(pid: number): void {
    const target = this.runnableOr(pid);
    if (target === undefined) return this.finished();
    const ex = this.microStep(target);
    this.stop(ex ?? { reason: 'step', pid: target, description: 'Step in' });
  }

  /** Step out: finish the syscall `pid` is inside (the same as step over between statements). */
  stepOut(pid: number): void {
    this.next(pid);
  }

  /** The requested process if it can run, else the one the default schedule would run. */
  private runnableOr(pid: number): number | undefined {
    const p = this.run.kernel.state.procs[pid];
    if (p?.status === 'runnable' && this.run.nextStatement(pid)) return pid;
    const other = this.pick();
    if (other !== undefined) this.emit('output', `P${pid} cannot run now; stepping P${other}, whom the default schedule picks\n`);
    return other;
  }

  stepBack(): void {
    if (this.history.length > 1) this.history.pop();
    this.restore(this.history.pop()!);
    this.stop({ reason: 'step', pid: this.lastStop?.pid ?? 1, description: 'Step back' });
  }

  /** Back to the previous breakpoint stop, or to the entry. */
  reverseContinue(): void {
    while (this.history.length > 1) {
      this.history.pop();
      this.restore(this.history[this.history.length - 1]);
      const pid = this.pick();
      if (pid !== undefined && this.breakpointAt(pid)) break;
    }
    this.restore(this.history.pop()!);
    this.stop({ reason: 'breakpoint', pid: this.run.nextRunnable() ?? 1, description: 'Reverse continue' });
  }

  private restore(h: { snap: RunSnapshot; at: number }): void {
    this.run.restore(h.snap);
    this.scheduleAt = h.at;
    this.ended = false;
  }

  pause(): void {
    this.pauseRequested = true;
  }
}
