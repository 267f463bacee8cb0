/* The readable summary `sqliteos run` prints without --json: what ran, what is left, what went wrong. */
import type { RunResult } from './runner';
import { queueName } from '../model/model';

function result(r: RunResult['ops'][number]): string {
  if (r.error) return `${JSON.stringify(r.result)}  ${r.error}`;
  if (Array.isArray(r.result) && r.op === 'query') return `${r.result.length} row(s)`;
  const data = r.data !== undefined ? `  ${r.data}` : '';
  return `${JSON.stringify(r.result)}${data}`;
}

export function summarize(res: RunResult, source: string[]): string {
  const out: string[] = [];
  const cap = res.profile === 'companion' ? `, capacity ${res.capacity}` : '';
  out.push(`${res.file}: profile ${res.profile}, locks ${res.locks}${cap}`);
  out.push('');
  for (const op of res.ops) {
    const text = (source[op.line - 1] ?? '').replace(/\s*#.*$/, '').trim();
    out.push(`  ${String(op.line).padStart(4)}  ${text.padEnd(36)} -> ${result(op)}`);
  }
  out.push('');
  out.push(
    'processes: ' +
      res.processes.map((p) => `P${p.pid} ${p.state}${p.waitingOn ? ` on ${queueName(p.waitingOn)}` : ''}`).join(', '),
  );
  if (res.pipes.length > 0) {
    out.push('pipes:     ' + res.pipes.map((p) => `#${p.dataId} ${p.buffered} B buffered, ${p.readers}r/${p.writers}w`).join('; '));
  }
  const l = res.lockState;
  if (l) out.push(`locks:     current_max_lock ${l.currentMaxLock}, num_readers ${l.numReaders}, write mutex ${l.writeMutex.owner === null ? 'free' : `P${l.writeMutex.owner}`}`);
  else out.push(`locks:     not shown (${res.hidden ?? 'this kernel shows none'})`);
  const rows = Object.entries(res.tables).map(([t, r]) => (res.unreadable?.includes(t) ? `${t} unreadable (busy: a writer holds PENDING)` : `${t} ${r.length}`));
  out.push(`tables:    ${rows.join(', ')} row(s)`);
  out.push('');
  if (res.anomalies.length === 0) {
    out.push('ok: no anomaly');
  } else {
    for (const a of res.anomalies) out.push(`${res.file}:${a.line}: ${a.kind}: ${a.message}`);
    out.push(`FAILED: ${res.anomalies.length} anomal${res.anomalies.length === 1 ? 'y' : 'ies'}`);
  }
  return out.join('\n');
}

/** A scenario's first comment line: what the example picker shows beside its name. */
export function firstComment(text: string): string {
  return /^\s*#\s*(.+)$/m.exec(text)?.[1].trim() ?? '';
}
