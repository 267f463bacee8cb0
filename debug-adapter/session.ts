/*
 * The DAP session: translates between the Debug Adapter Protocol and ScenarioRuntime, nothing more.
 * Threads are the scenario's processes; frames are the statement and, inside a syscall, the micro-step in
 * the rendered algorithm; scopes are the process, the locks, the wait queues and the tables.
 */
import {
  Breakpoint,
  Handles,
  InitializedEvent,
  LoggingDebugSession,
  OutputEvent,
  Scope,
  Source,
  StackFrame,
  StoppedEvent,
  TerminatedEvent,
  Thread,
  Event,
  ErrorDestination,
} from '@vscode/debugadapter';
import type { DebugProtocol } from '@vscode/debugprotocol';
import * as fs from 'fs';
import * as path from 'path';
import type { OpName } from '../extension/core/sim/program';
import { EXCEPTION_FILTERS, EvaluateError, LaunchArgs, RuntimeVariable, ScenarioRuntime } from './runtime';

export interface SqliteosLaunchArgs extends DebugProtocol.LaunchRequestArguments, Omit<LaunchArgs, 'source'> {}

type VarProducer = () => DebugProtocol.Variable[];

const FILTER_LABELS: Record<string, string> = {
  block: 'A process blocks',
  deadlock: 'Deadlock',
  'lost-wakeup': 'Lost wake-up',
  invariant: 'Lock invariant broken (or a kernel error)',
  expectation: 'Expectation failed',
};

export class SqliteosDebugSession extends LoggingDebugSession {
  readonly runtime = new ScenarioRuntime();
  private vars = new Handles<VarProducer>();
  private program = '';
  /** Line breakpoints per file (VS Code sends them file by file, for every open file). */
  private breakpointsBySource = new Map<string, DebugProtocol.SourceBreakpoint[]>();
  private pendingFunctions: string[] = [];
  /** sourceReference per syscall program, for "step in". */
  private algorithms = new Map<number, { op: OpName; name: string; text: string }>();
  /** Called with the runtime once launched (the extension shows its kernel in the views). */
  onLaunched?: (rt: ScenarioRuntime) => void;
  /** Called on disconnect when onLaunched shared the kernel; otherwise the session closes it itself. */
  onDisconnect?: () => void;

  /**
   * readFile: how the scenario's text is read (vscode-mock-debug's FileAccessor): from disk when
   * standalone; the extension passes the editor's text, unsaved edits included, so the debugger runs
   * what the user sees.
   */
  constructor(private readonly readFile: (path: string) => Promise<string> = async (p) => fs.readFileSync(p, 'utf8')) {
    super();
    this.setDebuggerLinesStartAt1(true);
    this.setDebuggerColumnsStartAt1(true);
    this.runtime.on('stopped', (s) => {
      this.vars.reset();
      const e: DebugProtocol.StoppedEvent = new StoppedEvent(s.reason, s.pid, s.exception?.text ?? s.description);
      e.body.description = s.description;
      e.body.allThreadsStopped = true;
      this.sendEvent(e);
      this.sendEvent(new Event('sqliteos/state', this.runtime.inspect().locks));
    });
    this.runtime.on('output', (text) => this.sendEvent(new OutputEvent(text, 'console')));
    this.runtime.on('end', () => this.sendEvent(new TerminatedEvent()));
  }

  protected override initializeRequest(response: DebugProtocol.InitializeResponse): void {
    response.body = {
      supportsConfigurationDoneRequest: true,
      supportsFunctionBreakpoints: true,
      supportsConditionalBreakpoints: true,
      supportsStepBack: true,
      supportsEvaluateForHovers: true,
      supportsTerminateRequest: true,
      exceptionBreakpointFilters: EXCEPTION_FILTERS.map((f) => ({ filter: f, label: FILTER_LABELS[f], default: f !== 'block' })),
    };
    this.sendResponse(response);
  }

