/*
 * Between two polls of a real kernel: what changed (so views refresh only that), and busy tables kept at
 * their last good rows instead of turning empty.
 */
import { processesFrom } from './kernel-json';
import type { Snapshot } from './model';

/** Deep equality of parsed JSON-like values (bigints, byte arrays), stopping at the first difference. */
export function sameValue(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  if (typeof x !== 'object' || typeof y !== 'object' || x === null || y === null) return false;
  if (Array.isArray(x)) {
    if (!Array.isArray(y) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!sameValue(x[i], y[i])) return false;
    return true;
  }
  if (x instanceof Uint8Array || y instanceof Uint8Array) return x instanceof Uint8Array && y instanceof Uint8Array && Buffer.compare(x, y) === 0;
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  for (const k of kx) if (!sameValue((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k])) return false;
  return true;
}

/** The parts of the views a change touches (the same shape as the Target's change events). */
export interface SnapshotChange {
  tables?: string[];
  locks?: boolean;
  waitQueues?: boolean;
  processes?: boolean;
  target?: boolean;
}

/** What changed between two snapshots, so views refresh only that. */
export function diffSnapshots(a: Snapshot | undefined, b: Snapshot): SnapshotChange {
  if (!a) return { target: true, processes: true, locks: true, waitQueues: true, tables: ['*'] };
  const same = sameValue;
  const names = new Set([...Object.keys(a.tables), ...Object.keys(b.tables)]);
  const tables = [...names].filter((n) => !same(a.tables[n], b.tables[n]));
  const c: SnapshotChange = {};
  if (tables.length) c.tables = Object.keys(a.tables).join() === Object.keys(b.tables).join() ? tables : ['*'];
  if (!same(a.locks, b.locks)) c.locks = true;
  if (!same(a.queues, b.queues)) c.waitQueues = true;
  if (!same(a.processes, b.processes)) c.processes = true;
  return c;
}

/**
 * A table the kernel could not read this time (busy: a writer held PENDING) keeps the rows of the last
 * snapshot that could, marked with that snapshot's time, instead of showing as empty; the processes,
 * which come from pid_store, follow it.
 */
export function holdBusyTables(prev: Snapshot, next: Snapshot): void {
  let held = false;
  for (const [name, t] of Object.entries(next.tables)) {
    const old = prev.tables[name];
    if (!t.busy || !old || (old.busy && old.heldFrom === undefined)) continue;
    next.tables[name] = { ...old, busy: t.busy, heldFrom: old.heldFrom ?? prev.takenAt };
    held = true;
  }
  if (held && next.tables.pid_store?.heldFrom !== undefined) {
    // Their names as the last snapshot that could read pid_store had them.
    const names = { comm: new Map(prev.processes.flatMap((p) => (p.comm === undefined ? [] : [[p.pid, p.comm] as const]))), own: new Set(prev.processes.filter((p) => p.own).map((p) => p.pid)) };
    next.processes = processesFrom(next.tables.pid_store, next.queues, true, names);
  }
}
