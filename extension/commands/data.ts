/*
 * Commands over the active target's data: a read-only query, opening a row or a blob, copying a value,
 * paging a table, refreshing, and exporting a table to a CSV or JSON file the user picks.
 */
import * as vscode from 'vscode';
import { toCsv, toJson } from '../core/format';
import { rowKey } from '../core/sim/schema';
import { Cmd, Defaults, Setting } from '../ids';
import { Documents } from '../documents';
import { Session } from '../session';
import { Target } from '../targets/target';
import { RowRef, TableNode, ValueNode } from '../views/nodes/tables';
import { Views } from '../views/views';
import { UserError, register } from './register';

export class DataCommands {
  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly session: Session,
    private readonly views: Views,
    private readonly docs: Documents,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  registerAll(): void {
    const r = <A extends unknown[]>(id: Parameters<typeof register>[2], fn: (...a: A) => unknown) => register(this.ctx, this.log, id, fn);
    r(Cmd.query, (sql?: string) => this.query(sql));
    r(Cmd.refresh, () => this.views.refreshAll());
    r(Cmd.exportTable, (node?: TableNode | string, file?: vscode.Uri) => this.exportTable(node, file));
    r(Cmd.openRow, async (ref: RowRef) => this.open(this.docs.rowUri(ref.table, ref.rowid, await this.keyOf(ref))));
    r(Cmd.openBlob, async (ref: RowRef) => this.open(this.docs.blobUri(ref.table, ref.rowid, ref.column!, await this.keyOf(ref))));
    r(Cmd.copyValue, (node: ValueNode) => this.copy(node));
    r(Cmd.loadMore, (node: TableNode) => {
      node.shown += vscode.workspace.getConfiguration(Setting.section).get<number>(Setting.pageSize, Defaults[Setting.pageSize]);
      this.views.tables.refresh(node);
    });
  }

  private target(): Target {
    const t = this.session.target;
    if (!t) throw new UserError('No target: open an example scenario or use the simulator first.');
    return t;
  }

  /** The row's key for its document's title ("pid 36 fd 3"); none when the row is gone (the document says so). */
  private async keyOf(ref: RowRef): Promise<string | undefined> {
    const res = await this.target().row(ref.table, ref.rowid);
    return res ? rowKey(ref.table, res.columns, res.row) : undefined;
  }

  private async open(uri: vscode.Uri): Promise<void> {
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  async query(sql?: string): Promise<vscode.Uri | undefined> {
    const target = this.target();
    const text =
      sql ??
      (await vscode.window.showInputBox({
        prompt: 'Read-only SQL to run on the target',
        placeHolder: 'SELECT * FROM pid_store',
        ignoreFocusOut: true,
      }));
    if (!text) return undefined;
    let res;
    try {
      res = await target.query(text);
    } catch (e) {
      throw new UserError(`query failed: ${(e as Error).message}`);
    }
    const uri = this.docs.addResult(this.docs.queryTitle(text), this.docs.queryText(text, res.columns, res.rows));
    await this.open(uri);
    return uri;
  }

  private async copy(node: ValueNode): Promise<void> {
    const v = node.value;
    await vscode.env.clipboard.writeText(v instanceof Uint8Array ? Buffer.from(v).toString('hex') : String(v));
  }

  async exportTable(node?: TableNode | string, file?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const target = this.target();
    const table = node instanceof TableNode ? node.table : (node ?? (await vscode.window.showQuickPick(await target.tableNames(), { placeHolder: 'Export which table?' })));
    if (!table) return undefined;
    const dest =
      file ??
      (await vscode.window.showSaveDialog({
        title: `Export ${table}`,
        defaultUri: vscode.Uri.joinPath(vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(process.cwd()), `${table}.csv`),
        filters: { CSV: ['csv'], JSON: ['json'] },
      }));
    if (!dest) return undefined;
    const total = (await target.tablePage(table, 0, 0)).total;
    const page = await target.tablePage(table, 0, total);
    const json = dest.path.toLowerCase().endsWith('.json');
    const text = json ? toJson(page.columns, page.rows) : toCsv(page.columns, page.rows);
    await vscode.workspace.fs.writeFile(dest, Buffer.from(text, 'utf8'));
    this.log.info(`exported ${page.rows.length} row(s) of ${table} to ${dest.fsPath}`);
    void vscode.window.showInformationMessage(`Exported ${page.rows.length} row(s) of ${table} to ${dest.fsPath}`, 'Open').then(async (pick) => {
      if (pick) await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(dest), { preview: false });
    });
    return dest;
  }
}
