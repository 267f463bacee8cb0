/*
 * The base of every tree node, one class per kind: each node knows its own TreeItem and children; the
 * providers only delegate. Ids are stable across refreshes so expansion survives.
 */
import * as vscode from 'vscode';
import { Node } from '../../ids';

export abstract class TreeNode {
  constructor(
    readonly id: string,
    readonly parent: TreeNode | undefined,
  ) {}
  abstract getTreeItem(): vscode.TreeItem | Promise<vscode.TreeItem>;
  getChildren(): Promise<TreeNode[]> {
    return Promise.resolve([]);
  }
  protected item(label: string, state = vscode.TreeItemCollapsibleState.None): vscode.TreeItem {
    const t = new vscode.TreeItem(label, state);
    t.id = this.id;
    return t;
  }
}

const MESSAGE: Record<'info' | 'warning' | 'error', { context: Node; icon: vscode.ThemeIcon }> = {
  info: { context: Node.message, icon: new vscode.ThemeIcon('info') },
  warning: { context: Node.warning, icon: new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground')) },
  error: { context: Node.error, icon: new vscode.ThemeIcon('error') },
};

/** An explicit message in place of children: empty states, warnings and errors, never a popup. */
export class MessageNode extends TreeNode {
  constructor(
    id: string,
    parent: TreeNode | undefined,
    private readonly text: string,
    private readonly kind: 'info' | 'warning' | 'error' = 'info',
  ) {
    super(id, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(this.text);
    t.contextValue = MESSAGE[this.kind].context;
    t.iconPath = MESSAGE[this.kind].icon;
    t.tooltip = this.text;
    return t;
  }
}
