/*
 * What sqliteos-run printed, as `sqliteos run --json`'s contract (a RunResult with profile
 * "companion-kernel", or "upstream-kernel" from the published kernel). Processes are named as the
 * scenario names them (P1 …), everywhere: ops, tables, pipes, locks, query columns named pid or
 * parent_id. Pipes keep the kernel's own dataIds; each pipe op carries the dataId it made, which is how
 * a comparison names pipes. Tables show only the rows of the scenario's processes and pipes (a guest
 * may run other SQLiteOS programs beside it).
 *
 * The published kernel shows only its tables: a pipe's dataId is its pid_pipe row (the process that
 * made it, the read fd it got), and there is no lock state and no pipe ends (`hidden` says so; a
 * comparison leaves them out).
 */
import type { Scenario, Statement } from '../scenario/ast';
import { bytesDigest, showBytes } from '../scenario/bytes';
import { unmetExpectation } from '../scenario/expect';
import type { Anomaly, OpRecord, RunProcess, RunResult } from '../scenario/runner';
import { InspectReader } from '../model/inspect-reader';
import { parseQueueName } from '../model/kernel-json';
import { Locks, Pipe, QueueId, Snapshot, Value, WaitQueue, queueKey } from '../model/model';
import { WakeView, classifyStuck } from '../model/stuck';
import { Err, errName } from '../sim/types';

export class KernelRunError extends Error {}

/** What a run on the published kernel cannot show, in its RunResult (`hidden`). */
export const UPSTREAM_HIDDEN = 'the published SQLiteOS kernel shows only its tables: no lock state, no wait queues but what /proc says of each sleeper, no pipe ends';

interface Done {
  /** The statements handed out before it completed: those completing in one round ran concurrently. */
  round: number;
  /** The round it was handed out in (the runner hands statements out as processes come free, not in line order). */
  given: number;
  idx: number;
  ns: bigint;
  ret: number;
  extra: string[];
  rows: [string, string | null][][];
}

function unhex(h: string): string {
  return Buffer.from(h, 'hex').toString('utf8');
}

/** Reads the runner's lines; `source` names the machine in errors. */
export function kernelRunResult(scenario: Scenario, output: string, source: string, capacity: number): RunResult {
  const lines = output.split('\n');
  if (lines[0] !== 'sqliteos-run 1') throw new KernelRunError(`${source}: sqliteos-run: unexpected output: ${JSON.stringify(output.slice(0, 200))}`);
  const real = new Map<number, number>();
  const done: Done[] = [];
  const asleep = new Map<number, string>();
  const rows = new Map<number, [string, string | null][][]>();
  let inspect: string | undefined;
  let end: string | undefined;
  let round = 0;
  const given = new Map<number, number>();
  for (let i = 1; i < lines.length; i++) {
    const [kind, ...f] = lines[i].split(' ');
    if (kind === 'pid') real.set(Number(f[0]), Number(f[1]));
    else if (kind === 'give') given.set(Number(f[0]), ++round);
    else if (kind === 'done' || kind === 'unbound') {
      const idx = Number(f[0]);
      const d: Done = { round, given: given.get(idx) ?? round, idx, ns: BigInt(f[1]), ret: kind === 'unbound' ? NaN : Number(f[2]), extra: f.slice(3), rows: rows.get(idx) ?? [] };
      done.push(d);
    } else if (kind === 'row') {
      const idx = Number(f[0]);
      const row: [string, string | null][] = [];
      for (let k = 1; k + 1 < f.length; k += 2) row.push([unhex(f[k]), f[k + 1] === '~' ? null : unhex(f[k + 1])]);
      rows.set(idx, [...(rows.get(idx) ?? []), row]);
    } else if (kind === 'asleep') asleep.set(Number(f[0]), f[1]);
    else if (kind === 'error') throw new KernelRunError(`${source}: sqliteos-run: ${f.join(' ')}`);
    else if (kind === 'inspect') inspect = lines[++i];
    else if (kind === 'end') end = f[0];
  }
  if (!end) throw new KernelRunError(`${source}: sqliteos-run stopped before its end line (killed, or the connection dropped)`);
  if (inspect === undefined) throw new KernelRunError(`${source}: sqliteos-run printed no kernel state`);
  const snap = new InspectReader().read(inspect, `${source}: sqliteos-inspect`);
  const a = new Assembler(scenario, real, snap, capacity);
  return snap.kernel === 'upstream' ? a.buildUpstream(done, asleep) : a.build(done, asleep);
}

