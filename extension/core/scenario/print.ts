/*
 * A statement as the language writes it (the parser's inverse, comments aside): what a tool that
 * changes a statement (minimize) writes back.
 */
import type { Statement } from './ast';

export function printStatement(s: Statement): string {
  const expect = 'expect' in s && s.expect ? ` == ${s.expect.source}` : '';
  const head = `P${s.pid} `;
  switch (s.op) {
    case 'pipe':
      return `${head}pipe ${s.read.name} ${s.write.name}${s.nonblock ? ' nonblock' : ''}`;
    case 'fork':
    case 'thread':
      return `${head}${s.op} P${s.child}`;
    case 'write':
      return `${head}write ${s.fd.name} ${s.data.source}${expect}`;
    case 'read':
      return `${head}read ${s.fd.name} ${s.n}${expect}`;
    case 'close':
      return `${head}close ${s.fd.name}${expect}`;
    case 'query':
      return `${head}query ${JSON.stringify(s.sql)}`;
    case 'begin':
      return `${head}begin${s.write ? ' write' : ''}${expect}`;
    case 'savepoint':
    case 'release':
      return `${head}${s.op} ${s.name.name}${expect}`;
    case 'rollback_to':
      return `${head}rollback to ${s.name.name}${expect}`;
    default:
      return `${head}${s.op}${expect}`;
  }
}