  protected override async launchRequest(response: DebugProtocol.LaunchResponse, args: SqliteosLaunchArgs): Promise<void> {
    try {
      this.program = path.resolve(args.program);
      const source = await this.readFile(this.program);
      await this.runtime.launch({ ...args, program: this.program, source });
    } catch (e) {
      return this.sendErrorResponse(response, 1001, `Cannot launch ${args.program}: ${(e as Error).message}`);
    }
    this.onLaunched?.(this.runtime);
    // Breakpoints can arrive before the scenario is known; verify this file's now.
    const mine = this.breakpointsBySource.get(this.program) ?? [];
    this.runtime.setBreakpoints(mine.map((b) => ({ line: b.line, condition: b.condition })));
    this.runtime.setFunctionBreakpoints(this.pendingFunctions);
    this.sendResponse(response);
    this.sendEvent(new InitializedEvent());
    this.launchArgs = args;
  }

  private launchArgs: SqliteosLaunchArgs | undefined;

  protected override configurationDoneRequest(response: DebugProtocol.ConfigurationDoneResponse): void {
    this.sendResponse(response);
    this.runtime.start(this.launchArgs?.stopOnEntry ?? false);
  }

  protected override setBreakPointsRequest(response: DebugProtocol.SetBreakpointsResponse, args: DebugProtocol.SetBreakpointsArguments): void {
    const bps = args.breakpoints ?? [];
    const file = args.source.path ? path.resolve(args.source.path) : '';
    this.breakpointsBySource.set(file, bps);
    if (!this.runtime.launched) {
      response.body = { breakpoints: bps.map((b) => ({ verified: false, line: b.line })) };
      return this.sendResponse(response);
    }
    // Another file's breakpoints stay in that file: this session runs one scenario.
    if (file !== this.program) {
      const message = `this session runs ${path.basename(this.program)}, not ${path.basename(file) || 'this source'}`;
      response.body = { breakpoints: bps.map((b) => ({ verified: false, line: b.line, message })) };
      return this.sendResponse(response);
    }
    const set = this.runtime.setBreakpoints(bps.map((b) => ({ line: b.line, condition: b.condition })));
    response.body = { breakpoints: set.map((b) => ({ ...new Breakpoint(b.verified, b.line), id: b.id, message: b.verified ? undefined : 'no statement at or after this line' })) };
    this.sendResponse(response);
  }

  protected override setFunctionBreakPointsRequest(response: DebugProtocol.SetFunctionBreakpointsResponse, args: DebugProtocol.SetFunctionBreakpointsArguments): void {
    this.pendingFunctions = args.breakpoints.map((b) => b.name);
    const ok = this.runtime.launched ? this.runtime.setFunctionBreakpoints(this.pendingFunctions) : this.pendingFunctions.map(() => true);
    response.body = { breakpoints: ok.map((v) => ({ verified: v, message: v ? undefined : 'not a syscall of the scenario language' })) };
    this.sendResponse(response);
  }

  protected override setExceptionBreakPointsRequest(response: DebugProtocol.SetExceptionBreakpointsResponse, args: DebugProtocol.SetExceptionBreakpointsArguments): void {
    this.runtime.setExceptionFilters(args.filters);
    this.sendResponse(response);
  }

  protected override threadsRequest(response: DebugProtocol.ThreadsResponse): void {
    response.body = { threads: this.runtime.threads().map((t) => new Thread(t.id, t.name)) };
    this.sendResponse(response);
  }

  private algorithmRef(op: OpName): number {
    for (const [ref, a] of this.algorithms) if (a.op === op) return ref;
    const ref = this.algorithms.size + 1;
    this.algorithms.set(ref, { op, ...this.runtime.algorithm(op) });
    return ref;
  }

