/*
 * The explorer's state key: what two states must share to be one state. Connection ids, counters and
 * the order rows were inserted in are left out (orders that reach the same state differ in them). In the
 * companion profile a pipe is also named by the statement that made it rather than by its id: pipes made
 * in two orders take each other's ids (and wait queue ids), and nothing a scenario can see depends on an
 * id's value but a query's rows, so scenarios with a query, an open transaction or a kept job keep the
 * ids. Two states that differ only in which pipe has which id then meet as one, as two pipes written in
 * opposite orders do.
 */
import { createHash } from 'crypto';
import type { Scenario } from '../scenario/ast';
import type { ScenarioRun } from '../scenario/runner';
import { SEQ_BASE } from '../sim/companion';
import type { PipeState, ProcState } from '../sim/types';

/** A pipe id -> the read label of the statement that made the pipe now holding it; queue ids likewise. */
interface Names {
  pipe: Map<number, string>;
  queue: Map<number, string>;
}

/**
 * The state key. `exact`: the full search's (--no-reduction, the oracle): every field of the processes,
 * fd tables, pipes, store, mutex, kept jobs, tables and labels as the simulator holds it, in the order it
 * holds it, ids kept; connection ids, the wake-up count and the id and statistics counters are left out
 * (they count what happened, not what will). Without it, the reduced search's: states that differ only in orders and names
 * nothing to come can tell apart meet as one (see the header and canonical()).
 */
export function stateKey(run: ScenarioRun, exact = false): string {
  return digest(exact ? exactState(run) : canonical(run));
}

function exactState(run: ScenarioRun): string {
  const s = run.kernel.state;
  const procs = Object.values(s.procs).map((p) => {
    const base = { ...p, txnConn: p.txnConn === null ? null : 1, wokenAt: undefined };
    return p.current ? { ...base, current: { ...p.current, locals: { ...p.current.locals, conn: undefined } } } : base;
  });
  const conns = s.store.conns.map((c) => [c.pid, c.level, c.purpose]);
  return serialize([procs, s.handlers, s.pipes, { ...s.store, conns }, s.mutex, s.deferred, run.kernel.db.contentKey(digest), run.labels]);
}

function canonical(run: ScenarioRun): string {
  const k = run.kernel;
  const s = k.state;
  const names = pipeNames(run);
  // Labels are bound in the order their pipes were made: in key order. Connections are looked up by id
  // and their levels summed or maxed, never taken in order; read_q is always woken whole: in key order.
  const labels = Object.entries(run.labels).sort(([a], [b]) => (a < b ? -1 : 1));
  const conns = s.store.conns.map((c) => serialize([c.pid, c.level, c.purpose])).sort();
  const readQ = s.store.readQ.map((w) => serialize(w)).sort();
  const procs = Object.values(s.procs).map((p) => procKey(p, names));
  // The references calls in progress hold: set in either order, absent until the first.
  const refs = (p: PipeState) => ({ ...p, readRefs: undefined, writeRefs: undefined, refs: [p.readRefs ?? 0, p.writeRefs ?? 0] });
  if (!names) {
    return serialize([procs, s.handlers, Object.values(s.pipes).map(refs), { ...s.store, conns, readQ }, s.mutex, s.deferred, k.db.contentKey(digest), labels]);
  }
  const id = (n: number) => names.pipe.get(n) ?? n;
  const handlers = Object.values(s.handlers).map((h) => ({ ...h, fds: Object.entries(h.fds).map(([fd, e]) => [Number(fd), id(e.dataId), e.end]) }));
  const pipes = Object.values(s.pipes)
    .map((p) => ({ ...refs(p), dataId: id(p.dataId), readWqId: names.queue.get(p.readWqId), writeWqId: names.queue.get(p.writeWqId), tail: seqName(p.tail, names) }))
    .sort((a, b) => (String(a.dataId) < String(b.dataId) ? -1 : 1));
  return serialize([procs, handlers, pipes, { ...s.store, conns, readQ }, s.mutex, dbKey(run, names), labels]);
}

/** Per scenario: each pipe statement's line -> its read label, and whether any statement queries. */
const indexes = new WeakMap<Scenario, { readLabelAt: Map<number, string>; queries: boolean }>();

function indexOf(scenario: Scenario) {
  let ix = indexes.get(scenario);
  if (!ix) {
    const readLabelAt = new Map<number, string>();
    for (const st of scenario.statements) if (st.op === 'pipe') readLabelAt.set(st.line, st.read.name);
    indexes.set(scenario, (ix = { readLabelAt, queries: scenario.statements.some((st) => st.op === 'query') }));
  }
  return ix;
}

/** Whether the scenario has a query, which sees pipe ids: then pipes keep their ids in the state key. */
export function scenarioQueries(scenario: Scenario): boolean {
  return indexOf(scenario).queries;
}

/** The ops a label map was made from (the array, and its length: the runner pushes onto it). */
const labelsByOps = new WeakMap<object, { length: number; labels: Map<number, string> }>();

/**
 * A pipe id -> the read label of the pipe statement that made the pipe now holding the id (the latest
 * that took it: ids are used again), from the run's completed ops.
 */
