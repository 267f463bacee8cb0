/*
 * sqliteos-inspect's JSON (format 1, kernel-scripts/README.md) into a Snapshot. The input comes from a
 * program on another machine, so every field is checked; anything unexpected is a KernelFormatError that
 * names the field (`tables.pid_store.rows[3][1]`) and what was wrong, never a partly filled view.
 */
import { Locks, LockLevel, Pipe, Process, QueueId, Table, Value, WaitQueue, isLockLevel } from './model';

export const INSPECT_FORMAT = 1;

export class KernelFormatError extends Error {
  constructor(
    readonly where: string,
    message: string,
  ) {
    super(where ? `${where}: ${message}` : message);
  }
}

export type Json = unknown;

export function fail(where: string, what: string): never {
  throw new KernelFormatError(where, what);
}

export function obj(v: Json, where: string): Record<string, Json> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, `expected an object, got ${show(v)}`);
  return v as Record<string, Json>;
}

function arr(v: Json, where: string): Json[] {
  if (!Array.isArray(v)) fail(where, `expected an array, got ${show(v)}`);
  return v;
}

export function int(v: Json, where: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(where, `expected an integer, got ${show(v)}`);
  return v;
}

function str(v: Json, where: string): string {
  if (typeof v !== 'string') fail(where, `expected a string, got ${show(v)}`);
  return v;
}

function level(v: Json, where: string): LockLevel {
  if (!isLockLevel(v)) fail(where, `expected a lock level (NONE, SHARED, RESERVED, PENDING, EXCLUSIVE), got ${show(v)}`);
  return v;
}

