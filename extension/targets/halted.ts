/*
 * A kernel halted under the debugger (debug-adapter/kernel-session.ts) as a Target: the snapshot read
 * from its memory at the last stop. While it runs between stops the views keep that snapshot, marked
 * stale with where it was taken; they read nothing from the kernel meanwhile (the SSH target it covers
 * does not poll: Session.lend).
 */
import type { Snapshot } from '../core/model/model';
import { diffSnapshots } from '../core/model/diff';
import { Change, Disposer, QueryRows, Target, TargetError, TargetInfo, ChangeListeners } from './target';
import { locksOf, processesOf, queuesOf, rowOf, tablePageOf } from './snapshot-reads';

export class HaltedKernelTarget implements Target {
  private snap: Snapshot | undefined;
  private where = 'attaching…';
  private error: string | undefined;
  private running = false;
  private readonly listeners = new ChangeListeners();

  /** label: "the companion kernel" (under gdb), or "core FILE" (post-mortem, read by our own reader). */
  constructor(
    private readonly label: string,
    private readonly from: 'gdb' | 'core' = 'gdb',
  ) {}

  /** A stop: what was read from memory there (undefined, with why, when it could not be read). */
  stopped(s: Snapshot | undefined, where: string, error?: string): void {
    const change = s ? diffSnapshots(this.snap, s) : { target: true };
    change.target = true;
    if (s) this.snap = s;
    this.where = where;
    this.error = error;
    this.running = false;
    this.fire(change);
  }

  resumed(): void {
    this.running = true;
    this.fire({ target: true });
  }

  info(): TargetInfo {
    const details: Record<string, string> = { kernel: this.label, 'read from': this.from === 'gdb' ? 'its memory, through gdb (the layout record)' : 'the saved core (the layout record, physical memory through its page tables)' };
    if (this.snap) details['last snapshot'] = new Date(this.snap.takenAt).toLocaleTimeString();
    const warnings = [...(this.error ? [`SQLiteOS could not be read from memory: ${this.error}`] : []), ...(this.snap?.warnings ?? [])];
    return {
      kind: 'local',
      label: this.from === 'gdb' ? `${this.label} under gdb` : this.label,
      details,
      state: this.running ? 'running under the debugger' : this.where,
      stale: this.running && this.snap ? { since: this.snap.takenAt, reason: `running: the views show it as it was ${this.where}` } : undefined,
      warnings: warnings.length ? warnings : undefined,
    };
  }

  private current(): Snapshot {
    if (!this.snap) throw new TargetError(this.error ? `SQLiteOS could not be read from memory: ${this.error}` : 'the kernel has not stopped yet: its state is read from memory at each stop');
    return this.snap;
  }

  async processes() {
    return processesOf(this.current());
  }
  async pipes() {
    return this.current().pipes;
  }
  async locks() {
    return locksOf(this.current());
  }
  async waitQueues() {
    return queuesOf(this.current());
  }
  async tableNames() {
    return Object.keys(this.current().tables);
  }
  async tablePage(table: string, offset: number, limit: number) {
    return tablePageOf(this.current(), this.label, table, offset, limit);
  }
  async row(table: string, key: number) {
    return rowOf(this.current(), this.label, table, key);
  }

  async query(): Promise<QueryRows> {
    throw new TargetError('the kernel is under the debugger: a query runs through syscall 549, in a kernel that runs; the Debug Console takes gdb commands, and the views show the tables read from memory');
  }

  onDidChange(listener: (c: Change) => void): Disposer {
    return this.listeners.add(listener);
  }

  private fire(c: Change): void {
    this.listeners.fire(c);
  }

  dispose(): void {
    this.listeners.clear();
  }
}