export function pipeLabels(run: ScenarioRun): Map<number, string> {
  const cached = labelsByOps.get(run.ops);
  if (cached?.length === run.ops.length) return cached.labels;
  const { readLabelAt } = indexOf(run.scenario);
  const labels = new Map<number, string>();
  for (const o of run.ops) {
    const label = o.op === 'pipe' && o.dataId !== undefined ? readLabelAt.get(o.line) : undefined;
    if (label !== undefined) labels.set(o.dataId!, label);
  }
  labelsByOps.set(run.ops, { length: run.ops.length, labels });
  return labels;
}

/** The names, or null where ids must stay (see the header). */
function pipeNames(run: ScenarioRun): Names | null {
  const k = run.kernel;
  if (k.opts.profile !== 'companion' || k.state.deferred.length > 0 || k.db.writer !== null) return null;
  if (scenarioQueries(run.scenario)) return null;
  const made = pipeLabels(run);
  const names: Names = { pipe: new Map(), queue: new Map() };
  for (const p of Object.values(k.state.pipes)) {
    const n = made.get(p.dataId);
    if (n === undefined) return null;
    names.pipe.set(p.dataId, `#${n}`);
    names.queue.set(p.readWqId, `#${n}.r`);
    names.queue.set(p.writeWqId, `#${n}.w`);
  }
  return names;
}

function seqName(seq: number | undefined, names: Names): unknown {
  if (seq === undefined) return undefined;
  const id = Math.floor(seq / SEQ_BASE);
  const n = names.pipe.get(id);
  return n === undefined ? seq : [n, seq - id * SEQ_BASE];
}

function procKey(p: ProcState, names: Names | null): unknown {
  // What an exited process leaves (its last wake-up flag, its place in its statements) changes nothing to come.
  if (p.status === 'exited') return { pid: p.pid, status: p.status };
  const base = { ...p, txnConn: p.txnConn === null ? null : 1, wokenAt: undefined };
  if (!p.current) return base;
  const l = p.current.locals as Record<string, unknown>;
  // lockResumed false is its absence (the lock step reads it as `?? false`).
  const locals: Record<string, unknown> = { ...l, conn: undefined, lockResumed: l.lockResumed || undefined };
  if (names) {
    if (typeof l.dataId === 'number') locals.dataId = names.pipe.get(l.dataId) ?? l.dataId;
    if (Array.isArray(l.chunks)) locals.chunks = (l.chunks as number[][]).map(([seq, ...rest]) => [seqName(seq, names), ...rest]);
  }
  const on = p.waitingOn;
  const waitingOn = names && on?.kind === 'pipe' ? { ...on, dataId: names.pipe.get(on.dataId) ?? on.dataId } : on;
  return { ...base, waitingOn, current: { ...p.current, locals } };
}

/** The companion tables with pipes named, rows in key order; computed once per committed version and naming. */
const dbKeys = new Map<string, string>();

function dbKey(run: ScenarioRun, names: Names): string {
  const db = run.kernel.db;
  const namesKey = [...names.pipe].join(';');
  const key = `${db.committedVersion}|${namesKey}`;
  let out = dbKeys.get(key);
  if (out !== undefined) return out;
  const id = (n: unknown) => names.pipe.get(n as number) ?? n;
  const rows = (t: string) => db.dumpTable(t).rows;
  const sorted = (r: unknown[][]) => r.map((x) => serialize(x)).sort();
  out = digest(
    serialize([
      sorted(rows('pid_store')),
      sorted(rows('pid_pipe').map(([pid, fd, d]) => [pid, fd, id(d)])),
      sorted(rows('pipe_data').map(([d, r, w, data]) => [id(d), names.queue.get(r as number) ?? r, names.queue.get(w as number) ?? w, data])),
      sorted(rows('pipe_chunk').map(([seq, d, data]) => [seqName(seq as number, names), id(d), data])),
    ]),
  );
  if (dbKeys.size > 200_000) dbKeys.clear();
  dbKeys.set(key, out);
  return out;
}

/** Byte arrays are never written once stored: each one's digest is computed once. */
const bytesKeys = new WeakMap<Uint8Array, string>();

/**
 * JSON-like text of plain data, byte arrays as their digest: what JSON.stringify with a replacer gives,
 * at a fraction of its cost (a replacer function is called for every value). undefined members are left
 * out, as JSON.stringify leaves them.
 */
function serialize(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
    case 'boolean':
      return String(v);
    case 'string':
      return JSON.stringify(v);
    case 'undefined':
      return 'null';
    case 'object':
      break;
    default:
      return JSON.stringify(v) ?? 'null';
  }
  if (v instanceof Uint8Array) {
    let key = bytesKeys.get(v);
    if (key === undefined) bytesKeys.set(v, (key = `"${digest(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'))}"`));
    return key;
  }
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + serialize(v[i]);
    return `${out}]`;
  }
  let out = '{';
  let first = true;
  for (const k in v as Record<string, unknown>) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(k)}:${serialize(x)}`;
    first = false;
  }
  return `${out}}`;
}

function digest(s: string): string {
  return createHash('sha1').update(s).digest('base64');
}
