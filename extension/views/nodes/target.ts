/* Target view nodes: the active target, its details, and its processes. */
import * as vscode from 'vscode';
import { Cmd, Node } from '../../ids';
import type { ProcInfo, Target } from '../../targets/target';
import { TreeNode } from './node';

export class TargetNode extends TreeNode {
  constructor(private readonly target: Target) {
    super('target', undefined);
  }
  getTreeItem(): vscode.TreeItem {
    const info = this.target.info();
    const t = this.item(info.label, vscode.TreeItemCollapsibleState.Expanded);
    t.description = info.state;
    t.tooltip = `${info.label}\n${info.state}`;
    t.contextValue = `${Node.target}+${info.kind}`;
    t.iconPath = new vscode.ThemeIcon(info.kind === 'simulator' ? 'beaker' : 'remote');
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    const info = this.target.info();
    const details = Object.entries(info.details).map(([k, v]) => new DetailNode(this, k, v));
    return [...details, new ProcessesNode(this, this.target)];
  }
}

class DetailNode extends TreeNode {
  constructor(
    parent: TreeNode,
    private readonly key: string,
    private readonly value: string,
  ) {
    super(`target:${key}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(this.key);
    t.description = this.value;
    t.contextValue = Node.detail;
    if (this.key === 'profile' || this.key === 'locks') {
      t.command = { command: this.key === 'profile' ? Cmd.setProfile : Cmd.setLocks, title: `Change ${this.key}` };
      t.tooltip = `Click to change the ${this.key}`;
    }
    return t;
  }
}

export class ProcessesNode extends TreeNode {
  constructor(
    parent: TreeNode,
    private readonly target: Target,
  ) {
    super('target:processes', parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item('processes', vscode.TreeItemCollapsibleState.Expanded);
    t.iconPath = new vscode.ThemeIcon('server-process');
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    return (await this.target.processes()).map((p) => new ProcessNode(this, p));
  }
}

const PROC_ICON: Record<ProcInfo['state'], string> = { runnable: 'play', blocked: 'debug-pause', exited: 'circle-slash' };

class ProcessNode extends TreeNode {
  constructor(
    parent: TreeNode,
    private readonly p: ProcInfo,
  ) {
    super(`process:${p.pid}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const p = this.p;
    const t = this.item(`P${p.pid}`);
    const where = p.inside ? ` in ${p.inside.op} (line ${p.inside.line}, ${p.inside.step})` : '';
    t.description = `${p.state}${p.waitingOn ? ` on ${p.waitingOn}` : ''}${where}`;
    t.tooltip = `P${p.pid}: handler ${p.handler}, parent P${p.parent}\n${t.description}`;
    t.contextValue = `sqliteos:process+${p.state}`;
    t.iconPath = new vscode.ThemeIcon(PROC_ICON[p.state]);
    return t;
  }
}
