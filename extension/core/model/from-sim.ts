/*
 * The simulator in the target model's terms: processes, pipes, locks and wait queues of a KernelCore.
 * The scenario's own vocabulary (the line a process is at, the micro-step) becomes the `activity` text.
 */
import type { KernelCore } from '../sim/kernel';
import type { OpName } from '../sim/program';
import { LOCK_NAMES } from '../sim/types';
import { pipes as pipeInfos } from '../sim/inspect';
import type { Locks, Pipe, Process, WaitQueue } from './model';
import { LockLevel } from './model';

const STATE = { runnable: 'runnable', blocked: 'blocked', exited: 'exited' } as const;

export function simProcesses(k: KernelCore): Process[] {
  return Object.values(k.state.procs).map((p) => ({
    pid: p.pid,
    handler: p.handler,
    parent: p.parent,
    state: STATE[p.status],
    waitingOn: p.waitingOn,
    // The micro-step as the algorithm says it ("Lock write mutex"), not its internal id.
    activity: p.current ? `${p.current.op} (line ${p.current.line}): ${k.program(p.current.op as OpName).at(p.current.step).text}` : null,
  }));
}

export function simPipes(k: KernelCore): Pipe[] {
  return pipeInfos(k).map(({ dataId, buffered, readers, writers }) => ({ dataId, buffered, readers, writers }));
}

export function simLocks(k: KernelCore): Locks {
  const s = k.state.store;
  const level = (n: number) => LOCK_NAMES[n] as LockLevel;
  return {
    currentMaxLock: level(s.currentMaxLock),
    numReaders: s.numReaders,
    writeMutex: { owner: k.state.mutex.owner, waiters: [...k.state.mutex.waiters] },
    connections: s.conns.map((c) => ({ id: c.id, owner: c.pid, level: level(c.level), purpose: c.purpose })),
    transactions: Object.values(k.state.procs)
      .filter((p) => p.txnConn !== null)
      .map((p) => ({ pid: p.pid, kind: 'read' as const })),
  };
}

export function simQueues(k: KernelCore): WaitQueue[] {
  const s = k.state.store;
  const out: WaitQueue[] = [
    { id: { kind: 'store', queue: 'read_q' }, sleepers: s.readQ.map((w) => w.pid) },
    { id: { kind: 'store', queue: 'write_q' }, sleepers: s.writeQ.map((w) => w.pid) },
    { id: { kind: 'mutex' }, sleepers: [...k.state.mutex.waiters] },
  ];
  for (const p of Object.values(k.state.pipes)) {
    out.push({ id: { kind: 'pipe', dataId: p.dataId, queue: 'read_wq' }, sleepers: p.readWq.map((w) => w.pid) });
    out.push({ id: { kind: 'pipe', dataId: p.dataId, queue: 'write_wq' }, sleepers: p.writeWq.map((w) => w.pid) });
  }
  return out;
}
