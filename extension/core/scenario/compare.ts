/*
 * Two results of one scenario compared: the simulator's and a real kernel's (or any two RunResults).
 *
 * What must be equal: each statement's result, errno and the bytes a read got (its first 48 bytes and,
 * past them, a digest of all); the order in which each process completed its statements; who is
 * asleep at the end and on what; the final tables (rows as multisets: a duplicate row is a
 * difference; a blob by its length, its first 32 bytes and, where both sides have it, the digest of
 * every byte), pipes and lock state (levels, holders, queues, and each connection that holds a lock
 * as the pair of its process and level, a multiset: the kernel's inspection names its one kernel
 * connection by the task using it, so what it is for — a syscall or a transaction — cannot be
 * compared, and a connection at NONE names no task there); the anomalies' kinds and lines. A pipe's ends are compared as open or
 * closed: that is what the kernel keeps (one file per end, whose reference count also counts reads
 * and writes in flight); how many fds name each end is compared row by row in pid_pipe.
 * What may differ, and why: the global interleaving of completions (two processes woken by one event
 * run in the order the scheduler picks; the simulator runs them in the order they were woken, which the
 * scheduler usually but not always does), and so
 * which of the reads woken together got which bytes, as long as between them they got the same; the rows
 * of a query among woken work, as long as they are the tables at some point of that work (excusedOps); error
 * messages beyond the errno (each kernel words its own), and kernel-side numbers with no meaning to the
 * scenario: dataIds are named by the line of the pipe statement that made them (pipe@L3), pipe_chunk's
 * seq by that name and its offset in the pipe's range, queue ids by their pipe.
 */
import { bytesDigest } from './bytes';
import type { OpRecord, RunResult } from './runner';
import { QueueId, openEnds, queueName, sleepersOn } from '../model/model';

export interface Difference {
  /** What differs, in a few words ("line 7 P2 read: result"). */
  what: string;
  line?: number;
  left: string;
  right: string;
}

const SEQ_SHIFT = 2n ** 40n;

/** Names each side's dataIds by the line of the pipe statement that made them. */
function pipeNames(r: RunResult): Map<number, string> {
  const m = new Map<number, string>();
  for (const o of r.ops) if (o.op === 'pipe' && o.dataId !== undefined) m.set(o.dataId, `pipe@L${o.line}`);
  return m;
}

const show = (v: unknown): string => (v === undefined ? '—' : JSON.stringify(v));

function errno(e: string | null): string | null {
  return e === null ? null : e.split(' ')[0];
}

type BlobJson = { blob: number; text?: string; hex?: string; digest?: string };

const blobBytes = (v: BlobJson): Buffer => (v.hex !== undefined ? Buffer.from(v.hex, 'hex') : Buffer.from(v.text ?? '', 'latin1'));

/** The digest of all of a blob's bytes, where this side has it: all the bytes, or the simulator's digest. */
function blobDigest(v: BlobJson): string | undefined {
  const bytes = blobBytes(v);
  return v.digest ?? (bytes.length === v.blob ? bytesDigest(bytes) : undefined);
}

/**
 * A blob as its length, its first 32 bytes in hex and, where both sides can tell (`whole`), the digest
 * of every byte. The simulator keeps 64 bytes and the digest; a kernel's inspection shows a blob's first
 * 32 bytes only, so against a kernel, bytes past the 32nd are not compared.
 */
function blob(v: BlobJson, whole: boolean): string {
  return `blob ${v.blob}:${blobBytes(v).subarray(0, 32).toString('hex')}${whole ? ` sha256:${blobDigest(v)}` : ''}`;
}

const isBlob = (v: unknown): v is BlobJson => !!v && typeof v === 'object' && 'blob' in v;

/** Whether every blob of the run's tables can be compared whole (all its bytes, or a digest, are there). */
function blobsWhole(r: RunResult): boolean {
  return Object.values(r.tables).every((rows) => rows.every((row) => Object.values(row).every((v) => !isBlob(v) || blobDigest(v) !== undefined)));
}