  protected override stackTraceRequest(response: DebugProtocol.StackTraceResponse, args: DebugProtocol.StackTraceArguments): void {
    const src = new Source(path.basename(this.program), this.program);
    const frames = this.runtime.stack(args.threadId).map((f) => {
      if (f.kind === 'statement') return new StackFrame(f.id, f.name, src, f.line, 1);
      const ref = this.algorithmRef(f.op);
      return new StackFrame(f.id, f.name, new Source(this.algorithms.get(ref)!.name, undefined, ref, 'sqliteos-algorithm'), f.line, 1);
    });
    response.body = { stackFrames: frames, totalFrames: frames.length };
    this.sendResponse(response);
  }

  protected override sourceRequest(response: DebugProtocol.SourceResponse, args: DebugProtocol.SourceArguments): void {
    const a = this.algorithms.get(args.sourceReference);
    if (!a) return this.sendErrorResponse(response, 1002, `no source ${args.sourceReference}`);
    response.body = { content: a.text, mimeType: 'text/plain' };
    this.sendResponse(response);
  }

  protected override scopesRequest(response: DebugProtocol.ScopesResponse, args: DebugProtocol.ScopesArguments): void {
    const ref = (vars: () => RuntimeVariable[]): number => this.vars.create(() => vars().map((x) => ({ name: x.name, value: x.value, variablesReference: x.children ? ref(x.children) : 0 })));
    response.body = {
      scopes: this.runtime.scopes(args.frameId).map((sc) => ({ ...new Scope(sc.name, ref(sc.variables), sc.expensive), ...(sc.locals ? { presentationHint: 'locals' } : {}) })),
    };
    this.sendResponse(response);
  }

  protected override variablesRequest(response: DebugProtocol.VariablesResponse, args: DebugProtocol.VariablesArguments): void {
    const producer = this.vars.get(args.variablesReference);
    response.body = { variables: producer ? producer() : [] };
    this.sendResponse(response);
  }

  protected override evaluateRequest(response: DebugProtocol.EvaluateResponse, args: DebugProtocol.EvaluateArguments): void {
    try {
      response.body = { result: this.runtime.evaluate(args.expression, args.frameId), variablesReference: 0 };
      this.sendResponse(response);
    } catch (e) {
      if (!(e instanceof EvaluateError)) throw e;
      // Said in the console where it was typed, not as a pop-up (destination 0: neither user nor telemetry).
      this.sendErrorResponse(response, { id: 1003, format: e.message.replace(/[{}]/g, ''), showUser: false }, undefined, undefined, 0 as ErrorDestination);
    }
  }

  protected override continueRequest(response: DebugProtocol.ContinueResponse): void {
    this.sendResponse(response);
    this.runtime.continue();
  }
  protected override nextRequest(response: DebugProtocol.NextResponse, args: DebugProtocol.NextArguments): void {
    this.sendResponse(response);
    this.runtime.next(args.threadId);
  }
  protected override stepInRequest(response: DebugProtocol.StepInResponse, args: DebugProtocol.StepInArguments): void {
    this.sendResponse(response);
    this.runtime.stepIn(args.threadId);
  }
  protected override stepOutRequest(response: DebugProtocol.StepOutResponse, args: DebugProtocol.StepOutArguments): void {
    this.sendResponse(response);
    this.runtime.stepOut(args.threadId);
  }
  protected override stepBackRequest(response: DebugProtocol.StepBackResponse): void {
    this.sendResponse(response);
    this.runtime.stepBack();
  }
  protected override reverseContinueRequest(response: DebugProtocol.ReverseContinueResponse): void {
    this.sendResponse(response);
    this.runtime.reverseContinue();
  }
  protected override pauseRequest(response: DebugProtocol.PauseResponse): void {
    this.runtime.pause();
    this.sendResponse(response);
  }
  protected override terminateRequest(response: DebugProtocol.TerminateResponse): void {
    this.sendResponse(response);
    this.sendEvent(new TerminatedEvent());
  }
  protected override disconnectRequest(response: DebugProtocol.DisconnectResponse): void {
    // Inline in the extension the views may still show the kernel: the extension decides when it closes.
    if (this.onDisconnect) this.onDisconnect();
    else this.runtime.close();
    this.sendResponse(response);
  }
}
