/*
 * Parses a .sqlos scenario (DESIGN.md, "The scenario language, version 1") and checks its references:
 * every process is P1 or made by an earlier fork/thread, nothing runs after its process's exit, every fd
 * label is named by an earlier pipe. Every malformed line is reported, each as FILE:LINE:COL, so a user
 * fixes them all in one go; a file with any error yields no scenario.
 */
import { ERRNOS, LOCK_POLICIES, LockPolicy, PROFILES, Profile } from '../sim/types';
import { ErrnoExpect, Label, Literal, ParseError, ParseResult, ResultExpect, Scenario, Statement } from './ast';
import { LexError, Token, tokenize } from './lexer';
import { OP_NAMES } from '../sim/program';

/** The operations as a file writes them (`rollback to NAME` is 557). */
const OPS_AS_WRITTEN = OP_NAMES.map((n) => n.replace('_', ' ')).join(', ');

/** What the language takes for a savepoint's name: an identifier of at most 64 bytes (555-557 take 1-64). */
export const SAVEPOINT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A savepoint's name: an identifier, as 555-557 take it (1-64 bytes). */
function savepointName(c: Cursor, line: number): Label {
  const t = word(c, 'a savepoint name');
  if (!SAVEPOINT_NAME.test(t.v)) throw new LineError(`'${t.v}' cannot be a savepoint name (letters, digits and _, at most 64)`, t.col);
  return { name: t.v, line, col: t.col };
}

/** Largest count literal: enough for any benchmark-like scenario, small enough to keep memory sane. */
export const MAX_COUNT = 64 * 1024 * 1024;


class LineError extends Error {
  constructor(
    message: string,
    readonly col: number,
  ) {
    super(message);
  }
}

/** The bytes a count literal stands for: a fixed, readable pattern (abc...z repeated). */
export function patternBytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 97 + (i % 26);
  return b;
}

class Cursor {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly lineLen: number,
  ) {}
  peek(): Token | undefined {
    return this.toks[this.i];
  }
  next(what: string): Token {
    const t = this.toks[this.i++];
    if (!t) throw new LineError(`expected ${what}`, this.lineLen + 1);
    return t;
  }
  end(): void {
    const t = this.toks[this.i];
    if (t) throw new LineError(`unexpected ${describe(t)} after the end of the statement`, t.col);
  }
}

function describe(t: Token): string {
  switch (t.t) {
    case 'word':
      return `'${t.v}'`;
    case 'int':
      return `number ${t.raw}`;
    case 'string':
      return 'string';
    case 'hex':
      return 'hex literal';
    case 'eq':
      return "'=='";
  }
}

function word(c: Cursor, what: string): Extract<Token, { t: 'word' }> {
  const t = c.next(what);
  if (t.t !== 'word') throw new LineError(`expected ${what}, got ${describe(t)}`, t.col);
  return t;
}

function proc(c: Cursor, what = 'a process (P1, P2, ...)'): { pid: number; col: number } {
  const t = word(c, what);
  const m = /^P([1-9][0-9]*)$/.exec(t.v);
  if (!m) throw new LineError(`expected ${what}, got '${t.v}'`, t.col);
  return { pid: Number(m[1]), col: t.col };
}

function label(c: Cursor, line: number): Label {
  const t = word(c, 'an fd label');
  if (/^P[0-9]+$/.test(t.v) || (OP_NAMES as readonly string[]).includes(t.v)) {
    throw new LineError(`'${t.v}' cannot be an fd label`, t.col);
  }
  return { name: t.v, line, col: t.col };
}

function literal(c: Cursor, line: number, what: string): Literal {
  const t = c.next(what);
  if (t.t === 'string') return { kind: 'text', bytes: t.bytes, source: t.raw, line, col: t.col };
  if (t.t === 'hex') return { kind: 'hex', bytes: t.bytes, source: t.raw, line, col: t.col };
  if (t.t === 'int') {
    if (t.v > MAX_COUNT) throw new LineError(`count ${t.raw} is larger than ${MAX_COUNT}`, t.col);
    return { kind: 'count', bytes: patternBytes(t.v), source: t.raw, line, col: t.col };
  }
  throw new LineError(`expected ${what}, got ${describe(t)}`, t.col);
}

/** `== ENAME`: an errno the statement must fail with. */
function errnoExpect(t: Extract<Token, { t: 'word' }>, line: number): ErrnoExpect {
  const code = ERRNOS.get(t.v);
  if (code === undefined) throw new LineError(`unknown errno '${t.v}' (${[...ERRNOS.keys()].join(', ')})`, t.col);
  return { kind: 'errno', name: t.v, code, source: t.v, line, col: t.col };
}

/**
 * What follows `==`, if anything: for a read, the bytes (a literal) or an errno; for a write, the bytes
 * it returns written or an errno; for a close, 0 or an errno; for a transaction's statement (553-557),
 * what it returns (0, or the published kernel's positive codes) or an errno.
 */
