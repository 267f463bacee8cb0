/*
 * Read-only documents under the sqliteos: scheme: a table row, a blob (hex dump and text), and query
 * results. Rows are read again from the target when opened, so a document shows the current data.
 */
import * as vscode from 'vscode';
import { hexDump, rowDocument, textTable } from './core/format';
import { SCHEME } from './ids';
import { Session } from './session';

function quoteIdent(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

export class Documents implements vscode.TextDocumentContentProvider {
  private readonly results = new Map<string, string>();
  private seq = 0;

  constructor(private readonly session: Session) {}

  rowUri(table: string, rowid: number): vscode.Uri {
    return vscode.Uri.from({ scheme: SCHEME, path: `/${table}/row-${rowid}.txt` });
  }

  blobUri(table: string, rowid: number, column: string): vscode.Uri {
    return vscode.Uri.from({ scheme: SCHEME, path: `/${table}/row-${rowid}-${column}.hex` });
  }

  /** Keeps a query's text result and returns the URI that shows it. */
  addResult(title: string, text: string): vscode.Uri {
    const uri = vscode.Uri.from({ scheme: SCHEME, path: `/query/${++this.seq}-${title.replace(/[^\w]+/g, '_').slice(0, 40)}.txt` });
    this.results.set(uri.toString(), text);
    return uri;
  }

  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const kept = this.results.get(uri.toString());
    if (kept !== undefined) return kept;
    const m = /^\/([^/]+)\/row-(\d+)(?:-([^.]+))?\.(txt|hex)$/.exec(uri.path);
    const target = this.session.target;
    if (!m || !target) return `Nothing to show for ${uri.toString()}: ${target ? 'unknown document' : 'no target is active'}\n`;
    const [, table, rowid, column] = m;
    const res = await target.query(`SELECT rowid, * FROM ${quoteIdent(table)} WHERE rowid = ${Number(rowid)}`);
    const row = res.rows[0];
    if (!row) return `${table} has no row ${rowid} any more\n`;
    if (column === undefined) return rowDocument(table, res.columns, row);
    const i = res.columns.indexOf(column);
    const v = row[i];
    if (!(v instanceof Uint8Array)) return `${table}.${column} of row ${rowid} is not a blob: ${String(v)}\n`;
    return `${table}.${column}, row ${rowid}: ${v.length} bytes\n\n${hexDump(v)}\n\nas text:\n${Buffer.from(v).toString('latin1')}\n`;
  }

  queryText(sql: string, columns: string[], rows: Parameters<typeof textTable>[1]): string {
    return `-- ${sql}\n\n${textTable(columns, rows)}`;
  }
}
