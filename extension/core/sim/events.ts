/*
 * What the simulator tells its listeners (views, the debug adapter, the explorer): one event per micro-step,
 * plus the lock changes, sleeps, wake-ups and anomalies the step caused, each with the process and the
 * scenario line it belongs to.
 */
import type { Lock } from './types';
import type { QueueId } from '../model/model';

export type StepKind = 'mutex' | 'txn' | 'lock' | 'sql' | 'check' | 'sleep' | 'wake' | 'kernel' | 'return';

interface Base {
  pid: number;
  /** Scenario line of the statement being run (0 for calls made outside a scenario). */
  line: number;
}

export type SimEvent =
  | (Base & { type: 'op-start'; op: string })
  | (Base & { type: 'step'; op: string; step: string; kind: StepKind; text: string })
  | (Base & { type: 'sql'; sql: string })
  | (Base & { type: 'lock'; conn: number; from: Lock; to: Lock; queue?: 'read_q' | 'write_q'; busy?: boolean })
  | (Base & { type: 'mutex'; action: 'acquire' | 'wait' | 'release' | 'handoff'; to?: number })
  | (Base & { type: 'sleep'; on: QueueId })
  | (Base & { type: 'wake'; target: number; on: QueueId })
  | (Base & { type: 'op-done'; op: string; result: OpResult; error?: string; data?: Uint8Array })
  | (Base & { type: 'anomaly'; kind: AnomalyKind; message: string });

export const ANOMALY_KINDS = ['deadlock', 'expectation', 'invariant', 'lost-wakeup', 'error'] as const;
export type AnomalyKind = (typeof ANOMALY_KINDS)[number];

/** A syscall's result: a byte count, fd numbers, a child pid, query rows, or a negative error. */
export type OpResult = number | number[] | unknown[][];

export type Listener = (e: SimEvent) => void;
