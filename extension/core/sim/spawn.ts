/*
 * fork and thread, for both profiles: under the write mutex, insert the child into pid_store, copy the
 * parent's pid_pipe rows (fork only), commit, then copy or share the fd table. The profiles differ only in
 * the details a Spawn names: which id keys the rows, and whether the fd numbers survive the fork.
 */
import { Exec, Program, begin, busyTail, commit, execSql, lockWrite, mutexLock, mutexUnlock, ret } from './program';
import { Q } from './schema';

export interface Spawn {
  insertText: string;
  insert: (x: Exec, child: number) => void;
  copyText: string;
  /** The pid_pipe key of the parent's rows: its handler (companion) or its own pid (upstream). */
  copyFrom: (x: Exec) => number;
  /** Whether the child's fd table gets the parent's entries (upstream's reserved numbers do not survive). */
  copyFdTable: boolean;
  copyProcessText: string;
}

function childOf(x: Exec): number {
  const c = x.l.call;
  if (c.op !== 'fork' && c.op !== 'thread') throw new Error(`${c.op} is not fork or thread`);
  return c.child;
}

export function spawnProgram(kind: 'fork' | 'thread', s: Spawn): Program {
  return new Program(kind, [
    mutexLock(),
    begin(),
    ...lockWrite(),
    { id: 'insert_proc', kind: 'sql', text: s.insertText, run: (x) => s.insert(x, childOf(x)) },
    {
      id: 'copy_fds',
      kind: 'sql',
      text: s.copyText,
      when: () => kind === 'fork',
      run: (x) => void execSql(x, Q.copyFds, [childOf(x), s.copyFrom(x)]),
    },
    ...commit(),
    { id: 'copy_process', kind: 'kernel', text: s.copyProcessText, run: (x) => x.k.spawn(x.p, childOf(x), kind === 'thread', s.copyFdTable) },
    mutexUnlock(),
    ret('return', 'return child pid', childOf),
    ...busyTail(true),
  ]);
}
