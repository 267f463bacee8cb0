/*
 * A scenario compiled for sqliteos-run (kernel-scripts/tools/sqliteos-run.c), the program that runs it
 * on a real kernel: one line per statement, fd labels as slot numbers, bytes and SQL as hex. The runner
 * never parses .sqlos, so this parser stays the only one. The format is described in the runner.
 */
import type { Scenario } from './ast';

export interface Plan {
  text: string;
  /** The fd label each slot stands for. */
  slots: string[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** `capacity`: the pipe capacity to run with (the runner sets sqliteos.pipe_capacity for the run). */
export function compilePlan(s: Scenario, capacity?: number): Plan {
  const slots: string[] = [];
  const slot = (name: string) => {
    let i = slots.indexOf(name);
    if (i < 0) i = slots.push(name) - 1;
    return i;
  };
  const lines = ['sqliteos-plan 1'];
  if (capacity !== undefined) lines.push(`capacity ${capacity}`);
  for (const st of s.statements) {
    const head = `s ${st.line} ${st.pid} ${st.op}`;
    switch (st.op) {
      case 'pipe':
        lines.push(`${head} ${slot(st.read.name)} ${slot(st.write.name)}${st.nonblock ? ' nonblock' : ''}`);
        break;
      case 'fork':
      case 'thread':
        lines.push(`${head} ${st.child}`);
        break;
      case 'write':
        lines.push(`${head} ${slot(st.fd.name)} ${hex(st.data.bytes)}`);
        break;
      case 'read':
        lines.push(`${head} ${slot(st.fd.name)} ${st.n}`);
        break;
      case 'close':
        lines.push(`${head} ${slot(st.fd.name)}`);
        break;
      case 'query':
        lines.push(`${head} ${hex(Buffer.from(st.sql, 'utf8'))}`);
        break;
      case 'begin':
        lines.push(st.write ? `${head} write` : head);
        break;
      case 'savepoint':
      case 'release':
      case 'rollback_to':
        lines.push(`${head} ${hex(Buffer.from(st.name.name, 'utf8'))}`);
        break;
      default:
        lines.push(head);
    }
  }
  lines.push('end', '');
  return { text: lines.join('\n'), slots };
}