class Assembler {
  private readonly byReal = new Map<number, number>();
  readonly dataIds = new Set<number>();
  private readonly ops: OpRecord[] = [];
  private readonly anomalies: Anomaly[] = [];
  /** Rows left out of the tables as not the scenario's, per table (filled by tables()). */
  private readonly outside: Record<string, number> = {};

  constructor(
    private readonly scenario: Scenario,
    private readonly real: Map<number, number>,
    private readonly snap: Snapshot,
    private readonly capacity: number,
  ) {
    for (const [p, r] of real) this.byReal.set(r, p);
  }

  /** A kernel pid as the scenario names it; one not of the scenario stays as it is, negated. */
  private pid = (r: number): number => this.byReal.get(r) ?? -r;

  private sorted(done: Done[]): Done[] {
    return [...done].sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  }

  /**
   * The published kernel's run. Its pipes' dataIds come from pid_pipe (the maker's pid and read fd),
   * before the ops are assembled; the runner names the pipe a reader sleeps on (that kernel's own lookup).
   */
  buildUpstream(done: Done[], asleepOn: Map<number, string>): RunResult {
    const t = this.snap.tables.pid_pipe;
    for (const d of done) {
      const s = this.scenario.statements[d.idx];
      if (s.op !== 'pipe' || d.ret !== 0) continue;
      const maker = this.real.get(s.pid);
      // The newest of the maker's rows for that fd: a forked child has its parent's rows copied, under
      // the same fd numbers its own pipe then gets (reserved fds are not copied); dataIds only grow.
      const ids = (t?.rows ?? [])
        .filter((r) => Number(r[t!.columns.indexOf('pid')]) === maker && Number(r[t!.columns.indexOf('fd')]) === Number(d.extra[0]))
        .map((r) => Number(r[t!.columns.indexOf('dataId')]));
      if (!ids.length) throw new KernelRunError(`${this.scenario.file}:${s.line}: P${s.pid}'s pipe (fds ${d.extra[0]}, ${d.extra[1]}) has no pid_pipe row on the published kernel`);
      d.extra[2] = String(Math.max(...ids));
    }
    for (const d of this.sorted(done)) this.op(this.scenario.statements[d.idx], d);
    const tables = this.tables();
    const asleep = this.asleep(asleepOn);
    // The wake rule on what this kernel shows: a reader's pipe by the bytes its row holds (no EOF there,
    // and no writer ever waits: the ends, which it does not show, are taken as open); no lock state.
    const pipes: Pipe[] = (tables.pipe_data ?? []).map((r) => ({ dataId: r.dataId as number, buffered: (r.data as { blob?: number } | null)?.blob ?? 0, readers: 1, writers: 1 }));
    const view: WakeView = { pipes, locks: null, capacity: this.capacity, eofWakesReaders: false };
    for (const [p, on] of asleep) this.anomalies.push(classifyStuck(p, on, this.nextStatement(p), view));
    const queues = new Map<string, WaitQueue>();
    for (const [p, on] of asleep) {
      const q = queues.get(queueKey(on)) ?? { id: on, sleepers: [] };
      q.sleepers.push(p);
      queues.set(queueKey(on), q);
    }
    return this.result(asleep, { profile: 'upstream-kernel', tables, pipes: [], lockState: null, hidden: UPSTREAM_HIDDEN, queues: [...queues.values()] });
  }

  /** The runner's "asleep" lines, each queue as the model names it. */
  private asleep(asleepOn: Map<number, string>): Map<number, QueueId> {
    return new Map([...asleepOn].map(([p, q]) => [p, parseQueueName(q, `${this.scenario.file}: asleep P${p}`)]));
  }