export function show(v: Json): string {
  const s = JSON.stringify(v);
  return s === undefined ? 'nothing' : s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

function value(v: Json, where: string): Value {
  if (v === null || typeof v === 'string') return v;
  if (typeof v === 'number') return int(v, where);
  const o = obj(v, where);
  if (typeof o[BIG] === 'string') return BigInt(o[BIG] as string);
  const hex = str(o.hex, `${where}.hex`);
  if (!/^([0-9a-f]{2})*$/i.test(hex)) fail(`${where}.hex`, `not hex: ${show(hex)}`);
  if (o.digest === undefined) return { blob: int(o.blob, `${where}.blob`), hex };
  const digest = str(o.digest, `${where}.digest`);
  if (!/^[0-9a-f]{16}$/i.test(digest)) fail(`${where}.digest`, `not 16 hex digits: ${show(digest)}`);
  return { blob: int(o.blob, `${where}.blob`), hex, digest };
}

/** A companion table: {columns, rows: [[...]], count} or {columns, busy}; upstream: {rows: [{col: v}]}. */
export function table(v: Json, where: string): Table {
  const o = obj(v, where);
  // A table the kernel could not read just now (a writer holds PENDING): no rows, maybe no columns.
  if (o.busy !== undefined) {
    const columns = o.columns === undefined ? [] : arr(o.columns, `${where}.columns`).map((c, i) => str(c, `${where}.columns[${i}]`));
    return { columns, rows: [], count: 0, busy: str(o.busy, `${where}.busy`) };
  }
  if (o.columns === undefined) {
    // The published kernel's log gives rows as column = value lines: columns come from the first row.
    const rows = arr(o.rows, `${where}.rows`).map((r, i) => obj(r, `${where}.rows[${i}]`));
    const columns = rows.length ? Object.keys(rows[0]) : [];
    return {
      columns,
      rows: rows.map((r, i) => columns.map((c) => value(r[c] ?? null, `${where}.rows[${i}].${c}`))),
      count: rows.length,
    };
  }
  const columns = arr(o.columns, `${where}.columns`).map((c, i) => str(c, `${where}.columns[${i}]`));
  const rows = arr(o.rows, `${where}.rows`).map((r, i) => {
    const cells = arr(r, `${where}.rows[${i}]`);
    if (cells.length !== columns.length) fail(`${where}.rows[${i}]`, `${cells.length} values for ${columns.length} columns`);
    // The common cells pass without building their path; anything else goes through value() with it.
    return cells.map((c, j) => (c === null || typeof c === 'string' || Number.isSafeInteger(c) ? (c as Value) : value(c, `${where}.rows[${i}][${j}]`)));
  });
  const count = int(o.count, `${where}.count`);
  if (count < rows.length) fail(`${where}.count`, `${count} rows counted but ${rows.length} listed`);
  return { columns, rows, count };
}

const PIPE_QUEUE = /^pipe\.(\d+)\.(read_wq|write_wq)$/;

function queueNamed(name: string, where: () => string): QueueId {
  const m = PIPE_QUEUE.exec(name);
  if (m) return { kind: 'pipe', dataId: Number(m[1]), queue: m[2] as 'read_wq' | 'write_wq' };
  return parseQueueName(name, where());
}

/** debugfs queue names: store.read_q, store.write_q, write_mutex, pipe.<dataId>.read_wq / .write_wq. */
export function parseQueueName(name: string, where: string): QueueId {
  if (name === 'store.read_q' || name === 'store.write_q') return { kind: 'store', queue: name === 'store.read_q' ? 'read_q' : 'write_q' };
  if (name === 'write_mutex') return { kind: 'mutex' };
  const m = PIPE_QUEUE.exec(name);
  if (m) return { kind: 'pipe', dataId: Number(m[1]), queue: m[2] as 'read_wq' | 'write_wq' };
  return fail(where, `unknown wait queue ${show(name)}`);
}

export function locks(v: Json, where: string): Locks {
  const o = obj(v, where);
  const store = obj(o.store, `${where}.store`);
  const wm = obj(o.write_mutex, `${where}.write_mutex`);
  const owner = int(wm.owner, `${where}.write_mutex.owner`);
  return {
    currentMaxLock: level(store.current_max_lock, `${where}.store.current_max_lock`),
    numReaders: int(store.num_readers, `${where}.store.num_readers`),
    writeMutex: { owner: owner === 0 ? null : owner, waiters: [] },
    connections: arr(o.conns, `${where}.conns`).map((c, i) => {
      const w = `${where}.conns[${i}]`;
      const co = obj(c, w);
      return { id: int(co.id, `${w}.id`), owner: int(co.owner, `${w}.owner`), level: level(co.level, `${w}.level`), purpose: str(co.store, `${w}.store`) };
    }),
    transactions: arr(o.txns, `${where}.txns`).map((t, i) => {
      const w = `${where}.txns[${i}]`;
      const to = obj(t, w);
      const kind = str(to.kind, `${w}.kind`);
      if (kind !== 'read' && kind !== 'write') fail(`${w}.kind`, `expected read or write, got ${show(kind)}`);
      return { pid: int(to.pid, `${w}.pid`), kind };
    }),
  };
}

export function queues(v: Json, where: string): WaitQueue[] {
  return arr(v, where).map((q, i) => {
    const o = obj(q, `${where}[${i}]`);
    return {
      id: queueNamed(typeof o.name === 'string' ? o.name : str(o.name, `${where}[${i}].name`), () => `${where}[${i}].name`),
      sleepers: arr(o.pids, `${where}[${i}].pids`).map((p, j) => (Number.isSafeInteger(p) ? (p as number) : int(p, `${where}[${i}].pids[${j}]`))),
    };
  });
}

export function pipes(v: Json, where: string): Pipe[] {
  return arr(v, where).map((p, i) => {
    const w = `${where}[${i}]`;
    const o = obj(p, w);
    const flag = (k: string) => (typeof o[k] === 'boolean' ? (o[k] ? 1 : 0) : fail(`${w}.${k}`, `expected true or false, got ${show(o[k])}`));
    return { dataId: int(o.dataId, `${w}.dataId`), buffered: int(o.buffered, `${w}.buffered`), readers: flag('reader'), writers: flag('writer') };
  });
}

/** What the helper's "names" say: each pid's command name, and the pids of the companion's own processes. */
export interface ProcNames {
  comm: Map<number, string>;
  own: Set<number>;
}

/** "names": {"comm": [[pid, "comm"], ...], "own": [pid, ...]}. */
export function procNames(v: Json, where: string): ProcNames {
  const o = obj(v, where);
  const comm = new Map(
    arr(o.comm, `${where}.comm`).map((e, i) => {
      const [pid, name] = arr(e, `${where}.comm[${i}]`);
      return [int(pid, `${where}.comm[${i}][0]`), str(name, `${where}.comm[${i}][1]`)] as const;
    }),
  );
  return { comm, own: new Set(arr(o.own, `${where}.own`).map((p, i) => int(p, `${where}.own[${i}]`))) };
}

/** Processes from pid_store, with what each sleeps on read off the queues (`held`: an earlier copy) and what /proc calls it. */
export function processesFrom(pidStore: Table | undefined, qs: WaitQueue[] | null, held = false, names?: ProcNames): Process[] {
  if (!pidStore || (pidStore.busy && !held)) return [];
  const pidCol = pidStore.columns.indexOf('pid');
  const parentCol = pidStore.columns.indexOf('parent_id');
  if (pidCol < 0 || parentCol < 0) throw new KernelFormatError('tables.pid_store.columns', `no pid / parent_id column in ${show(pidStore.columns)}`);
  const asleep = new Map<number, QueueId>();
  for (const q of qs ?? []) for (const pid of q.sleepers) asleep.set(pid, q.id);
  return pidStore.rows.map((r) => {
    const pid = Number(r[pidCol]);
    const on = asleep.get(pid) ?? null;
    const p: Process = { pid, handler: Number(r[parentCol]), parent: null, state: on ? 'blocked' : 'runnable', waitingOn: on, activity: null };
    const comm = names?.comm.get(pid);
    if (comm !== undefined) p.comm = comm;
    if (names?.own.has(pid)) p.own = true;
    return p;
  });
}

/** What /proc says of a live process on the published kernel: its state letter and where it sleeps. */
export interface ProcState {
  state: string;
  wchan: string;
}

/** "procs": [[pid, "S", "wchan"], ...] (the helper's upstream mode). */
export function procStates(v: Json, where: string): Map<number, ProcState> {
  return new Map(
    arr(v, where).map((e, i) => {
      const [pid, state, wchan] = arr(e, `${where}[${i}]`);
      return [int(pid, `${where}[${i}][0]`), { state: str(state, `${where}[${i}][1]`), wchan: str(wchan, `${where}[${i}][2]`) }];
    }),
  );
}

/** Where the published kernel's code sleeps, by the function /proc/PID/wchan names. */
const PUBLISHED_SLEEPS: [RegExp, string][] = [
  [/sql_pipe_read/, "sql_pipe_read: a pipe's read_wq (/proc does not say which pipe)"],
  [/ksqlite_|mutex_lock/, 'the global write mutex'],
  [/MMem/, "the store's lock (MMemLock)"],
];

/**
 * The published kernel's processes: its pid_store rows, each as /proc sees it. A row whose pid is not
 * running is a process gone (the kernel never deletes its row); one asleep in SQLiteOS code is blocked,
 * on what its wchan names.
 */
export function publishedProcesses(pidStore: Table | undefined, procs: Map<number, ProcState> | undefined, names?: ProcNames): Process[] {
  const rows = processesFrom(pidStore, null, false, names);
  if (!procs) return rows;
  return rows.map((p) => {
    const live = procs.get(p.pid);
    if (!live) return { ...p, state: 'exited', activity: 'gone; the published kernel never deletes its pid_store row' };
    const on = live.state === 'S' || live.state === 'D' ? PUBLISHED_SLEEPS.find(([re]) => re.test(live.wchan)) : undefined;
    return on ? { ...p, state: 'blocked', activity: `${on[1]} (wchan ${live.wchan})` } : p;
  });
}

export const BIG = '$sqliteos.bigint';

/**
 * JSON.parse rounds integers past 2^53. Before parsing, each integer literal that would not survive is
 * rewritten as {"$sqliteos.bigint": "digits"} (strings are skipped whole, so nothing inside one changes).
 */
export function protectBigIntegers(text: string): string {
  const out: string[] = [];
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \\ */) i++;
      else if (c === 34 /* " */) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c !== 45 /* - */ && (c < 48 || c > 57)) continue;
    let j = i + 1;
    while (j < text.length && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
    if (j - i >= 16) {
      const digits = text.slice(i, j);
      if (!Number.isSafeInteger(Number(digits))) {
        out.push(text.slice(from, i), `{"${BIG}":"${digits}"}`);
        from = j;
      }
    }
    i = j - 1;
  }
  if (from === 0) return text;
  out.push(text.slice(from));
  return out.join('');
}

/** sqliteos-inspect --query's output ({"format":1,"query":{"rows":[{...}]}}) as columns and rows. */
export function parseQueryJson(text: string, source: string): { columns: string[]; rows: Value[][] } {
  let doc: Json;
  try {
    doc = JSON.parse(protectBigIntegers(text));
  } catch (e) {
    throw new KernelFormatError(source, `not JSON: ${text.trim() ? `${(e as Error).message} (truncated?)` : 'no output'}`);
  }
  const o = obj(doc, source);
  if (o.format !== INSPECT_FORMAT) fail(`${source}: format`, `format ${show(o.format)}; this version of the extension reads format ${INSPECT_FORMAT}`);
  const t = table(obj(o.query, `${source}: query`), `${source}: query`);
  return { columns: t.columns, rows: t.rows };
}

/** counters: names to integers; one past 2^53 (nanoseconds over months) is shown approximately. */
export function counters(v: Json, where: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, x] of Object.entries(obj(v, where))) {
    const big = typeof x === 'object' && x !== null && typeof (x as Record<string, unknown>)[BIG] === 'string';
    out[k] = big ? Number((x as Record<string, string>)[BIG]) : int(x, `${where}.${k}`);
  }
  return out;
}
