/*
 * A process asleep when nothing is left to run: a deadlock (what it waits for never came) or a lost
 * wake-up (what it waits for already holds, but the wake-up that would say so was missed). One rule for
 * every kernel: the simulator's runs and a real kernel's (core/kernel-output/run-result.ts) name the same
 * sleeper the same way, so `sqliteos diff` compares like with like.
 */
import { Locks, Pipe, QueueId, openEnds, queueName } from './model';

/** What the rule reads at the end of a run. */
export interface WakeView {
  pipes: Pipe[];
  /** null: the kernel shows none (the published one); a sleeper on a lock's wait condition is then unseen. */
  locks: Locks | null;
  /** The bytes a pipe holds before its writers wait. */
  capacity: number;
  /** Whether a reader is woken when the last write end closes (the companion kernel; not the published one). */
  eofWakesReaders: boolean;
}

/** Whether what a sleeper on `on` waits for holds now. */
export function wakeConditionHolds(on: QueueId, v: WakeView): boolean {
  switch (on.kind) {
    case 'pipe': {
      const p = v.pipes.find((x) => x.dataId === on.dataId);
      if (!p) return false;
      const open = openEnds(p);
      if (on.queue === 'read_wq') return p.buffered > 0 || (v.eofWakesReaders && open.write === 0);
      return p.buffered < v.capacity || open.read === 0;
    }
    case 'store':
      if (!v.locks) return false;
      // read_q: a reader waits while a writer holds PENDING or EXCLUSIVE; write_q: for the last reader but itself.
      return on.queue === 'read_q' ? v.locks.currentMaxLock !== 'PENDING' && v.locks.currentMaxLock !== 'EXCLUSIVE' : v.locks.numReaders === 1;
    case 'mutex':
      return v.locks !== null && v.locks.writeMutex.owner === null;
  }
}

export interface StuckProcess {
  kind: 'deadlock' | 'lost-wakeup';
  line: number;
  pid: number;
  message: string;
}

/** The verdict on process `pid`, asleep on `on` in the statement `at` (its text and line, where known). */
export function classifyStuck(pid: number, on: QueueId, at: { text: string; line: number } | undefined, v: WakeView): StuckProcess {
  const what = `P${pid} is asleep on ${queueName(on)} in '${at?.text ?? '?'}' (line ${at?.line ?? 0})`;
  return wakeConditionHolds(on, v)
    ? { kind: 'lost-wakeup', line: at?.line ?? 0, pid, message: `${what}: what it waits for already holds, but no wake-up can come` }
    : { kind: 'deadlock', line: at?.line ?? 0, pid, message: `${what} and nothing can run to wake it` };
}