function cell(col: string, v: unknown, names: Map<number, string>, whole: boolean): unknown {
  if (isBlob(v)) return blob(v, whole);
  if (col === 'dataId' && typeof v === 'number') return names.get(v) ?? `dataId ${v}`;
  if (col === 'seq' && (typeof v === 'number' || typeof v === 'string')) {
    const n = BigInt(v);
    const id = Number(n / SEQ_SHIFT);
    return `${names.get(id) ?? `dataId ${id}`}+${n % SEQ_SHIFT}`;
  }
  return v;
}

/**
 * A table's rows normalised and sorted; queue ids become their pipe's name (read_wq = write_wq - 1). The
 * published kernel's are the addresses of kmalloc'd wait queues (negative as int64): any such address
 * is "a kernel address" (no two boots, nor the simulator, give the same ones).
 */
function rows(r: RunResult, table: string, names: Map<number, string>, whole: boolean): string[] {
  return (r.tables[table] ?? [])
    .map((row) => {
      const out: Record<string, unknown> = {};
      for (const [c, v] of Object.entries(row)) out[c] = cell(c, v, names, whole);
      if (typeof row.read_wq === 'number' && typeof row.write_wq === 'number') {
        out.read_wq = row.write_wq === row.read_wq + 1 ? 'the pipe’s read queue' : row.read_wq;
        out.write_wq = row.write_wq === row.read_wq + 1 ? 'the pipe’s write queue' : row.write_wq;
        if (row.read_wq < 0 && row.write_wq < 0) out.read_wq = out.write_wq = 'a kernel address';
      }
      return JSON.stringify(out);
    })
    .sort();
}

/** A queue's name with its pipe named by the statement that made it ("pipe@L3 read_wq"). */
function queueOf(q: QueueId | null, names: Map<number, string>): string | null {
  if (!q) return null;
  return q.kind === 'pipe' ? `${names.get(q.dataId) ?? `pipe ${q.dataId}`} ${q.queue}` : queueName(q);
}

/** Each pipe at the end: its bytes and whether each end is open (a call in progress holds its end open). */
function pipeLines(r: RunResult, names: Map<number, string>): string[] {
  const open = (n: number) => (n > 0 ? 'open' : 'closed');
  return r.pipes.map((p) => `${names.get(p.dataId) ?? `dataId ${p.dataId}`}: ${p.buffered} bytes, read end ${open(openEnds(p).read)}, write end ${open(openEnds(p).write)}`).sort();
}

function lockState(r: RunResult): Record<string, unknown> | string {
  const l = r.lockState;
  if (!l) return `not shown: ${r.hidden ?? 'this kernel shows no lock state'}`;
  const sorted = (id: QueueId) => [...sleepersOn(r.queues, id)].sort();
  return {
    currentMaxLock: l.currentMaxLock,
    numReaders: l.numReaders,
    writeMutexOwner: l.writeMutex.owner,
    writeMutexWaiters: [...l.writeMutex.waiters].sort(),
    readQ: sorted({ kind: 'store', queue: 'read_q' }),
    writeQ: sorted({ kind: 'store', queue: 'write_q' }),
    connections: l.connections
      .filter((c) => c.level !== 'NONE')
      .map((c) => `P${c.owner} ${c.level}`)
      .sort(),
  };
}

/** The rows of a side that the other side has fewer of: a multiset difference, so a duplicate shows. */
function extraRows(a: string[], b: string[]): string[] {
  const left = new Map<string, number>();
  for (const x of b) left.set(x, (left.get(x) ?? 0) + 1);
  return a.filter((x) => {
    const n = left.get(x) ?? 0;
    left.set(x, n - 1);
    return n <= 0;
  });
}

function opKey(o: OpRecord): string {
  return `${o.pid}:${o.line}`;
}

