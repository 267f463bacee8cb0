/*
 * The `sqliteos-kernel` debug session: a real companion kernel under gdb. It translates between the
 * Debug Adapter Protocol and GDB/MI (machines/gdb-mi.ts), nothing more: threads are QEMU's vCPUs,
 * frames gdb's, breakpoints gdb's (a line of `kernel-scripts/sqliteos/X.c` is that line of the built
 * tree's `sqliteos/X.c`: apply.sh copies the files unchanged, so frames in the tree's copy show ours),
 * and at every stop the SQLiteOS state is read from the halted kernel's memory through gdb (the layout
 * record, core/memory) into a scope of its own and a `sqliteos/kernelSnapshot` event for the views.
 *
 *   launch  {}                       the QEMU guest (`sqliteos guest start --gdb` if it is not running);
 *                                    it is stopped again when the session ends
 *   attach  {gdb: endpoint, vmlinux}  any companion kernel on a gdbstub ("guest": the QEMU guest's);
 *                                    it runs on when the session ends
 *   launch  {core: FILE}             post-mortem: a saved core (`sqliteos guest dump`), read by our own
 *                                    ELF reader (physical memory through the page tables), no gdb: gdb
 *                                    cannot read a kernel's virtual addresses from QEMU's physical dump.
 *                                    One stop, SQLiteOS as the kernel held it; nothing runs.
 */
import { Breakpoint, Event, Handles, InitializedEvent, LoggingDebugSession, OutputEvent, Scope, Source, StackFrame, StoppedEvent, TerminatedEvent, Thread } from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as fs from 'fs';
import * as path from 'path';
import { MiTuple, miList, miQuote, miString, miTuple } from '../extension/core/gdb/mi';
import type { Layout } from '../extension/core/memory/layout';
import type { Snapshot } from '../extension/core/model/model';
import { stringifyExact } from '../extension/core/format';
import { GdbMemory, GdbMi } from '../extension/machines/gdb-mi';
import { inspectCore, layoutAt, snapshotFrom } from '../extension/machines/memory-snapshot';
import { disassemble } from './kernel-disassembly';
import { sqliteosVariables } from './sqliteos-scope';

export interface KernelLaunchArgs extends DebugProtocol.LaunchRequestArguments {
  /** gdbstub: "guest" (the QEMU guest's), unix:PATH, HOST:PORT. */
  gdb?: string;
  vmlinux?: string;
  /** the folder holding our sqliteos/*.c (default: kernel-scripts/sqliteos beside the adapter) */
  sources?: string;
  stopOnEntry?: boolean;
  /** the gdb to run */
  gdbPath?: string;
  /** post-mortem: a saved core instead of a running kernel */
  core?: string;
}

/** Where a guest is and how to start it; the extension and the standalone adapter each give theirs. */
export interface GuestAccess {
  /** The QEMU guest's gdbstub and vmlinux, starting it with --gdb if it is not running. */
  ensure(log: (s: string) => void): Promise<{ gdb: string; vmlinux: string }>;
  stop(): void;
}

/** The tree's copy of one of our files (`…/sqliteos/vfs.c`) as ours, when we have it; else as it is. */
export function toOurs(file: string, ours: string): string {
  const m = /(?:^|\/)sqliteos\/([^/]+)$/.exec(file);
  if (m && fs.existsSync(path.join(ours, m[1]))) return path.join(ours, m[1]);
  return file;
}

/**
 * What gdb is told for a line of one of our files (in `ours`, or any checkout's kernel-scripts/sqliteos):
 * `sqliteos/vfs.c` (the tree's copy, not fs/pipe.c for our pipe.c); other files as they are.
 */
export function toTree(file: string, ours: string): string {
  const dir = path.dirname(path.resolve(file));
  return dir === path.resolve(ours) || dir.endsWith(`${path.sep}kernel-scripts${path.sep}sqliteos`) ? `sqliteos/${path.basename(file)}` : file;
}

type VarSource = { kind: 'frame'; thread: number; level: number } | { kind: 'var'; name: string } | { kind: 'sqliteos' } | { kind: 'list'; items: DebugProtocol.Variable[] };