  /** A RunResult of what was assembled, with what differs between the two kernels. */
  private result(asleep: Map<number, QueueId>, k: Pick<RunResult, 'profile' | 'tables' | 'pipes' | 'lockState' | 'queues' | 'unreadable' | 'hidden'>): RunResult {
    return {
      file: this.scenario.file,
      profile: k.profile,
      locks: 'sqliteos',
      capacity: this.capacity,
      ok: this.anomalies.length === 0,
      ops: this.ops,
      tables: k.tables,
      ...(k.unreadable ? { unreadable: k.unreadable } : {}),
      ...(Object.keys(this.outside).length ? { outside: this.outside } : {}),
      pipes: k.pipes,
      processes: this.processes(asleep),
      lockState: k.lockState,
      ...(k.hidden ? { hidden: k.hidden } : {}),
      queues: k.queues,
      anomalies: this.anomalies,
    };
  }

  build(done: Done[], asleepOn: Map<number, string>): RunResult {
    for (const d of this.sorted(done)) this.op(this.scenario.statements[d.idx], d);
    const asleep = this.asleep(asleepOn);
    const k = this.snap.locks!;
    const lockState: Locks = {
      currentMaxLock: k.currentMaxLock,
      numReaders: k.numReaders,
      writeMutex: { owner: k.writeMutex.owner === null ? null : this.pid(k.writeMutex.owner), waiters: k.writeMutex.waiters.map(this.pid) },
      connections: k.connections.filter((c) => this.byReal.has(c.owner)).map((c) => ({ ...c, owner: this.pid(c.owner), purpose: 'transaction' })),
      transactions: k.transactions.filter((t) => this.byReal.has(t.pid)).map((t) => ({ ...t, pid: this.pid(t.pid) })),
    };
    // The store's and the mutex's queues, and the scenario's pipes'; sleepers as the scenario names them.
    const queues: WaitQueue[] = (this.snap.queues ?? [])
      .filter((q) => q.id.kind !== 'pipe' || this.dataIds.has(q.id.dataId))
      .map((q) => ({ id: q.id, sleepers: q.sleepers.map(this.pid) }));
    const pipes = this.snap.pipes.filter((p) => this.dataIds.has(p.dataId));
    const view: WakeView = { pipes, locks: lockState, capacity: this.capacity, eofWakesReaders: true };
    for (const [p, on] of asleep) this.anomalies.push(classifyStuck(p, on, this.nextStatement(p), view));
    const tables = this.tables();
    return this.result(asleep, { profile: 'companion-kernel', tables, ...(this.busy().length ? { unreadable: this.busy() } : {}), pipes, lockState, queues });
  }

  private op(s: Statement, d: Done): void {
    const rec: OpRecord = { line: s.line, pid: s.pid, op: s.op, result: d.ret, error: null, round: d.round, given: d.given };
    let data: Uint8Array | undefined;
    if (Number.isNaN(d.ret)) {
      const label = 'fd' in s ? s.fd.name : '?';
      rec.result = Err.EBADF;
      rec.error = `EBADF (-9): fd label '${label}' is not bound yet: its pipe has not run`;
    } else if (d.ret < 0) rec.error = errName(d.ret);
    else if (s.op === 'pipe') {
      rec.result = [Number(d.extra[0]), Number(d.extra[1])];
      const id = Number(d.extra[2]);
      if (id > 0) {
        rec.dataId = id;
        this.dataIds.add(id);
      }
    } else if (s.op === 'fork' || s.op === 'thread') rec.result = this.pid(d.ret);
    else if (s.op === 'read') {
      const bytes = new Uint8Array(Buffer.from(d.extra[0] ?? '', 'hex'));
      rec.data = showBytes(bytes);
      if (bytes.length > 48) rec.digest = bytesDigest(bytes);
      data = bytes;
    } else if (s.op === 'query') rec.result = d.rows.map((r) => r.map(([col, v]) => this.cell(col, v)));
    const unmet = unmetExpectation(s, rec.result, rec.error, data);
    if (unmet) this.anomaly('expectation', s, unmet);
    this.ops.push(rec);
  }

