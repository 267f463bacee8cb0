/* Tables view nodes: a table, its rows a page at a time, each row's values, and "Load more". */
import * as vscode from 'vscode';
import { previewIn } from '../../core/format';
import { schemaOf } from '../../core/help';
import type { Value as SqlValue } from '../../targets/target';
import { Cmd, Node } from '../../ids';
import type { Target } from '../../targets/target';
import { MessageNode, TreeNode } from './node';

/** What a row or value command needs to find its data again. */
export interface RowRef {
  table: string;
  rowid: number;
  column?: string;
}

export class TableNode extends TreeNode {
  /** Rows shown so far; "Load more" adds a page. */
  shown: number;
  constructor(
    private readonly target: () => Target | undefined,
    readonly table: string,
    private readonly pageSize: () => number,
  ) {
    super(`table:${table}`, undefined);
    this.shown = pageSize();
  }
  async getTreeItem(): Promise<vscode.TreeItem> {
    const t = this.item(this.table, vscode.TreeItemCollapsibleState.Collapsed);
    try {
      const page = await this.target()?.tablePage(this.table, 0, 0);
      const total = page?.total;
      t.description = total === undefined ? '' : `${total} row${total === 1 ? '' : 's'}${page?.note ? ' (earlier copy)' : ''}`;
      if (page?.note) t.tooltip = `${this.table}: ${page.note}`;
    } catch (e) {
      // A table the kernel cannot read just now still gets its node; its children say why.
      t.description = 'not readable now';
      t.tooltip = (e as Error).message;
    }
    t.contextValue = Node.table;
    t.iconPath = new vscode.ThemeIcon('table');
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    const target = this.target();
    if (!target) return [];
    const page = await target.tablePage(this.table, 0, this.shown);
    const note: TreeNode[] = [new SchemaNode(this, this.table, page.columns.slice(1))];
    if (page.note) note.push(new MessageNode(`${this.id}:note`, this, page.note));
    if (page.total === 0) return [...note, new MessageNode(`${this.id}:empty`, this, 'no rows')];
    const rows: TreeNode[] = [...note, ...page.rows.map((r) => new RowNode(this, this.table, page.columns, r))];
    if (page.total > page.rows.length) rows.push(new LoadMoreNode(this, page.total - page.rows.length));
    return rows;
  }
}

/** The table's columns and what each means (pid_store.parent_id is the handler, not the parent pid). */
class SchemaNode extends TreeNode {
  constructor(
    parent: TableNode,
    private readonly table: string,
    private readonly columns: string[],
  ) {
    super(`${parent.id}:schema`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item('columns', vscode.TreeItemCollapsibleState.Collapsed);
    t.description = this.columns.join(', ');
    t.iconPath = new vscode.ThemeIcon('symbol-structure');
    t.contextValue = Node.schema;
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    return schemaOf(this.table, this.columns).map((c) => new MessageNode(`${this.id}:${c.column}`, this, `${c.column}: ${c.meaning}`));
  }
}

class RowNode extends TreeNode {
  constructor(
    parent: TableNode,
    private readonly table: string,
    private readonly columns: string[],
    private readonly row: SqlValue[],
  ) {
    super(`${parent.id}:row:${String(row[0])}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const label = this.columns
      .slice(1)
      .map((c, i) => `${c} ${previewIn(c, this.row[i + 1], 6)}`)
      .join(' · ');
    const t = this.item(label, vscode.TreeItemCollapsibleState.Collapsed);
    t.description = `${this.columns[0]} ${String(this.row[0])}`;
    t.contextValue = Node.row;
    t.iconPath = new vscode.ThemeIcon('symbol-field');
    const ref: RowRef = { table: this.table, rowid: this.row[0] as number };
    t.command = { command: Cmd.openRow, title: 'Open row', arguments: [ref] };
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    return this.columns.slice(1).map((c, i) => new ValueNode(this, this.table, this.row[0] as number, c, this.row[i + 1]));
  }
}

export class ValueNode extends TreeNode {
  constructor(
    parent: TreeNode,
    readonly table: string,
    readonly rowid: number,
    readonly column: string,
    readonly value: SqlValue,
  ) {
    super(`${parent.id}:${column}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(this.column);
    const blob = this.value !== null && typeof this.value === 'object';

    t.description = previewIn(this.column, this.value, 12);
    t.tooltip = previewIn(this.column, this.value, 64);
    t.contextValue = blob ? Node.blob : Node.value;
    t.iconPath = new vscode.ThemeIcon(blob ? 'file-binary' : 'symbol-constant');
    if (blob) {
      const ref: RowRef = { table: this.table, rowid: this.rowid, column: this.column };
      t.command = { command: Cmd.openBlob, title: 'Open blob', arguments: [ref] };
    }
    return t;
  }
}

class LoadMoreNode extends TreeNode {
  constructor(
    readonly table: TableNode,
    private readonly left: number,
  ) {
    super(`${table.id}:more`, table);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(`Load more (${this.left} more row${this.left === 1 ? '' : 's'})`);
    t.contextValue = Node.loadMore;
    t.iconPath = new vscode.ThemeIcon('ellipsis');
    t.command = { command: Cmd.loadMore, title: 'Load more', arguments: [this.table] };
    return t;
  }
}
