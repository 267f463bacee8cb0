/*
 * The simulator's database: one sql.js connection standing in for the kernel's shared in-memory database.
 *
 * The kernel opens a connection per operation; sql.js gives us one. Two facts make one enough:
 *  - writers are serialised (by the global write mutex), so at most one write transaction is open; it is
 *    the sql.js transaction, and every write it makes is logged;
 *  - a reader on another connection must see only committed data, so when a reader runs while the writer
 *    has uncommitted writes we roll the writer back, run the reader, and replay the writer's log. The
 *    statements are deterministic, so the replay rebuilds exactly the state that was there.
 * The same log makes snapshots cheap and exact in the middle of a transaction: committed bytes + the log.
 */
import * as fs from 'fs';
import * as path from 'path';
import initSqlJs from 'sql.js';
import type { Database, SqlJsStatic, Statement } from 'sql.js';

export type SqlValue = number | string | Uint8Array | null;

/** An SQL identifier, quoted: the one quoter every caller uses. */
export function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}
export type Row = SqlValue[];

export interface QueryResult {
  columns: string[];
  rows: Row[];
}

interface LoggedWrite {
  sql: string;
  params: SqlValue[];
}

export interface DbSnapshot {
  bytes: Uint8Array;
  /** Identity of the committed content the bytes hold (see SimDb.version). */
  version: number;
  txnOwner: number | null;
  log: LoggedWrite[];
}

/** Versions are unique across every SimDb in the process, so equal versions mean equal committed content. */
let versions = 0;
/** Recent exports kept per database (each a few pages: tens of KB). */
const EXPORTS_KEPT = 256;

let sqlJs: Promise<SqlJsStatic> | undefined;

/** Where sql-wasm.wasm is: beside the bundle when built, else in node_modules. */
function wasmPath(file: string): string {
  const beside = path.join(__dirname, file);
  if (fs.existsSync(beside)) return beside;
  return require.resolve(`sql.js/dist/${file}`);
}

/** Loads sql.js once per process; later calls share the same module. */
export function loadSqlJs(): Promise<SqlJsStatic> {
  sqlJs ??= initSqlJs({ locateFile: wasmPath });
  return sqlJs;
}

/**
 * The keyword of a statement that would change the database or the connection (INSERT ... VACUUM,
 * or a PRAGMA that sets a value), upper-cased; undefined for one that only reads. queryReadOnly
 * refuses those that change the connection (query_only stops the writes), and the debug console
 * names any of them before it runs SQL.
 */
export function writeKeyword(sql: string): string | undefined {
  const head = sql.replace(/^(\s|--[^\n]*\n|\/\*[\s\S]*?\*\/)*/, '');
  const m = /^(insert|update|delete|replace|create|drop|alter|begin|commit|rollback|attach|detach|vacuum)\b/i.exec(head);
  if (m) return m[1].toUpperCase();
  return /^pragma\b[^;]*=/i.test(head) ? 'PRAGMA' : undefined;
}

