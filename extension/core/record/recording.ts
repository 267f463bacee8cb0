/*
 * A recording as the companion kernel's recorder gives it (debugfs sqliteos/record, record.c): a header
 * (how many tasks it still follows, how many records it lost) and one record per call, its bytes kept up to
 * a bound and digested whole. Parsed here, with
 * the line of anything it cannot read; no vscode, no machine.
 */

export const RECORD_OPS = ['pipe', 'read', 'write', 'close', 'fork', 'exit', 'begin', 'commit', 'query', 'savepoint', 'release', 'rollback_to'] as const;
export type RecordOp = (typeof RECORD_OPS)[number];

export interface CallRecord {
  /** Order of completion (the kernel's clock), and of the call's start. */
  seq: number;
  start: number;
  pid: number;
  op: RecordOp;
  /** pipe: dataId, flags; read / write: dataId, count asked; close: dataId, end (0 read, 1 write); fork: child, shares files; begin / commit: the flag. */
  args: [number, number];
  /** The call's return value (a negative errno on failure). */
  result: number;
  /** The bytes the call moved (a write: the bytes it was given) and those kept (up to sqliteos.record_bytes). */
  bytes: number;
  data: Uint8Array;
  /** The 64-bit FNV-1a of all `bytes` bytes, in hex; undefined where the kernel could not read them all. */
  digest?: string;
  /** The record's line in the recorder's text, for messages. */
  line: number;
}

export interface Recording {
  following: number;
  lost: number;
  records: CallRecord[];
}

export class RecordingError extends Error {}

/** The recorder's digest (record.c's fnv1a): 64-bit FNV-1a, in 16 hex digits. */
export function fnv1a64(b: Uint8Array): string {
  let h = 0xcbf29ce484222325n;
  for (const x of b) h = BigInt.asUintN(64, (h ^ BigInt(x)) * 0x100000001b3n);
  return h.toString(16).padStart(16, '0');
}

export function parseRecording(text: string, where = 'the recording'): Recording {
  const lines = text.split('\n');
  if (lines[0]?.trim() !== 'sqliteos-record 1') throw new RecordingError(`${where}:1: not a recording of the companion kernel's recorder (first line: '${(lines[0] ?? '').slice(0, 40)}')`);
  const head = new Map<string, number>();
  const records: CallRecord[] = [];
  for (let i = 1; i < lines.length; i++) {
    const l = lines[i].trim();
    if (!l) continue;
    const h = /^(following|records|lost) (\d+)$/.exec(l);
    if (h) {
      head.set(h[1], Number(h[2]));
      continue;
    }
    const m = /^(\d+) (\d+) (\d+) ([a-z_]+) (-?\d+) (-?\d+) = (-?\d+) (\d+) ([0-9a-f]{16}|-) ?([0-9a-f]*)$/.exec(l);
    if (!m || !(RECORD_OPS as readonly string[]).includes(m[4]) || m[10].length % 2) throw new RecordingError(`${where}:${i + 1}: cannot read this record: '${l.slice(0, 80)}'`);
    records.push({
      seq: Number(m[1]),
      start: Number(m[2]),
      pid: Number(m[3]),
      op: m[4] as RecordOp,
      args: [Number(m[5]), Number(m[6])],
      result: Number(m[7]),
      bytes: Number(m[8]),
      digest: m[9] === '-' ? undefined : m[9],
      data: Uint8Array.from(Buffer.from(m[10], 'hex')),
      line: i + 1,
    });
  }
  for (const k of ['following', 'records', 'lost']) if (!head.has(k)) throw new RecordingError(`${where}: the header has no '${k}' line`);
  if (head.get('records') !== records.length) throw new RecordingError(`${where}: the header says ${head.get('records')} records, ${records.length} follow`);
  return { following: head.get('following')!, lost: head.get('lost')!, records };
}