/**
 * The ops of a real kernel's run in flight in round `round`: handed out by then and completed in it or
 * later (woken then, some slept again: a writer woken into PENDING behind a reader let in first).
 */
function inFlight(r: RunResult, round: number): string[] {
  return r.ops.filter((o) => o.round !== undefined && o.round >= round && (o.given ?? o.round) <= round).map(opKey);
}

/** Ops that completed in one round of a real kernel's run (woken together), per round. */
function concurrent(r: RunResult): OpRecord[][] {
  const byRound = new Map<number, OpRecord[]>();
  for (const o of r.ops) if (o.round !== undefined) byRound.set(o.round, [...(byRound.get(o.round) ?? []), o]);
  return [...byRound.values()].filter((g) => g.length > 1);
}

/**
 * The queries of the read transaction `begin` opened: that process's, after it, up to its commit.
 * A process runs its statements in order, so lines between the two are its statements in between.
 */
function queriesInTransaction(r: RunResult, begin: OpRecord): string[] {
  const mine = r.ops.filter((o) => o.pid === begin.pid && o.line > begin.line);
  const end = mine.find((o) => o.op === 'commit' || o.op === 'rollback')?.line ?? Infinity;
  return mine.filter((o) => o.op === 'query' && o.line < end).map(opKey);
}

/**
 * Work woken by one event runs in the scheduler's order. Reads of such a group may take the bytes in
 * either order: where each side's reads got the same bytes between them, which got which is not a
 * difference. A query among them may see the tables before or after the others' work. So may a read
 * transaction begun among them (a reader let in as a writer lets go, beside the writer waiting for the
 * write mutex next): its snapshot is the tables before or after that writer's work, and so are the rows
 * of the queries in it. Such a query's rows must be those of the other side's tables at some point of
 * that work, where that side recorded them (a simulator's queryTimeline: queryRows()); where neither
 * did, they are not compared (its errno is). `differing`: the queries whose rows that work does not
 * explain (settleQueries).
 */
function excusedOps(left: RunResult, right: RunResult): { excused: Map<string, Excuse>; differing: Map<string, QueryDiffers> } {
  const excused = new Map<string, Excuse>();
  const windows = new Map<string, string[]>();
  const groups = [...concurrent(left), ...concurrent(right)];
  for (const g of groups) {
    const work = inFlight(left.ops.includes(g[0]) ? left : right, g[0].round!);
    for (const o of g) {
      if (o.op === 'query') {
        excused.set(opKey(o), 'a query woken with other work: rows not compared');
        windows.set(opKey(o), work);
      }
      if (o.op === 'begin' && o.result === 0) {
        for (const r of [left, right]) {
          for (const k of queriesInTransaction(r, o)) {
            if (excused.has(k)) continue;
            excused.set(k, 'a query in a read transaction begun among woken work: rows not compared');
            windows.set(k, work);
          }
        }
      }
    }
  }
  const got = (r: RunResult, keys: string[]) =>
    r.ops
      .filter((o) => keys.includes(opKey(o)))
      .map((o) => JSON.stringify([o.result, o.data, o.digest]))
      .sort()
      .join(' ');
  for (const group of groups.map((g) => g.filter((o) => o.op === 'read').map(opKey)).filter((g) => g.length > 1)) {
    if (got(left, group) === got(right, group) && group.every((k) => left.ops.some((o) => opKey(o) === k))) {
      for (const k of group) excused.set(k, 'reads woken together: their bytes compared as a group');
    }
  }
  return { excused, differing: settleQueries(left, right, excused, windows) };
}

/**
 * What a query's rows may be, from a side that recorded its tables as it went (RunResult.queryTimeline):
 * the rows at every point from before the first of `work` completed to after the last, in that side's
 * order of completion (commits in the middle of a statement included). Undefined where that side
 * recorded nothing for it.
 */