  /** A query's value: pids as the scenario names them, integers as numbers. */
  private cell(col: string, v: string | null): unknown {
    if (v === null || !/^-?\d+$/.test(v)) return v;
    const n = Number(v);
    return col === 'pid' || col === 'parent_id' ? this.pid(n) : n;
  }

  private anomaly(kind: Anomaly['kind'], s: { line: number; pid: number }, message: string): void {
    this.anomalies.push({ kind, line: s.line, pid: s.pid, message });
  }

  /** The statement a process was running when the run ended: its first not in the completed ops. */
  private nextStatement(p: number): Statement | undefined {
    const finished = new Set(this.ops.filter((o) => o.pid === p).map((o) => o.line));
    return this.scenario.statements.find((s) => s.pid === p && !finished.has(s.line));
  }

  private busy(): string[] {
    return Object.entries(this.snap.tables)
      .filter(([, t]) => t.busy)
      .map(([name]) => name);
  }

  private tables(): RunResult['tables'] {
    const out: RunResult['tables'] = {};
    for (const [name, t] of Object.entries(this.snap.tables)) {
      const col = (c: string) => t.columns.indexOf(c);
      const [pid, parent, dataId, seq] = [col('pid'), col('parent_id'), col('dataId'), col('seq')];
      // Other processes' rows (the system's, the runner's) and other pipes' are not the scenario's;
      // but every row of a pipe the scenario made is kept, whoever it names: a row of such a pipe held
      // by a process outside the scenario is a leak, and shows as a difference (its pid negated).
      const mine = t.rows.filter((r) => (dataId >= 0 ? this.dataIds.has(Number(r[dataId])) : pid < 0 || this.byReal.has(Number(r[pid]))));
      if (mine.length < t.rows.length) this.outside[name] = t.rows.length - mine.length;
      out[name] = mine
        .map((r) =>
          Object.fromEntries(
            t.columns.map((c, i) => {
              const v = r[i];
              if (i === pid || i === parent) return [c, this.pid(Number(v))];
              if (i === seq && typeof v === 'bigint') return [c, v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()];
              // The published kernel's blobs, sent as their length and a literal of their first 400 bytes
              // (549 prints C strings; a log record holds about 1000 characters): run_tables_json.
              const lit = typeof v === 'string' ? /^x'([0-9A-F]*)'$/.exec(v) : null;
              if (lit && this.snap.kernel === 'upstream') {
                const length = r[t.columns.indexOf('data.length')];
                return [c, { blob: typeof length === 'number' ? length : lit[1].length / 2, hex: lit[1].toLowerCase() }];
              }
              return [c, jsonValue(v)];
            }).filter(([c]) => c !== 'data.length'),
          ),
        );
    }
    return out;
  }

  private processes(asleep: Map<number, QueueId>): RunProcess[] {
    const handler = new Map<number, number>();
    const parent = new Map<number, number>([[1, 0]]);
    handler.set(1, 1);
    for (const s of this.scenario.statements) {
      if (s.op !== 'fork' && s.op !== 'thread') continue;
      parent.set(s.child, s.pid);
      handler.set(s.child, s.op === 'thread' ? (handler.get(s.pid) ?? s.pid) : s.child);
    }
    const exited = new Set(this.ops.filter((o) => o.op === 'exit').map((o) => o.pid));
    return [...this.real.keys()].map((p) => {
      const on = asleep.get(p) ?? null;
      const st = on ? this.nextStatement(p) : undefined;
      return {
        pid: p,
        handler: handler.get(p) ?? p,
        parent: parent.get(p) ?? 0,
        state: exited.has(p) ? 'exited' : on ? 'blocked' : 'runnable',
        waitingOn: on,
        activity: st ? `${st.op} (line ${st.line}): asleep` : null,
        inside: st ? { op: st.op, line: st.line, step: 'sleep' } : null,
      } satisfies RunProcess;
    });
  }
}

function jsonValue(v: Value): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return { blob: v.length, hex: Buffer.from(v).toString('hex') };
  return v;
}
