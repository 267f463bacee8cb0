/*
 * What the views ask a target, answered from one Snapshot: shared by every target that holds one (a
 * polled kernel, a kernel halted under the debugger). What a snapshot cannot show is NotShown with why.
 */
import type { Snapshot, Value } from '../core/model/model';
import { NotShown, TablePage, TargetError } from './target';

export function processesOf(s: Snapshot) {
  const ps = s.tables.pid_store;
  if (ps?.busy && ps.heldFrom === undefined) throw new NotShown(`the processes come from pid_store, which could not be read: ${ps.busy} (a writer holds PENDING)`);
  return s.processes;
}

export function locksOf(s: Snapshot) {
  if (!s.locks) throw new NotShown(s.unavailable ?? 'this kernel does not show its locks');
  return s.locks;
}

export function queuesOf(s: Snapshot) {
  if (!s.queues) throw new NotShown(s.unavailable ?? 'this kernel does not show its wait queues');
  return s.queues;
}

/** Rows keyed by their position in rowid order (`#`): the kernel's tables come without rowids. */
export function tablePageOf(s: Snapshot, label: string, table: string, offset: number, limit: number): TablePage {
  const t = s.tables[table];
  if (!t) throw new TargetError(`${label}: no table ${table}`);
  if (t.busy && t.heldFrom === undefined) throw new NotShown(`${table} could not be read: ${t.busy} (a writer holds PENDING, so readers wait); it shows again once the writer is through`);
  const rows: Value[][] = t.rows.slice(offset, offset + limit).map((r, i) => [offset + i + 1, ...r]);
  const note = t.heldFrom !== undefined ? `busy now (${t.busy}: a writer holds PENDING); rows as of ${new Date(t.heldFrom).toLocaleTimeString()}` : undefined;
  return { columns: ['#', ...t.columns], rows, total: t.rows.length, note };
}

export function rowOf(s: Snapshot, label: string, table: string, key: number) {
  const page = tablePageOf(s, label, table, key - 1, 1);
  return page.rows[0] ? { columns: page.columns, row: page.rows[0] } : undefined;
}