export class KernelDebugSession extends LoggingDebugSession {
  private gdb: GdbMi | undefined;
  private ours = path.join(__dirname, '..', 'kernel-scripts', 'sqliteos');
  /** sqlos_layout's address, and the record once read (it does not change after boot) */
  private layoutAddress: bigint | undefined;
  private layout: Layout | undefined;
  /** launch started the guest: the session's end stops it */
  private startedGuest = false;
  private stopOnEntry = false;
  private running = false;
  private handles = new Handles<VarSource>();
  private bySource = new Map<string, number[]>();
  private functions: number[] = [];
  private snapshot: Snapshot | undefined;
  private snapshotError: string | undefined;
  private varObjects: string[] = [];
  /** post-mortem: the saved core read (no gdb, nothing runs) */
  private core: string | undefined;
  /** Halted only to insert breakpoints (gdb's all-stop mode takes them only then): not reported. */
  private quiet = false;
  private configured = false;
  /** Called with each snapshot read at a stop (the extension's views show it), when it runs on, and at the end. */
  onSnapshot?: (s: Snapshot | undefined, stopped: string, error?: string) => void;
  onResumed?: () => void;
  onEnded?: () => void;

  constructor(private readonly guest?: GuestAccess) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
      supportsDisassembleRequest: true,
    };
    this.sendResponse(response);
  }

  private log(s: string): void {
    this.sendEvent(new OutputEvent(s.endsWith('\n') ? s : `${s}\n`, 'console'));
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: KernelLaunchArgs): Promise<void> {
    await this.begin(response, args, true);
  }

  protected override async attachRequest(response: DebugProtocol.AttachResponse, args: KernelLaunchArgs): Promise<void> {
    await this.begin(response, args, false);
  }

  private async begin(response: DebugProtocol.Response, given: KernelLaunchArgs | undefined, launch: boolean): Promise<void> {
    const args = given ?? {}; // a launch with no arguments at all is the QEMU guest's
    if (args.sources) this.ours = args.sources;
    this.stopOnEntry = !!args.stopOnEntry;
    if (args.core) return this.openCore(response, args.core);
    try {
      let { gdb: endpoint, vmlinux } = args;
      if (launch || endpoint === 'guest' || !endpoint) {
        if (!this.guest) throw new Error('no QEMU guest here: attach with "gdb" (an endpoint) and "vmlinux"');
        const g = await this.guest.ensure((s) => this.log(s));
        endpoint = g.gdb;
        vmlinux ??= g.vmlinux;
        this.startedGuest = launch;
      }
      if (!vmlinux) throw new Error('which kernel? "vmlinux" (the running kernel\'s, with DWARF for lines and variables)');
      this.gdb = await GdbMi.start(vmlinux, args.gdbPath);
      this.gdb.on('output', (text: string) => this.log(text));
      this.gdb.on('exec', (cls: string, r: MiTuple) => void this.onExec(cls, r));
      this.gdb.on('exit', () => this.sendEvent(new TerminatedEvent()));
      // commands (pause, breakpoints, detach) must reach gdb while the kernel runs
      await this.gdb.command('-gdb-set mi-async on');
      // gdb takes the endpoint as it is written (a quoted one is a file of that name, quotes included)
      const where = endpoint!.replace(/^unix:/, '');
      if (/\s/.test(where)) throw new Error(`gdb cannot connect to an endpoint with a space in it: ${where}`);
      await this.gdb.command(`-target-select remote ${where}`);
      this.layoutAddress = BigInt(String((await this.gdb.command('-data-evaluate-expression "(unsigned long)&sqlos_layout"')).value));
    } catch (e) {
      return this.sendErrorResponse(response, 2001, `Cannot ${launch ? 'launch' : 'attach'}: ${(e as Error).message}`);
    }
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  /** Post-mortem: the core read once; configurationDone reports it as the one stop. */
  private async openCore(response: DebugProtocol.Response, file: string): Promise<void> {
    try {
      const m = await inspectCore(file);
      this.core = `${path.basename(file)} (${m.release})`;
      this.snapshot = m.snapshot;
    } catch (e) {
      return this.sendErrorResponse(response, 2001, `Cannot open the core ${file}: ${(e as Error).message}`);
    }
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
  }

  /** What a saved core cannot do, said instead of doing nothing. */
  private notOnCore(response: DebugProtocol.Response): boolean {
    if (!this.core) return false;
    this.sendErrorResponse(response, 2005, `${this.core} is a saved core: nothing runs, and there is no gdb on it (its SQLiteOS state is in the variables and the views).`);
    return true;
  }

  protected override async configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): Promise<void> {
    this.sendResponse(response);
    this.configured = true;
    if (this.core) return this.report('entry', 1, `post-mortem: core ${this.core}`);
    if (this.stopOnEntry) return this.stopped('entry', 1, 'halted on attach');
    await this.run('-exec-continue');
  }

  private async run(cmd: string): Promise<void> {
    this.running = true;
    if (!this.quiet) this.onResumed?.();
    try {
      await this.gdb!.command(cmd);
    } catch (e) {
      this.running = false;
      this.log(`${cmd}: ${(e as Error).message}`);
    }
  }

  private async onExec(cls: string, r: MiTuple): Promise<void> {
    if (cls === 'running') {
      this.running = true;
      return;
    }
    if (cls !== 'stopped') return;
    this.running = false;
    // halted only to insert breakpoints (the user sees it run on), or gdb's stop on connecting, before
    // the client is configured (configurationDone reports it as the entry, or runs on)
    if (this.quiet || !this.configured) return;
    const reason = miString(r.reason) ?? '';
    const map: Record<string, string> = { 'breakpoint-hit': 'breakpoint', 'end-stepping-range': 'step', 'function-finished': 'step', 'signal-received': 'pause' };
    const frame = miTuple(r.frame);
    const where = `${path.basename(String(frame.file ?? '?'))}:${String(frame.line ?? '?')}, ${String(frame.func ?? '?')}`;
    await this.stopped(map[reason] ?? 'exception', Number(miString(r['thread-id']) ?? 1), `halted at ${where}`);
  }

  /** Reads SQLiteOS from the halted kernel, then tells the client it stopped. */
  private async stopped(reason: string, thread: number, text: string): Promise<void> {
    // the last stop's variable objects go (gdb keeps each until deleted)
    for (const v of this.varObjects.splice(0)) await this.gdb!.command(`-var-delete ${v}`).catch(() => undefined);
    this.handles.reset();
    try {
      const mem = new GdbMemory(this.gdb!, 'the halted kernel');
      this.layout ??= await layoutAt(mem, this.layoutAddress!);
      this.snapshot = (await snapshotFrom(mem, this.layout)).snapshot;
      this.snapshotError = undefined;
    } catch (e) {
      this.snapshot = undefined;
      this.snapshotError = (e as Error).message;
    }
    this.report(reason, thread, text);
  }

  /** The snapshot to the views and the client, and the stop. */
  private report(reason: string, thread: number, text: string): void {
    this.onSnapshot?.(this.snapshot, text, this.snapshotError);
    // the snapshot as JSON text: integers past 2^53 stay exact (readers use protectBigIntegers)
    this.sendEvent(new Event('sqliteos/kernelSnapshot', { text, snapshot: this.snapshot ? stringifyExact(this.snapshot) : null, error: this.snapshotError }));
    const e = new StoppedEvent(reason, thread, text) as DebugProtocol.StoppedEvent;
    e.body.allThreadsStopped = true;
    this.sendEvent(e);
  }

  /** Halts the running kernel and waits for gdb to say it stopped (not reported to the client). */
  private async interrupt(): Promise<void> {
    const gdb = this.gdb!;
    const stop = new Promise<void>((r) => {
      const timer = setTimeout(done, 10_000);
      function done() {
        clearTimeout(timer);
        gdb.off('exec', on);
        r();
      }
      const on = (cls: string) => cls === 'stopped' && done();
      gdb.on('exec', on);
    });
    this.quiet = true;
    await gdb.command('-exec-interrupt');
    await stop;
  }

  /** Runs fn with the target halted (gdb inserts breakpoints only then), and lets it run on after. */
  private async halted<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.running) return fn();
    await this.interrupt();
    try {
      return await fn();
    } finally {
      this.quiet = false;
      await this.run('-exec-continue');
    }
  }


  private async insert(location: string, condition?: string): Promise<DebugProtocol.Breakpoint> {
    try {
      const r = miTuple((await this.gdb!.command(`-break-insert -f ${condition ? `-c ${miQuote(condition)} ` : ''}${miQuote(location)}`)).bkpt);
      const b = new Breakpoint(true, Number(r.line ?? 0) || undefined) as DebugProtocol.Breakpoint;
      b.id = Number(r.number);
      if (r.fullname) b.source = this.source(String(r.fullname));
      return b;
    } catch (e) {
      const b = new Breakpoint(false) as DebugProtocol.Breakpoint;
      b.message = (e as Error).message;
      return b;
    }
  }

  /** On a saved core a breakpoint is never hit: each one answered unverified, with the reason (true: answered). */
  private breakpointsOnCore(response: DebugProtocol.SetBreakpointsResponse | DebugProtocol.SetFunctionBreakpointsResponse, wanted: number): boolean {
    if (!this.core) return false;
    response.body = { breakpoints: Array.from({ length: wanted }, () => ({ verified: false, message: `${this.core} is a saved core: nothing runs to hit a breakpoint` })) };
    this.sendResponse(response);
    return true;
  }

  protected override async setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): Promise<void> {
    if (this.breakpointsOnCore(response, args.breakpoints?.length ?? 0)) return;
    const file = args.source.path ?? '';
    const out = await this.halted(async () => {
      const old = this.bySource.get(file) ?? [];
      if (old.length) await this.gdb!.command(`-break-delete ${old.join(' ')}`).catch(() => undefined);
      const bps: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints ?? []) bps.push(await this.insert(`${toTree(file, this.ours)}:${b.line}`, b.condition));
      this.bySource.set(file, bps.filter((b) => b.id !== undefined).map((b) => b.id!));
      return bps;
    });
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  protected override async setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): Promise<void> {
    if (this.breakpointsOnCore(response, args.breakpoints.length)) return;
    const out = await this.halted(async () => {
      if (this.functions.length) await this.gdb!.command(`-break-delete ${this.functions.join(' ')}`).catch(() => undefined);
      const bps: DebugProtocol.Breakpoint[] = [];
      for (const b of args.breakpoints) bps.push(await this.insert(b.name, b.condition));
      this.functions = bps.filter((b) => b.id !== undefined).map((b) => b.id!);
      return bps;
    });
    response.body = { breakpoints: out };
    this.sendResponse(response);
  }

  private source(file: string): Source {
    const mine = toOurs(file, this.ours);
    return new Source(path.basename(mine), mine);
  }

  protected override async threadsRequest(response: DebugProtocol.ThreadsResponse): Promise<void> {
    if (this.core) {
      response.body = { threads: [new Thread(1, `core ${this.core}`)] };
      return this.sendResponse(response);
    }
    try {
      const r = await this.gdb!.command('-thread-info');
      response.body = { threads: miList(r.threads).map((t) => new Thread(Number(miTuple(t).id), `CPU ${miTuple(t).id}: ${String(miTuple(miTuple(t).frame).func ?? '?')}`)) };
    } catch {
      response.body = { threads: [new Thread(1, 'CPU 1')] };
    }
    this.sendResponse(response);
  }

  protected override async stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): Promise<void> {
    if (this.core) {
      response.body = { stackFrames: [new StackFrame(10000, `post-mortem: ${this.core}`)], totalFrames: 1 };
      return this.sendResponse(response);
    }
    try {
      const r = await this.gdb!.command(`-stack-list-frames --thread ${args.threadId}`);
      const frames = miList(r.stack).map((v) => {
        const f = miTuple(v);
        const level = Number(f.level);
        const sf = new StackFrame(args.threadId * 10000 + level, String(f.func ?? f.addr), f.fullname ? this.source(String(f.fullname)) : undefined, Number(f.line ?? 0));
        (sf as DebugProtocol.StackFrame).instructionPointerReference = String(f.addr ?? '');
        return sf;
      });
      response.body = { stackFrames: frames, totalFrames: frames.length };
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, 2002, (e as Error).message);
    }
  }

  /** The instructions around a frame's address (the Disassembly view), each with its line of our files. */
  protected override async disassembleRequest(response: DebugProtocol.DisassembleResponse, args: DebugProtocol.DisassembleArguments): Promise<void> {
    if (this.notOnCore(response)) return;
    if (this.running) return this.sendErrorResponse(response, 2003, 'The kernel is running: pause it to disassemble.');
    try {
      const at = BigInt(args.memoryReference) + BigInt(args.offset ?? 0);
      const instructions = await disassemble((c) => this.gdb!.command(c), at, args.instructionOffset ?? 0, args.instructionCount, (f) => this.source(f));
      response.body = { instructions };
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, 2003, `Cannot disassemble at ${args.memoryReference}: ${(e as Error).message}`);
    }
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const thread = Math.floor(args.frameId / 10000);
    const level = args.frameId % 10000;
    const sqliteos = new Scope(this.core ? 'SQLiteOS (from the core)' : 'SQLiteOS (from memory)', this.handles.create({ kind: 'sqliteos' }), false);
    if (this.core) {
      response.body = { scopes: [sqliteos] };
      return this.sendResponse(response);
    }
    response.body = {
      scopes: [new Scope('Locals', this.handles.create({ kind: 'frame', thread, level }), false), sqliteos],
    };
    this.sendResponse(response);
  }

  private async varObject(expr: string, thread: number, level: number): Promise<DebugProtocol.Variable> {
    const v = await this.gdb!.command(`-var-create --thread ${thread} --frame ${level} - * ${miQuote(expr)}`);
    const name = String(v.name);
    this.varObjects.push(name);
    const kids = Number(v.numchild ?? 0);
    return { name: expr, value: String(v.value ?? ''), type: miString(v.type), variablesReference: kids ? this.handles.create({ kind: 'var', name }) : 0 };
  }

  protected override async variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): Promise<void> {
    const src = this.handles.get(args.variablesReference);
    try {
      let vars: DebugProtocol.Variable[] = [];
      if (src?.kind === 'frame') {
        const r = await this.gdb!.command(`-stack-list-variables --thread ${src.thread} --frame ${src.level} --no-values`);
        for (const v of miList(r.variables)) vars.push(await this.varObject(String(miTuple(v).name), src.thread, src.level));
      } else if (src?.kind === 'var') {
        const r = await this.gdb!.command(`-var-list-children --all-values ${miQuote(src.name)}`);
        vars = miList(r.children).map((c) => {
          const t = miTuple(c);
          return { name: String(t.exp), value: String(t.value ?? ''), type: miString(t.type), variablesReference: Number(t.numchild ?? 0) ? this.handles.create({ kind: 'var', name: String(t.name) }) : 0 };
        });
      } else if (src?.kind === 'sqliteos') vars = sqliteosVariables(this.snapshot, this.snapshotError, (items) => this.handles.create({ kind: 'list', items }));
      else if (src?.kind === 'list') vars = src.items;
      response.body = { variables: vars };
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, 2003, (e as Error).message);
    }
  }

  protected override async evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): Promise<void> {
    if (this.notOnCore(response)) return;
    try {
      if (args.context === 'repl' && !args.frameId) {
        response.body = { result: (await this.gdb!.cli(args.expression)).trimEnd(), variablesReference: 0 };
      } else {
        const frame = args.frameId ?? 10000;
        const v = await this.varObject(args.expression, Math.floor(frame / 10000), frame % 10000);
        response.body = { result: v.value, type: v.type, variablesReference: v.variablesReference };
      }
      this.sendResponse(response);
    } catch (e) {
      this.sendErrorResponse(response, 2004, (e as Error).message);
    }
  }

  private async resume(response: DebugProtocol.Response, cmd: string): Promise<void> {
    if (this.notOnCore(response)) return;
    this.sendResponse(response);
    await this.run(cmd);
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse, args: DebugProtocol.ContinueArguments): Promise<void> {
    response.body = { allThreadsContinued: true };
    return this.resume(response, `-exec-continue --thread ${args.threadId}`);
  }

  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): Promise<void> {
    return this.resume(response, `-exec-next --thread ${args.threadId}`);
  }

  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): Promise<void> {
    return this.resume(response, `-exec-step --thread ${args.threadId}`);
  }

  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): Promise<void> {
    return this.resume(response, `-exec-finish --thread ${args.threadId}`);
  }

  protected override async pauseRequest(response: DebugProtocol.PauseResponse): Promise<void> {
    if (this.notOnCore(response)) return;
    this.sendResponse(response);
    await this.gdb?.command('-exec-interrupt').catch((e: Error) => this.log(e.message));
  }

  protected override async disconnectRequest(response: DebugProtocol.DisconnectResponse, args: DebugProtocol.DisconnectArguments): Promise<void> {
    await this.end(args?.terminateDebuggee ?? this.startedGuest);
    this.sendResponse(response);
  }

  protected override async terminateRequest(response: DebugProtocol.TerminateResponse): Promise<void> {
    await this.end(true);
    this.sendResponse(response);
  }

  /** Lets the kernel run on (detach: gdb takes its breakpoints out), or stops the guest we started. */
  private async end(terminate: boolean): Promise<void> {
    this.quiet = true; // the halt before detaching is no stop to report
    const g = this.gdb;
    if (g) {
      if (this.running) await this.interrupt().catch(() => undefined);
      await g.command('-target-detach').catch(() => undefined);
      await g.exit();
      this.gdb = undefined;
    }
    if (terminate && this.startedGuest) this.guest?.stop();
    this.onEnded?.();
  }
}
