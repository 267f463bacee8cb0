/*
 * The base of every tree node (STYLE.md point 4): each node knows its own TreeItem and children; the
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

/** An explicit message in place of children: empty states and errors, never a popup. */
export class MessageNode extends TreeNode {
  constructor(
    id: string,
    parent: TreeNode | undefined,
    private readonly text: string,
    private readonly error = false,
  ) {
    super(id, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(this.text);
    t.contextValue = this.error ? Node.error : Node.message;
    t.iconPath = new vscode.ThemeIcon(this.error ? 'error' : 'info');
    t.tooltip = this.text;
    return t;
  }
}
