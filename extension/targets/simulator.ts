/*
 * The simulator as a Target: a scenario loaded on the embedded simulator, stepped by statement or by
 * micro-step under the default schedule, or an empty kernel with only P1. sql.js is loaded on first use,
 * not at activation.
 */
import { SimEvent } from '../core/sim/events';
import { simLocks, simPipes, simProcesses, simQueues } from '../core/model/from-sim';
import { SimEngine } from '../core/sim/engine';
import { SimOptions } from '../core/sim/types';
import { Scenario } from '../core/scenario/ast';
import { quoteIdent } from '../core/sim/db';
import { RunResult, ScenarioRun } from '../core/scenario/runner';
import { Change, Disposer, QueryRows, Target, TargetError, TablePage, TargetInfo, WaitQueue, ChangeListeners } from './target';

const EMPTY: Scenario = { file: '(no scenario)', statements: [], pids: [1] };

/** Which tables a statement of the kernel's touches, read off its SQL. */
export function tablesOf(sql: string): string[] {
  const m = /^\s*(?:INSERT\s+(?:OR\s+[A-Za-z]+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+([A-Za-z_][A-Za-z0-9_]*)/i.exec(sql);
  return m ? [m[1]] : [];
}

/**
 * What a kernel event changes for the views. `touched` collects the tables written since the last
 * COMMIT/ROLLBACK: views show committed data, so those tables refresh again when it ends.
 */
function changeOf(e: SimEvent, touched: Set<string>): Change | null {
  switch (e.type) {
    case 'sql': {
      const t = tablesOf(e.sql);
      t.forEach((x) => touched.add(x));
      return { tables: t };
    }
    case 'step': {
      if (e.kind !== 'txn' || !/COMMIT|ROLLBACK/.test(e.text) || touched.size === 0) return null;
      const tables = [...touched];
      touched.clear();
      return { tables, locks: true };
    }
    case 'lock':
    case 'mutex':
      return { locks: true, waitQueues: true };
    case 'sleep':
    case 'wake':
      return { waitQueues: true, processes: true, locks: true };
    case 'op-done':
    case 'op-start':
      return { processes: true, target: true };
    default:
      return null;
  }
}

/** The simulator behind a target, if that is what it is (commands that step a scenario need it). */
export function simulatorOf(t: Target | undefined): SimulatorTarget | undefined {
  return t instanceof SimulatorTarget ? t : undefined;
}

export class SimulatorTarget implements Target {
  private readonly listeners = new ChangeListeners();
  private readonly touched = new Set<string>();
  /** The scenario file's path, so the views can take the user to a line of it. */
  sourcePath: string | undefined;

  private constructor(
    readonly run: ScenarioRun,
    readonly options: SimOptions,
    /** What dispose() does with the kernel: close it, unless someone else (a debug session) shares it. */
    private readonly release: () => void = () => run.kernel.close(),
  ) {
    run.kernel.on((e) => {
      const c = changeOf(e, this.touched);
      if (c) this.fire(c);
    });
  }

  /**
   * A target over a run someone else drives (a debug session): the views follow its state. `release` is
   * called instead of closing the kernel when the views let go of it.
   */
  static wrap(run: ScenarioRun, release: () => void): SimulatorTarget {
    return new SimulatorTarget(run, run.kernel.opts, release);
  }

  static async create(scenario: Scenario | null, opts: Partial<SimOptions>): Promise<SimulatorTarget> {
    const run = await ScenarioRun.create(scenario ?? EMPTY, opts);
    return new SimulatorTarget(run, run.kernel.opts);
  }

  get kernel(): SimEngine {
    return this.run.kernel;
  }

  get scenario(): Scenario | null {
    return this.run.scenario === EMPTY ? null : this.run.scenario;
  }

  private fire(c: Change): void {
    this.listeners.fire(c);
  }

  info(): TargetInfo {
    const o = this.options;
    const next = this.run.nextRunnable();
    const nextStmt = next === undefined ? undefined : this.run.nextStatement(next);
    const blocked = Object.values(this.kernel.state.procs).filter((p) => p.status === 'blocked').length;
    let state = nextStmt ? `next: line ${nextStmt.line} (${nextStmt.text})` : blocked ? `stuck: ${blocked} process(es) blocked` : 'finished';
    if (!this.scenario) state = 'idle: no scenario loaded';
    const details: Record<string, string> = { profile: o.profile, locks: o.locks };
    if (o.profile === 'companion') details.capacity = `${o.capacity} bytes`;
    details.scenario = this.scenario?.file ?? '(none)';
    details.ops = String(this.run.ops.length);
    const anomalies = [...this.run.anomalies, ...this.run.stuck()].map(({ kind, line, message }) => ({ kind, line, message }));
    details.anomalies = String(anomalies.length);
    return { kind: 'simulator', label: `simulator (${o.profile}, ${o.locks})`, details, state, anomalies, source: this.sourcePath };
  }

  /** Runs the next statement of the default schedule; false when nothing can run. */
  stepStatement(): boolean {
    return this.advance((pid) => this.run.runStatement(pid));
  }

  /** One micro-step of the process the default schedule would run; false when nothing can run. */
  stepMicro(): boolean {
    return this.advance((pid) => this.run.step(pid));
  }

  private advance(move: (pid: number) => unknown): boolean {
    const pid = this.run.nextRunnable();
    if (pid === undefined) return false;
    move(pid);
    this.fire({ target: true });
    return true;
  }

  runToEnd(): RunResult {
    this.run.runDefault();
    this.fire({ target: true, locks: true, waitQueues: true, processes: true, tables: ['*'] });
    return this.run.result();
  }

  result(): RunResult {
    return this.run.result();
  }

  async processes() {
    return simProcesses(this.kernel);
  }
  async pipes() {
    return simPipes(this.kernel);
  }
  async locks() {
    return simLocks(this.kernel);
  }
  async waitQueues(): Promise<WaitQueue[]> {
    return simQueues(this.kernel);
  }
  async tableNames() {
    return this.kernel.db.tableNames();
  }

  async tablePage(table: string, offset: number, limit: number): Promise<TablePage> {
    const db = this.kernel.db;
    if (!db.tableNames().includes(table)) throw new TargetError(`no table ${table}`);
    return db.readCommitted(() => {
      const q = quoteIdent(table);
      const cols = db.all('SELECT name FROM pragma_table_info(?)', [table]).map((r) => String(r[0]));
      const rows = db.all(`SELECT rowid, * FROM ${q} ORDER BY rowid LIMIT ? OFFSET ?`, [limit, offset]);
      const total = db.get(`SELECT count(*) FROM ${q}`)![0] as number;
      return { columns: ['rowid', ...cols], rows, total };
    });
  }

  async row(table: string, rowid: number) {
    const db = this.kernel.db;
    if (!db.tableNames().includes(table)) throw new TargetError(`no table ${table}`);
    const res = db.readCommitted(() => db.queryReadOnly(`SELECT rowid, * FROM ${quoteIdent(table)} WHERE rowid = ${Number(rowid)}`));
    return res.rows[0] ? { columns: res.columns, row: res.rows[0] } : undefined;
  }

  async query(sql: string): Promise<QueryRows> {
    return this.kernel.db.queryReadOnly(sql);
  }

  onDidChange(listener: (c: Change) => void): Disposer {
    return this.listeners.add(listener);
  }

  dispose(): void {
    this.listeners.clear();
    this.release();
  }
}
