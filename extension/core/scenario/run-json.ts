/*
 * `sqliteos run --json`'s contract: a RunResult as JSON, with its queues as strings. The shape is older
 * than the model's types and kept as it is (scripts, the differential corpus and saved results read
 * it): each pipe lists its sleepers (readWq, writeWq), each process names the queue it waits on
 * ("pipe 3 read_wq", "write mutex"), and `lockState` is flat (readQ, writeQ, the mutex's owner and
 * waiters, connections by pid).
 */
import { Pipe, QueueId, queueName, sleepersOn } from '../model/model';
import type { RunResult } from './runner';

/** A pipe as the model has it, with the pids asleep on each end. */
export interface PipeJson extends Pipe {
  readWq: number[];
  writeWq: number[];
}

export interface ProcJson {
  pid: number;
  handler: number;
  parent: number;
  state: 'runnable' | 'blocked' | 'exited';
  waitingOn: string | null;
  inside: { op: string; line: number; step: string } | null;
}

export interface LockStateJson {
  currentMaxLock: string;
  numReaders: number;
  writeMutexOwner: number | null;
  writeMutexWaiters: number[];
  readQ: number[];
  writeQ: number[];
  connections: { id: number; pid: number; level: string; purpose: string }[];
}

export type RunJson = Omit<RunResult, 'pipes' | 'processes' | 'lockState' | 'queues'> & {
  pipes: PipeJson[];
  processes: ProcJson[];
  lockState: LockStateJson | null;
};

export function runJson(r: RunResult): RunJson {
  const { pipes, processes, lockState: l, queues, anomalies, ...head } = r;
  const on = (id: QueueId) => [...sleepersOn(queues, id)];
  return {
    ...head,
    pipes: pipes.map((p) => ({
      ...p,
      readWq: on({ kind: 'pipe', dataId: p.dataId, queue: 'read_wq' }),
      writeWq: on({ kind: 'pipe', dataId: p.dataId, queue: 'write_wq' }),
    })),
    processes: processes.map((p) => ({
      pid: p.pid,
      handler: p.handler,
      parent: p.parent ?? 0,
      state: p.state,
      waitingOn: p.waitingOn ? queueName(p.waitingOn) : null,
      inside: p.inside,
    })),
    lockState: l && {
      currentMaxLock: l.currentMaxLock,
      numReaders: l.numReaders,
      writeMutexOwner: l.writeMutex.owner,
      writeMutexWaiters: [...l.writeMutex.waiters],
      readQ: on({ kind: 'store', queue: 'read_q' }),
      writeQ: on({ kind: 'store', queue: 'write_q' }),
      connections: l.connections.map((c) => ({ id: c.id, pid: c.owner, level: c.level, purpose: c.purpose })),
    },
    anomalies,
  };
}
