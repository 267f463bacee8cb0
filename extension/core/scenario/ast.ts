/*
 * The scenario language (.sqlos, version 1) as data: what the parser produces and the runner consumes.
 */
import type { LockPolicy, Profile } from '../sim/types';

export interface Located {
  line: number;
  /** 1-based column of the token. */
  col: number;
}

export interface Label extends Located {
  name: string;
}

export interface Literal extends Located {
  kind: 'text' | 'hex' | 'count';
  bytes: Uint8Array;
  /** The literal as written. */
  source: string;
}

/** A result a statement must give: an errno by name (`== EAGAIN`). */
export interface ErrnoExpect extends Located {
  kind: 'errno';
  name: string;
  /** The negative errno, as the kernel returns it. */
  code: number;
  source: string;
}

/** A result a statement must give: a count (a write's bytes written; a close's 0). */
export interface ResultExpect extends Located {
  kind: 'result';
  n: number;
  source: string;
}

export type Expectation = Literal | ErrnoExpect | ResultExpect;

interface StmtBase extends Located {
  pid: number;
  /** The statement as written, without its comment. */
  text: string;
}

export type Statement = StmtBase &
  (
    | { op: 'pipe'; read: Label; write: Label; nonblock?: true }
    | { op: 'fork' | 'thread'; child: number }
    | { op: 'write'; fd: Label; data: Literal; expect?: ResultExpect | ErrnoExpect }
    | { op: 'read'; fd: Label; n: number; expect?: Literal | ErrnoExpect }
    | { op: 'close'; fd: Label; expect?: ResultExpect | ErrnoExpect }
    | { op: 'exit' }
    | { op: 'query'; sql: string }
    | { op: 'begin'; write?: true; expect?: ResultExpect | ErrnoExpect }
    | { op: 'commit' | 'rollback'; expect?: ResultExpect | ErrnoExpect }
    | { op: 'savepoint' | 'release' | 'rollback_to'; name: Label; expect?: ResultExpect | ErrnoExpect }
  );

export interface Scenario {
  file: string;
  profile?: Profile;
  locks?: LockPolicy;
  capacity?: number;
  statements: Statement[];
  /** Every process in the file, P1 first, then in order of creation. */
  pids: number[];
}

export class ParseError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly message: string,
  ) {}
  toString(): string {
    return `${this.file}:${this.line}:${this.col}: ${this.message}`;
  }
}

export type ParseResult = { ok: true; scenario: Scenario } | { ok: false; errors: ParseError[] };