function queryRows(r: RunResult, key: string, work: string[]): string[] | undefined {
  const t = r.queryTimeline?.[key];
  const at = work.map((k) => r.ops.findIndex((o) => opKey(o) === k)).filter((i) => i >= 0);
  if (!t || at.length === 0) return undefined;
  const [lo, hi] = [Math.min(...at), Math.max(...at) + 1];
  // The tables as the work began (the last change before it), then each change until it was over.
  const out = new Set<string>();
  const start = t.rows.filter((x) => x.done < lo).pop();
  if (start) out.add(show(start.rows));
  for (const e of t.rows) if (e.done >= lo && e.done <= hi) out.add(show(e.rows));
  return [...out];
}

/** Whether the SQL names a table the side holds rows of outside the scenario (its rows then cannot match). */
function outsideIn(r: RunResult, sql: string): boolean {
  return Object.entries(r.outside ?? {}).some(([t, n]) => n > 0 && new RegExp(`\\b${t}\\b`, 'i').test(sql));
}

interface QueryDiffers {
  kind: 'differs';
  may: string[];
  got: string;
  side: 'left' | 'right';
}
type QueryCheck = { kind: 'matched' } | { kind: 'outside' } | QueryDiffers | { kind: 'unchecked' };

/** An excused query checked against the work it was woken with, from whichever side recorded its tables. */
function checkQuery(left: RunResult, right: RunResult, key: string, work: string[]): QueryCheck {
  for (const [mine, other, side] of [[left, right, 'right'], [right, left, 'left']] as const) {
    const may = queryRows(mine, key, work);
    const o = other.ops.find((x) => opKey(x) === key);
    if (!may || !o) continue;
    const got = show(o.result);
    if (may.includes(got)) return { kind: 'matched' };
    if (outsideIn(other, mine.queryTimeline![key].sql)) return { kind: 'outside' };
    return { kind: 'differs', may, got, side };
  }
  return { kind: 'unchecked' };
}

/**
 * Each excused query checked (checkQuery), its excuse made what the check found: explained by the work,
 * excused for rows outside the scenario, or no longer excused (a difference). Returns the differing ones.
 */
function settleQueries(left: RunResult, right: RunResult, excused: Map<string, Excuse>, windows: Map<string, string[]>): Map<string, QueryDiffers> {
  const differing = new Map<string, QueryDiffers>();
  for (const [k, work] of windows) {
    const c = checkQuery(left, right, k, work);
    if (c.kind === 'matched') excused.set(k, 'a query among woken work: rows those of the tables before or after that work');
    if (c.kind === 'outside') excused.set(k, "a query among woken work over a real kernel's rows outside the scenario: rows not compared");
    if (c.kind === 'differs') {
      excused.delete(k);
      differing.set(k, c);
    }
  }
  return differing;
}

export type Excuse =
  | 'a query woken with other work: rows not compared'
  | 'a query in a read transaction begun among woken work: rows not compared'
  | 'a query among woken work: rows those of the tables before or after that work'
  | "a query among woken work over a real kernel's rows outside the scenario: rows not compared"
  | 'reads woken together: their bytes compared as a group'
  | 'a table a kernel could not read at the end (busy): not compared'
  | "a real kernel's rows of processes and pipes outside the scenario: left out"
  | 'a kernel that shows no lock state or pipe ends (the published one): neither compared';

export interface Comparison {
  differences: Difference[];
  /** What the comparison excused, counted by reason (so "0 differences" says what it did not compare). */
  excused: Map<Excuse, number>;
}

export function compareRuns(left: RunResult, right: RunResult): Difference[] {
  return compare(left, right).differences;
}

/** What comparing the two runs excused, counted by reason. */
export function excusals(left: RunResult, right: RunResult): Map<Excuse, number> {
  return compare(left, right).excused;
}