/** sql.js throws Error objects from SQLite but bare strings from its own checks. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export class SqlError extends Error {
  constructor(
    message: string,
    readonly sql: string,
  ) {
    super(message);
  }
}

export class SimDb {
  private db: Database;
  private cache = new Map<string, Statement>();
  private txnOwner: number | null = null;
  private log: LoggedWrite[] = [];
  /**
   * Identity of the committed content: a new number after every change that commits. Snapshots and
   * content hashes are cached against it, so a step that wrote nothing costs no export and no dump.
   */
  private version = ++versions;
  private exported: { version: number; bytes: Uint8Array } | undefined;
  private readonly hashes = new Map<number, string>();
  /**
   * The first version seen with each content digest: a version reached again by another path is renamed
   * to it (contentKey), so restoring a state whose tables are the ones already open costs nothing.
   */
  private readonly canon = new Map<string, number>();
  /** Exports of recent versions, so a content met again is not exported again. */
  private readonly exports = new Map<number, Uint8Array>();

  constructor(
    private readonly SQL: SqlJsStatic,
    bytes?: Uint8Array,
  ) {
    this.db = this.open(bytes);
  }

  private open(bytes?: Uint8Array): Database {
    const db = new this.SQL.Database(bytes);
    if (!bytes) db.run('PRAGMA page_size=16384');
    // Measured 1.3-1.6x faster than the default journal for this workload.
    db.run('PRAGMA journal_mode=MEMORY');
    db.run('PRAGMA cache_size=-16384');
    return db;
  }

  private stmt(sql: string): Statement {
    let s = this.cache.get(sql);
    if (!s) {
      try {
        s = this.db.prepare(sql);
      } catch (e) {
        throw new SqlError(errorText(e), sql);
      }
      this.cache.set(sql, s);
    }
    return s;
  }

  private freeStatements(): void {
    for (const s of this.cache.values()) s.free();
    this.cache.clear();
  }

  /** Runs DDL or a batch; not logged, so only for schema creation outside transactions. */
  execScript(sql: string): void {
    this.db.exec(sql);
    this.version = ++versions;
  }

  /** Rows of a read statement, as arrays. */
  all(sql: string, params: SqlValue[] = []): Row[] {
    const s = this.stmt(sql);
    try {
      s.bind(params);
      const rows: Row[] = [];
      while (s.step()) rows.push(s.get() as Row);
      return rows;
    } catch (e) {
      throw new SqlError(errorText(e), sql);
    } finally {
      s.reset();
    }
  }

  get(sql: string, params: SqlValue[] = []): Row | undefined {
    return this.all(sql, params)[0];
  }

  /** A write inside the open write transaction; logged for isolation and snapshots. */
  write(sql: string, params: SqlValue[] = []): number {
    const s = this.stmt(sql);
    try {
      s.run(params);
    } catch (e) {
      throw new SqlError(errorText(e), sql);
    } finally {
      s.reset();
    }
    if (this.txnOwner !== null) this.log.push({ sql, params });
    else this.version = ++versions;
    return this.db.getRowsModified();
  }

  lastInsertRowid(): number {
    return this.get('SELECT last_insert_rowid()')![0] as number;
  }

  get writer(): number | null {
    return this.txnOwner;
  }

  beginWrite(owner: number): void {
    if (this.txnOwner !== null) {
      throw new Error(`write transaction of P${owner} opened while P${this.txnOwner}'s is still open`);
    }
    this.db.run('BEGIN');
    this.txnOwner = owner;
    this.log = [];
  }

  commitWrite(): void {
    this.db.run('COMMIT');
    this.txnOwner = null;
    if (this.log.length > 0) this.version = ++versions;
    this.log = [];
  }

  rollbackWrite(): void {
    if (this.txnOwner === null) return;
    this.db.run('ROLLBACK');
    this.txnOwner = null;
    this.log = [];
  }

  /** Runs fn against committed data only, as a reader on its own connection would see it. */
  readCommitted<T>(fn: () => T): T {
    if (this.txnOwner === null || this.log.length === 0) return fn();
    const owner = this.txnOwner;
    const log = this.log;
    this.db.run('ROLLBACK');
    try {
      return fn();
    } finally {
      this.replay(owner, log);
    }
  }

  private replay(owner: number, log: LoggedWrite[]): void {
    this.db.run('BEGIN');
    this.txnOwner = owner;
    this.log = [];
    for (const w of log) this.write(w.sql, w.params);
  }

  /**
   * Runs one user statement that must not write (PRAGMA query_only makes SQLite refuse any write).
   * Throws SqlError with SQLite's message for bad SQL, a write, or more than one statement.
   */
  queryReadOnly(sql: string): QueryResult {
    // query_only stops writes to the database, not changes to the connection itself.
    const kw = writeKeyword(sql);
    if (kw && /^(ATTACH|DETACH|VACUUM|PRAGMA)$/.test(kw)) throw new SqlError(`attempt to write a readonly database: ${kw} changes the connection`, sql);
    return this.readCommitted(() => {
      this.db.run('PRAGMA query_only=1');
      try {
        const it = this.db.iterateStatements(sql);
        const first = it.next();
        if (first.done) throw new SqlError('no SQL statement', sql);
        const s = first.value;
        try {
          const rest = it.getRemainingSQL().replace(/--[^\n]*|\/\*[\s\S]*?\*\/|[\s;]/g, '');
          if (rest !== '') throw new SqlError('expected exactly one SQL statement', sql);
          const rows: Row[] = [];
          while (s.step()) rows.push(s.get() as Row);
          return { columns: s.getColumnNames(), rows };
        } finally {
          s.free();
        }
      } catch (e) {
        if (e instanceof SqlError) throw e;
        throw new SqlError(errorText(e), sql);
      } finally {
        this.db.run('PRAGMA query_only=0');
      }
    });
  }

  tableNames(): string[] {
    return this.all("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid").map((r) => String(r[0]));
  }

  /** A committed table: column names and every row. */
  dumpTable(name: string): QueryResult {
    return this.readCommitted(() => {
      const rows = this.all(`SELECT * FROM ${quoteIdent(name)}`);
      const cols = this.all(`SELECT name FROM pragma_table_info(?)`, [name]).map((r) => String(r[0]));
      return { columns: cols, rows };
    });
  }

  snapshot(): DbSnapshot {
    const owner = this.txnOwner;
    const log = this.log;
    const kept = this.exports.get(this.version);
    if (kept) this.exported = { version: this.version, bytes: kept };
    if (this.exported?.version !== this.version) {
      if (owner !== null) this.db.run('ROLLBACK');
      this.freeStatements();
      const bytes = this.db.export(); // closes and reopens: pragmas must be set again
      this.db.run('PRAGMA journal_mode=MEMORY');
      this.db.run('PRAGMA cache_size=-16384');
      this.txnOwner = null;
      if (owner !== null) this.replay(owner, log);
      this.exported = { version: this.version, bytes };
      this.exports.set(this.version, bytes);
      if (this.exports.size > EXPORTS_KEPT) this.exports.delete(this.exports.keys().next().value!);
    }
    return { bytes: this.exported.bytes, version: this.version, txnOwner: owner, log: log.slice() };
  }

  restore(snap: DbSnapshot): void {
    if (snap.version === this.version) {
      // Same committed content: only the open transaction may differ.
      if (this.txnOwner !== null) this.db.run('ROLLBACK');
    } else {
      this.freeStatements();
      this.db.close();
      this.db = this.open(snap.bytes);
      this.version = snap.version;
      this.exported = { version: snap.version, bytes: snap.bytes };
    }
    this.txnOwner = null;
    this.log = [];
    if (snap.txnOwner !== null) this.replay(snap.txnOwner, snap.log);
  }

  /** The committed content's version: equal versions, equal committed tables. */
  get committedVersion(): number {
    return this.version;
  }

  /**
   * A digest of the whole content as other connections would see it plus the open transaction's writes:
   * equal digests, equal databases. The committed part is computed once per version.
   */
  contentKey(digest: (s: string) => string): string {
    let committed = this.hashes.get(this.version);
    if (committed === undefined) {
      const dump = this.readCommitted(() => this.tableNames().map((t) => this.all(`SELECT * FROM "${t}" ORDER BY rowid`)));
      committed = digest(JSON.stringify(dump, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
      this.hashes.set(this.version, committed);
      const first = this.canon.get(committed);
      if (first === undefined) this.canon.set(committed, this.version);
      else this.version = first;
    }
    if (this.txnOwner === null) return committed;
    const pending = JSON.stringify(this.log, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v));
    return `${committed}/${this.txnOwner}/${digest(pending)}`;
  }

  close(): void {
    this.freeStatements();
    this.db.close();
  }
}
