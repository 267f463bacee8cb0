/*
 * sqliteos-inspect's JSON (format 1, kernel-scripts/README.md) into a Snapshot, poll after poll. Between
 * two polls of a real kernel most of the output is the same text (only pid_store changes on an idle
 * kernel: each poll's own SSH session is a process there), so the text is split into its sections in
 * one pass and a section whose text did not change keeps the checked value it had, which also makes
 * the diff of an unchanged section one identity comparison. Every changed section is checked field by
 * field (kernel-json.ts); damaged output is a KernelFormatError naming the field, never a partial view.
 */
import { INSPECT_FORMAT, Json, KernelFormatError, ProcNames, counters, fail, locks, obj, pipes, procNames, procStates, processesFrom, protectBigIntegers, publishedProcesses, queues, show, table } from './kernel-json';
import type { Locks, Pipe, Process, Snapshot, Table, WaitQueue } from './model';

type Span = [number, number];

/** The end of the string starting at text[i] === '"' (the index of its closing quote), or -1. */
function stringEnd(text: string, i: number): number {
  let j = i;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j < 0) return -1;
    let k = j - 1;
    while (text.charCodeAt(k) === 92) k--;
    if ((j - k) % 2 === 1) return j;
  }
}

/**
 * Where each top-level value and each value inside "tables" lies: "format", "kernel", "tables.pid_store",
 * "locks", ... Undefined when the text is not one balanced object (truncated, not JSON).
 */
export function splitSections(text: string): Map<string, Span> | undefined {
  const out = new Map<string, Span>();
  let depth = 0;
  let top: string | undefined;
  let topStart = 0;
  let inner: string | undefined;
  let innerStart = 0;
  const close = (at: number) => {
    if (depth === 2 && top === 'tables' && inner !== undefined) {
      out.set(`tables.${inner}`, [innerStart, at]);
      inner = undefined;
    } else if (depth === 1 && top !== undefined) {
      out.set(top, [topStart, at]);
      top = undefined;
    }
  };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      let k = end + 1;
      while (k < text.length && text.charCodeAt(k) <= 32) k++;
      if (text.charCodeAt(k) === 58 /* : */) {
        if (depth === 1) [top, topStart] = [text.slice(i + 1, end), k + 1];
        else if (depth === 2 && top === 'tables') [inner, innerStart] = [text.slice(i + 1, end), k + 1];
        i = k;
      } else i = end;
    } else if (c === 123 || c === 91 /* { [ */) depth++;
    else if (c === 125 || c === 93 /* } ] */) {
      close(i);
      depth--;
      if (depth === 0) return text.slice(i + 1).trim() === '' ? out : undefined;
    } else if (c === 44 /* , */) close(i);
  }
  return undefined;
}

interface Kept<T> {
  raw: string;
  value: T;
}

export class InspectReader {
  private kept = new Map<string, Kept<unknown>>();
  private processes: { pidStore: Table; queues: WaitQueue[] | null; names: ProcNames | undefined; value: Process[] } | undefined;
  /** Sections parsed and reused by the last read (the bench reports these). */
  readonly last = { parsed: 0, reused: 0 };

  /** Parses one snapshot; `source` names where it came from in errors ("host: sqliteos-inspect"). */
  read(text: string, source: string, takenAt = Date.now()): Snapshot {
    const spans = splitSections(text);
    if (!spans) return this.refuse(text, source);
    this.last.parsed = this.last.reused = 0;
    const next = new Map<string, Kept<unknown>>();
    const section = <T>(key: string, check: (v: Json, where: string) => T): T => {
      const span = spans.get(key);
      if (!span) fail(`${source}: ${key}`, 'missing');
      const raw = text.slice(span[0], span[1]);
      const old = this.kept.get(key) as Kept<T> | undefined;
      if (old && old.raw === raw) {
        this.last.reused++;
        next.set(key, old);
        return old.value;
      }
      this.last.parsed++;
      const value = check(JSON.parse(protectBigIntegers(raw)), `${source}: ${key}`);
      next.set(key, { raw, value });
      return value;
    };
    const format = section('format', (v) => v);
    if (format !== INSPECT_FORMAT) {
      fail(`${source}: format`, `format ${show(format)}; this version of the extension reads format ${INSPECT_FORMAT} (update the extension or the helper)`);
    }
    const kernel = section('kernel', (v) => v);
    if (kernel !== 'companion' && kernel !== 'upstream') fail(`${source}: kernel`, `expected "companion" or "upstream", got ${show(kernel)}`);
    const tables: Record<string, Table> = {};
    for (const key of spans.keys()) if (key.startsWith('tables.')) tables[key.slice(7)] = section(key, table);
    if (!spans.has('tables')) fail(`${source}: tables`, 'missing');
    // A helper older than the names prints none: processes are then numbers only.
    const names = spans.has('names') ? section('names', procNames) : undefined;
    let result: Snapshot;
    if (kernel === 'upstream') {
      result = {
        kernel,
        takenAt,
        tables,
        processes: publishedProcesses(tables.pid_store, spans.has('procs') ? section('procs', procStates) : undefined, names),
        pipes: [],
        locks: null,
        queues: null,
        unavailable: 'the published SQLiteOS kernel shows only its tables (through syscall 549): it has no interface for lock state or wait queues',
        counters: {},
      };
    } else {
      const qs = section('queues', queues);
      // The mutex's waiters come from the queues, which may change while the locks' text does not.
      const lk = section<Locks>('locks', locks);
      const l = { ...lk, writeMutex: { ...lk.writeMutex, waiters: qs.find((q) => q.id.kind === 'mutex')?.sleepers ?? [] } };
      const ps = section<Pipe[]>('pipes', pipes);
      result = { kernel, takenAt, tables, processes: this.processesOf(tables.pid_store, qs, names), pipes: ps, locks: l, queues: qs, counters: section('counters', counters) };
    }
    this.kept = next;
    return result;
  }

  /** Processes depend on pid_store, the queues and the names: the same three objects give the same list. */
  private processesOf(pidStore: Table | undefined, qs: WaitQueue[], names: ProcNames | undefined): Process[] {
    const p = this.processes;
    if (p && pidStore && p.pidStore === pidStore && p.queues === qs && p.names === names) return p.value;
    const value = processesFrom(pidStore, qs, false, names);
    if (pidStore) this.processes = { pidStore, queues: qs, names, value };
    return value;
  }

  /** Not one balanced object: JSON.parse says what is wrong, with the output's length and end. */
  private refuse(text: string, source: string): never {
    let why = 'not one JSON object';
    try {
      obj(JSON.parse(text), source);
    } catch (e) {
      if (e instanceof KernelFormatError) throw e;
      why = (e as Error).message;
    }
    const cut = text.trim().length === 0 ? 'no output' : `${why} (output of ${text.length} bytes ending ${show(text.slice(-30))}: truncated?)`;
    throw new KernelFormatError(source, `not JSON: ${cut}`);
  }
}

/** One snapshot on its own (tests, the CLI). */
export function parseInspectJson(text: string, source: string, takenAt = Date.now()): Snapshot {
  return new InspectReader().read(text, source, takenAt);
}
