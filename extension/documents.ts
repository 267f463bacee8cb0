/*
 * Read-only documents under the sqliteos: scheme: a table row, a blob (hex dump and text), and query
 * results. Rows are read again from the target when opened, so a document shows the current data.
 */
import * as vscode from 'vscode';
import { blobOf, hexDump, rowDocument, textTable } from './core/format';
import { Cmd, SCHEME } from './ids';
import { Session } from './session';
import type { AnomalyKind } from './core/sim/events';
import type { MinimizeTarget } from './commands/minimize';


/** What replays an exploration's counterexample: the launch configuration the lens starts. */
export interface Replay {
  file: string;
  schedule: number[];
  profile: string;
  locks: string;
  kind: AnomalyKind;
  /** The violating statement's line in `file`. */
  line: number;
}

export class Documents implements vscode.TextDocumentContentProvider, vscode.CodeLensProvider {
  private readonly results = new Map<string, string>();
  private readonly replays = new Map<string, Replay>();
  private seq = 0;
  private readonly explorations = new Map<string, number>();

  constructor(private readonly session: Session) {}

  /** A row's document, titled by its key when known ("pid_pipe pid 36 fd 3.txt"); the rowid finds it. */
  rowUri(table: string, rowid: number, key?: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SCHEME, path: `/${table}/row-${rowid}${key ? `/${table} ${key}` : ''}.txt` });
  }

  blobUri(table: string, rowid: number, column: string, key?: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SCHEME, path: `/${table}/row-${rowid}-${column}${key ? `/${table} ${key} ${column}` : ''}.hex` });
  }

  /** Keeps a text result under a name that says what it is ("query 2 on pid_store") and returns its URI. */
  addResult(title: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/results/${title.replace(/[/\\]/g, '_').slice(0, 60)}.txt` });
    this.results.set(uri.toString(), text);
    return uri;
  }

  /** Keeps an exploration's report; its document carries a "Replay in debugger" lens when it found one. */
  addExploreReport(file: string, text: string, replay: Replay | undefined): vscode.Uri {
    // The first exploration of a file is "explore FILE", later ones "explore FILE (2)", ...
    const n = (this.explorations.get(file) ?? 0) + 1;
    this.explorations.set(file, n);
    const uri = this.addResult(`explore ${file}${n > 1 ? ` (${n})` : ''}`, text);
    if (replay) this.replays.set(uri.toString(), replay);
    return uri;
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const r = this.replays.get(doc.uri.toString());
    if (!r) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    const target: MinimizeTarget = { file: r.file, kind: r.kind, line: r.line };
    return [
      new vscode.CodeLens(top, { title: `$(debug-alt) Replay the ${r.kind} in the debugger`, command: Cmd.replay, arguments: [r] }),
      new vscode.CodeLens(top, { title: `$(fold) Minimize the scenario to this ${r.kind}`, command: Cmd.minimize, arguments: [target] }),
    ];
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const kept = this.results.get(uri.toString());
    if (kept !== undefined) return kept;
    const m = /^\/([^/]+)\/row-(\d+)(?:-([^./]+))?(?:\/[^/]*)?\.(txt|hex)$/.exec(uri.path);
    const target = this.session.target;
    if (!m || !target) return `Nothing to show for ${uri.toString()}: ${target ? 'unknown document' : 'no target is active'}\n`;
    const [, table, rowid, column] = m;
    const res = await target.row(table, Number(rowid));
    if (!res) return `${table} has no row ${rowid} any more\n`;
    if (column === undefined) return rowDocument(table, res.columns, res.row);
    const b = blobOf(res.row[res.columns.indexOf(column)] ?? null);
    if (!b) return `${table}.${column} of row ${rowid} is not a blob: ${String(res.row[res.columns.indexOf(column)])}\n`;
    const part = b.bytes.length < b.length ? ` (the first ${b.bytes.length} shown: the kernel sends no more)` : '';
    return `${table}.${column}, row ${rowid}: ${b.length} bytes${part}\n\n${hexDump(b.bytes)}\n\nas text:\n${Buffer.from(b.bytes).toString('latin1')}\n`;
  }

  /** "query 3 on pid_store": the tables the statement reads, numbered so each result keeps its tab. */
  queryTitle(sql: string): string {
    const tables = [...sql.matchAll(/\b(?:FROM|JOIN)\s+([A-Za-z_][\w]*)/gi)].map((m) => m[1]);
    return `query ${++this.seq}${tables.length ? ` on ${[...new Set(tables)].join(', ')}` : ''}`;
  }

  queryText(sql: string, columns: string[], rows: Parameters<typeof textTable>[1]): string {
    return `-- ${sql}\n\n${textTable(columns, rows)}`;
  }
}
