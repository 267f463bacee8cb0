/*
 * The one interface every view, command and (later) the debug adapter talk to a kernel through. The
 * simulator and an SSH connection both implement it; nothing above it knows which one it has. All reads
 * are async because an SSH target answers over the network.
 */
import type { ConnInfo, LockInfo, PipeInfo, ProcInfo } from '../core/sim/inspect';
import type { SqlValue } from '../core/sim/db';

export type { ConnInfo, LockInfo, PipeInfo, ProcInfo };

/** What a change touched, so views refresh only what they show of it. */
export interface Change {
  tables?: string[];
  locks?: boolean;
  waitQueues?: boolean;
  processes?: boolean;
  /** The target itself: loaded, reset, finished, disconnected. */
  target?: boolean;
}

export interface TargetInfo {
  kind: 'simulator' | 'ssh';
  /** One line for the Target view: "simulator (companion, sqliteos)" or "user@host". */
  label: string;
  details: Record<string, string>;
  state: string;
}

export interface WaitQueue {
  /** Stable id: "read_q", "write_q", "pipe 3 read_wq", "write mutex". */
  id: string;
  owner: string;
  name: string;
  sleepers: number[];
}

export interface TablePage {
  columns: string[];
  /** rowid first, then the table's columns. */
  rows: SqlValue[][];
  total: number;
}

export interface QueryRows {
  columns: string[];
  rows: SqlValue[][];
}

/** A request the target cannot answer (unknown table, lost connection), with the reason. */
export class TargetError extends Error {}

export interface Disposer {
  dispose(): void;
}

export interface Target {
  info(): TargetInfo;
  processes(): Promise<ProcInfo[]>;
  pipes(): Promise<PipeInfo[]>;
  locks(): Promise<LockInfo>;
  waitQueues(): Promise<WaitQueue[]>;
  tableNames(): Promise<string[]>;
  tablePage(table: string, offset: number, limit: number): Promise<TablePage>;
  /** One read-only SQL statement. */
  query(sql: string): Promise<QueryRows>;
  onDidChange(listener: (c: Change) => void): Disposer;
  dispose(): void;
}

/** The wait queues a LockInfo and the pipes name, in the order the Wait Queues view lists them. */
export function waitQueuesOf(locks: LockInfo, pipes: PipeInfo[]): WaitQueue[] {
  const out: WaitQueue[] = [
    { id: 'read_q', owner: 'VFS store', name: 'read_q', sleepers: locks.readQ },
    { id: 'write_q', owner: 'VFS store', name: 'write_q', sleepers: locks.writeQ },
  ];
  for (const p of pipes) {
    out.push({ id: `pipe ${p.dataId} read_wq`, owner: `pipe ${p.dataId}`, name: 'read_wq', sleepers: p.readWq });
    out.push({ id: `pipe ${p.dataId} write_wq`, owner: `pipe ${p.dataId}`, name: 'write_wq', sleepers: p.writeWq });
  }
  return out;
}
