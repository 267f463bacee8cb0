/* A node that stands for the items a view leaves out, so a huge kernel never means a huge tree. */
import * as vscode from 'vscode';
import { Node } from '../../ids';
import { TreeNode } from './node';

export class MoreNode extends TreeNode {
  constructor(
    id: string,
    parent: TreeNode | undefined,
    private readonly text: string,
    private readonly hint: string,
  ) {
    super(id, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(this.text);
    t.description = this.hint;
    t.contextValue = Node.message;
    t.iconPath = new vscode.ThemeIcon('ellipsis');
    return t;
  }
}