function expectation(c: Cursor, line: number, op: 'read' | 'write' | 'close' | 'txn'): Literal | ErrnoExpect | ResultExpect | undefined {
  if (c.peek()?.t !== 'eq') return undefined;
  c.next('==');
  const what = { read: 'the bytes it reads ("text", x"00ff" or a count) or an errno (EAGAIN, ...)', write: 'the bytes it writes (a number) or an errno (EAGAIN, ...)', close: '0 or an errno (EBADF, ...)', txn: 'what it returns (a number) or an errno (EINVAL, ...)' }[op];
  const t = c.peek();
  if (t?.t === 'word') return errnoExpect(c.next(what) as Extract<Token, { t: 'word' }>, line);
  if (op === 'read') return literal(c, line, what);
  const n = c.next(what);
  if (n.t !== 'int' || (op === 'close' && n.v !== 0)) throw new LineError(`expected ${what}, got ${describe(n)}`, n.col);
  return { kind: 'result', n: n.v, source: n.raw, line, col: n.col };
}

type Directives = Pick<Scenario, 'profile' | 'locks' | 'capacity'>;

function parseDirective(c: Cursor, d: Directives, seen: Map<string, number>, line: number): void {
  const t = word(c, 'a directive');
  if (seen.has(t.v)) throw new LineError(`${t.v} is already set at line ${seen.get(t.v)}`, t.col);
  if (t.v === '@profile') {
    const v = word(c, `a profile (${PROFILES.join(' | ')})`);
    if (!(PROFILES as readonly string[]).includes(v.v)) throw new LineError(`unknown profile '${v.v}' (${PROFILES.join(' | ')})`, v.col);
    d.profile = v.v as Profile;
  } else if (t.v === '@locks') {
    const v = word(c, `a lock policy (${LOCK_POLICIES.join(' | ')})`);
    if (!(LOCK_POLICIES as readonly string[]).includes(v.v)) throw new LineError(`unknown lock policy '${v.v}' (${LOCK_POLICIES.join(' | ')})`, v.col);
    d.locks = v.v as LockPolicy;
  } else if (t.v === '@capacity') {
    const v = c.next('a capacity in bytes');
    if (v.t !== 'int' || v.v < 1) throw new LineError('expected a capacity in bytes (a positive number)', v.col);
    if (v.v > MAX_COUNT) throw new LineError(`capacity ${v.raw} is larger than ${MAX_COUNT}`, v.col);
    d.capacity = v.v;
  } else {
    throw new LineError(`unknown directive '${t.v}' (@profile, @locks, @capacity)`, t.col);
  }
  seen.set(t.v, line);
  c.end();
}

function parseStatement(c: Cursor, line: number, text: string): Statement {
  const p = proc(c);
  const opTok = word(c, `an operation (${OPS_AS_WRITTEN})`);
  const base = { line, col: p.col, pid: p.pid, text };
  let s: Statement;
  switch (opTok.v) {
    case 'pipe': {
      s = { ...base, op: 'pipe', read: label(c, line), write: label(c, line) };
      const flag = c.peek();
      if (flag?.t === 'word') {
        if (flag.v !== 'nonblock') throw new LineError(`unknown pipe flag '${flag.v}' (nonblock)`, flag.col);
        c.next('a flag');
        s.nonblock = true;
      }
      break;
    }
    case 'fork':
    case 'thread':
      s = { ...base, op: opTok.v, child: proc(c, 'the new process (P2, P3, ...)').pid };
      break;
    case 'write':
      s = { ...base, op: 'write', fd: label(c, line), data: literal(c, line, 'the bytes to write ("text", x"00ff" or a count)') };
      s.expect = expectation(c, line, 'write') as ResultExpect | ErrnoExpect | undefined;
      break;
    case 'read': {
      const fd = label(c, line);
      const n = c.next('a byte count');
      if (n.t !== 'int') throw new LineError(`expected a byte count, got ${describe(n)}`, n.col);
      if (n.v > MAX_COUNT) throw new LineError(`count ${n.raw} is larger than ${MAX_COUNT}`, n.col);
      s = { ...base, op: 'read', fd, n: n.v, expect: expectation(c, line, 'read') as Literal | ErrnoExpect | undefined };
      break;
    }
    case 'close':
      s = { ...base, op: 'close', fd: label(c, line) };
      s.expect = expectation(c, line, 'close') as ResultExpect | ErrnoExpect | undefined;
      break;
    case 'query': {
      const q = c.next('SQL in double quotes');
      if (q.t !== 'string') throw new LineError(`expected SQL in double quotes, got ${describe(q)}`, q.col);
      if (q.v.trim() === '') throw new LineError('empty query', q.col);
      s = { ...base, op: 'query', sql: q.v };
      break;
    }
    case 'begin': {
      s = { ...base, op: 'begin' };
      const kind = c.peek();
      if (kind?.t === 'word') {
        if (kind.v !== 'write' && kind.v !== 'read') throw new LineError(`unknown transaction kind '${kind.v}' (read, write)`, kind.col);
        c.next('a transaction kind');
        if (kind.v === 'write') s.write = true;
      }
      s.expect = expectation(c, line, 'txn') as ResultExpect | ErrnoExpect | undefined;
      break;
    }
    case 'rollback':
    case 'commit':
      if (opTok.v === 'rollback' && c.peek()?.t === 'word' && (c.peek() as Extract<Token, { t: 'word' }>).v === 'to') {
        c.next('to');
        s = { ...base, op: 'rollback_to', name: savepointName(c, line) };
      } else s = { ...base, op: opTok.v };
      s.expect = expectation(c, line, 'txn') as ResultExpect | ErrnoExpect | undefined;
      break;
    case 'savepoint':
    case 'release':
      s = { ...base, op: opTok.v, name: savepointName(c, line) };
      s.expect = expectation(c, line, 'txn') as ResultExpect | ErrnoExpect | undefined;
      break;
    case 'exit':
      s = { ...base, op: opTok.v };
      break;
    default:
      throw new LineError(`unknown operation '${opTok.v}' (${OPS_AS_WRITTEN})`, opTok.col);
  }
  if (c.peek()?.t === 'eq') throw new LineError(`'==' does not follow ${s.op}: it follows read, write, close and the transaction's statements`, c.peek()!.col);
  c.end();
  return s;
}

