/*
 * The kernel debugger's "SQLiteOS" scope: a snapshot read from a halted kernel's memory (or a saved
 * core) as variables, in the words the views use. `listRef` gives a variables reference to a list.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { queueName } from '../extension/core/model/model';
import type { Snapshot } from '../extension/core/model/model';

export function sqliteosVariables(s: Snapshot | undefined, error: string | undefined, listRef: (items: DebugProtocol.Variable[]) => number): DebugProtocol.Variable[] {
  if (!s) return [{ name: 'unavailable', value: error ?? 'not read', variablesReference: 0 }];
  const leaf = (name: string, value: string | number): DebugProtocol.Variable => ({ name, value: String(value), variablesReference: 0 });
  const list = (name: string, value: string, items: DebugProtocol.Variable[]): DebugProtocol.Variable => ({ name, value, variablesReference: items.length ? listRef(items) : 0 });
  const l = s.locks!;
  const out = [
    leaf('current_max_lock', l.currentMaxLock),
    leaf('num_readers', l.numReaders),
    leaf('write mutex', l.writeMutex.owner === null ? 'free' : `held by ${l.writeMutex.owner}${l.writeMutex.waiters.length ? `, ${l.writeMutex.waiters.join(', ')} waiting` : ''}`),
    list('connections', `${l.connections.length}`, l.connections.map((c) => leaf(`connection ${c.id} (${c.purpose})`, `${c.level}${c.owner ? ` by ${c.owner}` : ''}`))),
    list('transactions', `${l.transactions.length}`, l.transactions.map((t) => leaf(`${t.pid}`, t.kind))),
    list('wait queues', `${(s.queues ?? []).reduce((n, q) => n + q.sleepers.length, 0)} asleep`, (s.queues ?? []).map((q) => leaf(queueName(q.id), q.sleepers.join(', ') || 'empty'))),
    list('pipes', `${s.pipes.length}`, s.pipes.map((p) => leaf(`pipe ${p.dataId}`, `${p.buffered} bytes, read end ${p.readers ? 'open' : 'closed'}, write end ${p.writers ? 'open' : 'closed'}`))),
    list('tables', Object.keys(s.tables).join(', '), Object.entries(s.tables).map(([n, t]) => leaf(n, t.busy ? `unreadable: ${t.busy}` : `${t.count} rows`))),
  ];
  for (const w of s.warnings ?? []) out.push(leaf('warning', w));
  return out;
}