/** The differences of two runs, and what was excused on the way. */
export function compare(left: RunResult, right: RunResult): Comparison {
  const out: Difference[] = [];
  const { excused, differing } = excusedOps(left, right);
  const ln = pipeNames(left);
  const rn = pipeNames(right);
  const diff = (what: string, a: unknown, b: unknown, line?: number) => {
    const [x, y] = [show(a), show(b)];
    if (x !== y) out.push({ what, line, left: x, right: y });
  };

  const rOps = new Map(right.ops.map((o) => [opKey(o), o]));
  const lOps = new Map(left.ops.map((o) => [opKey(o), o]));
  for (const a of left.ops) {
    const b = rOps.get(opKey(a));
    const at = `line ${a.line} P${a.pid} ${a.op}`;
    if (!b) {
      out.push({ what: `${at}: completed on one side only`, line: a.line, left: show(a.result), right: 'did not complete' });
      continue;
    }
    const norm = (o: OpRecord, names: Map<number, string>) => (o.op === 'pipe' && o.dataId !== undefined ? `${show(o.result)} ${names.get(o.dataId)}` : o.result);
    diff(`${at}: errno`, errno(a.error), errno(b.error), a.line);
    const c = differing.get(opKey(a));
    if (c) {
      const may = `one of ${c.may.join(' ')} (the tables before, during or after the work it was woken with)`;
      out.push({ what: `${at}: result`, line: a.line, left: c.side === 'left' ? c.got : may, right: c.side === 'right' ? c.got : may });
      continue;
    }
    if (excused.has(opKey(a))) continue;
    diff(`${at}: result`, norm(a, ln), norm(b, rn), a.line);
    diff(`${at}: bytes read`, [a.data, a.digest], [b.data, b.digest], a.line);
  }
  for (const b of right.ops) {
    if (!lOps.has(opKey(b))) out.push({ what: `line ${b.line} P${b.pid} ${b.op}: completed on one side only`, line: b.line, left: 'did not complete', right: show(b.result) });
  }
  const order = (r: RunResult, pid: number) => r.ops.filter((o) => o.pid === pid).map((o) => o.line);
  const pids = [...new Set([...left.processes, ...right.processes].map((p) => p.pid))].sort((a, b) => a - b);
  for (const pid of pids) {
    diff(`P${pid}: order of its completed statements (lines)`, order(left, pid), order(right, pid));
    const [a, b] = [left.processes.find((p) => p.pid === pid), right.processes.find((p) => p.pid === pid)];
    diff(`P${pid}: state at the end`, a && [a.state, queueOf(a.waitingOn, ln)], b && [b.state, queueOf(b.waitingOn, rn)]);
  }
  // A table a kernel could not read at the end (busy behind a PENDING writer) is not compared.
  const unreadable = new Set([...(left.unreadable ?? []), ...(right.unreadable ?? [])]);
  const whole = blobsWhole(left) && blobsWhole(right);
  for (const t of [...new Set([...Object.keys(left.tables), ...Object.keys(right.tables)])].sort()) {
    if (unreadable.has(t)) continue;
    const [a, b] = [rows(left, t, ln, whole), rows(right, t, rn, whole)];
    const onlyA = extraRows(a, b);
    const onlyB = extraRows(b, a);
    if (onlyA.length || onlyB.length) out.push({ what: `table ${t}: rows on one side only`, left: onlyA.join(' ') || '—', right: onlyB.join(' ') || '—' });
  }
  // The published kernel shows no lock state and no pipe ends: against it, neither is compared.
  const hidden = left.hidden !== undefined || right.hidden !== undefined;
  if (!hidden) {
    diff('pipes at the end', pipeLines(left, ln), pipeLines(right, rn));
    diff('lock state at the end', lockState(left), lockState(right));
  }
  const anomalies = (r: RunResult) => r.anomalies.map((x) => `${x.kind} P${x.pid} line ${x.line}`).sort();
  diff('anomalies', anomalies(left), anomalies(right));
  const counts = new Map<Excuse, number>();
  for (const e of excused.values()) counts.set(e, (counts.get(e) ?? 0) + 1);
  if (unreadable.size) counts.set('a table a kernel could not read at the end (busy): not compared', unreadable.size);
  const outside = [left, right].flatMap((r) => Object.values(r.outside ?? {})).reduce((a, b) => a + b, 0);
  if (outside) counts.set("a real kernel's rows of processes and pipes outside the scenario: left out", outside);
  if (hidden) counts.set('a kernel that shows no lock state or pipe ends (the published one): neither compared', 1);
  return { differences: out, excused: counts };
}