/** Reference checks over the whole file: processes, exits and fd labels. */
function checkReferences(file: string, stmts: Statement[], errors: ParseError[]): number[] {
  const born = new Map<number, number>([[1, 0]]);
  const exited = new Map<number, number>();
  const labels = new Map<string, number>();
  const pids = [1];
  const later = new Map<number, number>();
  for (const s of stmts) if ((s.op === 'fork' || s.op === 'thread') && !later.has(s.child)) later.set(s.child, s.line);
  const err = (line: number, col: number, msg: string) => errors.push(new ParseError(file, line, col, msg));
  const useLabel = (l: Label) => {
    if (!labels.has(l.name)) err(l.line, l.col, `unknown fd label '${l.name}': no earlier pipe names it`);
  };
  for (const s of stmts) {
    if (!born.has(s.pid)) {
      const at = later.get(s.pid);
      err(s.line, s.col, at ? `P${s.pid} does not exist yet: it is created at line ${at}` : `unknown process P${s.pid}: no fork or thread creates it`);
    } else if (exited.has(s.pid)) {
      err(s.line, s.col, `P${s.pid} has exited at line ${exited.get(s.pid)}`);
    }
    switch (s.op) {
      case 'fork':
      case 'thread':
        if (born.has(s.child)) {
          const at = born.get(s.child)!;
          err(s.line, s.col, `P${s.child} already exists${at ? ` (created at line ${at})` : ''}`);
        } else {
          born.set(s.child, s.line);
          pids.push(s.child);
        }
        break;
      case 'pipe':
        for (const l of [s.read, s.write]) {
          if (labels.has(l.name)) err(l.line, l.col, `fd label '${l.name}' is already named by the pipe at line ${labels.get(l.name)}`);
        }
        if (s.read.name === s.write.name) err(s.write.line, s.write.col, 'the two ends need different labels');
        labels.set(s.read.name, s.line);
        labels.set(s.write.name, s.line);
        break;
      case 'read':
      case 'write':
      case 'close':
        useLabel(s.fd);
        break;
      case 'exit':
        exited.set(s.pid, s.line);
        break;
    }
  }
  return pids;
}

export function parseScenario(source: string, file = '<scenario>'): ParseResult {
  const errors: ParseError[] = [];
  const stmts: Statement[] = [];
  const directives: Directives = {};
  const seen = new Map<string, number>();
  const lines = source.split('\n');
  lines.forEach((raw, i) => {
    const line = i + 1;
    try {
      const { tokens: toks, end } = tokenize(raw);
      if (toks.length === 0) return;
      const text = raw.slice(toks[0].col - 1, end).trimEnd();
      const c = new Cursor(toks, toks[0].col - 1 + text.length);
      const first = toks[0];
      if (first.t === 'word' && first.v.startsWith('@')) return parseDirective(c, directives, seen, line);
      stmts.push(parseStatement(c, line, text));
    } catch (e) {
      if (e instanceof LexError || e instanceof LineError) errors.push(new ParseError(file, line, e.col, e.message));
      else throw e;
    }
  });
  if (directives.capacity !== undefined && directives.profile === 'upstream') {
    errors.push(new ParseError(file, seen.get('@capacity')!, 1, '@capacity applies to the companion profile only: the published kernel has no bound'));
  }
  if (directives.profile === 'upstream') {
    for (const st of stmts) {
      if (st.op === 'pipe' && st.nonblock) errors.push(new ParseError(file, st.line, st.col + st.text.lastIndexOf('nonblock'), 'nonblock: the published kernel has no sql_pipe2 (558), so no O_NONBLOCK pipe (the companion profile has one)'));
    }
  }
  const pids = checkReferences(file, stmts, errors);
  if (errors.length > 0) {
    errors.sort((a, b) => a.line - b.line || a.col - b.col);
    return { ok: false, errors };
  }
  return { ok: true, scenario: { file, ...directives, statements: stmts, pids } };
}
