/*
 * The one interface every view and command talks to a kernel through. The simulator, an SSH connection
 * and this machine implement it; nothing above it knows which one it has. Its types are the target
 * model's (core/model), not any one source's. Reads are async (an SSH target answers over the network);
 * info() is not: it reports what the target already knows, so a view can draw without waiting.
 */
import type { Value } from '../core/model/model';

export type { Connection, LockLevel, Locks, Pipe, Process, QueueId, Snapshot, WaitQueue, Value } from '../core/model/model';
import type { Locks, Pipe, Process, WaitQueue } from '../core/model/model';

/** What a change touched, so views refresh only what they show of it. */
export interface Change {
  tables?: string[];
  locks?: boolean;
  waitQueues?: boolean;
  processes?: boolean;
  /** The target itself: loaded, reset, finished, connected, disconnected. */
  target?: boolean;
}

export interface TargetInfo {
  kind: 'simulator' | 'ssh' | 'local';
  /** One line for the Target view: "simulator (companion, sqliteos)" or "root@127.0.0.1:2222". */
  label: string;
  details: Record<string, string>;
  /** One line: "next: line 7 (...)", "connected: companion kernel 6.1.0", "disconnected: ...". */
  state: string;
  /** Set while what the views show is an old snapshot (a dropped connection), with its time. */
  stale?: { since: number; reason: string };
  /** Problems a user should act on (no SQLiteOS kernel, no root), each one line. */
  warnings?: string[];
  /** What went wrong in a scenario run, each at its line of `source` (a file path), if there is one. */
  anomalies?: { kind: string; line: number; message: string }[];
  source?: string;
}

export interface TablePage {
  /**
   * The row key first, then the table's columns. The key is `rowid` where the source has one (the
   * simulator), `#` (the position in rowid order) where it does not (the kernel's debugfs tables).
   */
  columns: string[];
  rows: Value[][];
  total: number;
  /** Said beside the table when its rows are not the latest (an earlier copy of a busy table). */
  note?: string;
}

export interface QueryRows {
  columns: string[];
  rows: Value[][];
}

/** A request the target cannot answer (unknown table, lost connection), with the reason. */
export class TargetError extends Error {}

/** Something this kind of kernel does not show at all (the published kernel's locks): not an error. */
export class NotShown extends TargetError {}

export interface Disposer {
  dispose(): void;
}

export interface Target {
  info(): TargetInfo;
  processes(): Promise<Process[]>;
  pipes(): Promise<Pipe[]>;
  locks(): Promise<Locks>;
  waitQueues(): Promise<WaitQueue[]>;
  tableNames(): Promise<string[]>;
  tablePage(table: string, offset: number, limit: number): Promise<TablePage>;
  /** One row by the key its TablePage gave it (columns as in the page), or undefined if it is gone. */
  row(table: string, key: number): Promise<{ columns: string[]; row: Value[] } | undefined>;
  /** One read-only SQL statement. */
  query(sql: string): Promise<QueryRows>;
  onDidChange(listener: (c: Change) => void): Disposer;
  /** Whether any view shows this target: a polling target polls only while one does. */
  setVisible?(visible: boolean): void;
  dispose(): void;
}

/** A target's change listeners: added (with a way to remove), told of a change, dropped at dispose. */
export class ChangeListeners {
  private list: ((c: Change) => void)[] = [];

  add(listener: (c: Change) => void): Disposer {
    this.list.push(listener);
    return { dispose: () => (this.list = this.list.filter((l) => l !== listener)) };
  }

  fire(c: Change): void {
    for (const l of this.list) l(c);
  }

  clear(): void {
    this.list = [];
  }
}