/** The differences as lines for a terminal, `left` and `right` named. */
export function formatDifferences(d: Difference[], names: [string, string]): string {
  const w = Math.max(...names.map((n) => n.length));
  return d.map((x) => `${x.what}\n  ${names[0].padEnd(w)}  ${x.left}\n  ${names[1].padEnd(w)}  ${x.right}`).join('\n');
}

/**
 * Both results as text normalised the way compareRuns compares them, one fact per line, so that a
 * side-by-side diff of the two marks exactly the differences (the extension's Compare with Simulator).
 */
export function comparableTexts(left: RunResult, right: RunResult): [string, string] {
  // A query whose rows the work it was woken with explains reads alike on both sides; one whose rows
  // it does not is no longer excused, so it is shown as each side got it.
  const { excused } = excusedOps(left, right);
  const unreadable = new Set([...(left.unreadable ?? []), ...(right.unreadable ?? [])]);
  const whole = blobsWhole(left) && blobsWhole(right);
  const render = (r: RunResult): string => {
    const names = pipeNames(r);
    const out = [`# ${r.file}`, '', '## statements, each process in its own order'];
    const pids = [...new Set([...left.processes, ...right.processes].map((p) => p.pid))].sort((a, b) => a - b);
    for (const pid of pids) {
      for (const o of r.ops.filter((x) => x.pid === pid)) {
        const res = o.op === 'pipe' && o.dataId !== undefined ? `${show(o.result)} ${names.get(o.dataId)}` : show(o.result);
        const mine = excused.has(opKey(o));
        const why = excused.get(opKey(o));
        const note =
          o.op !== 'query'
            ? '(woken with others: compared as a group)'
            : why === 'a query among woken work: rows those of the tables before or after that work'
              ? '(rows: the tables before or after work woken with it, as the other side had them)'
              : '(rows not compared: tables before or after work woken with it)';
        const bytes = o.op === 'read' && !mine ? ` ${o.data ?? ''}${o.digest ? ` sha256:${o.digest}` : ''}` : '';
        out.push(`P${pid} line ${o.line} ${o.op}: ${mine ? note : res}${o.error ? ` ${errno(o.error)}` : ''}${bytes}`);
      }
      const p = r.processes.find((x) => x.pid === pid);
      out.push(`P${pid} at the end: ${p ? `${p.state}${p.waitingOn ? ` on ${queueOf(p.waitingOn, names)}` : ''}` : '—'}`, '');
    }
    for (const t of Object.keys(r.tables).sort()) {
      // An intended difference, marked where it shows: a real kernel's rows of the machine's own processes.
      const outside = r.outside?.[t] ? [`(not compared: ${r.outside[t]} row(s) of processes outside the scenario, the machine's own, left out)`] : [];
      out.push(`## table ${t}`, ...(unreadable.has(t) ? ['(not compared: a kernel could not read it at the end)'] : rows(r, t, names, whole)), ...outside, '');
    }
    out.push('## pipes', ...pipeLines(r, names), '');
    const locks = lockState(r);
    out.push('## locks', ...(typeof locks === 'string' ? [locks] : Object.entries(locks).map(([k, v]) => `${k} ${show(v)}`)), '');
    out.push('## anomalies', ...r.anomalies.map((x) => `${x.kind} P${x.pid} line ${x.line}`).sort(), '');
    return out.join('\n');
  };
  return [render(left), render(right)];
}
