/* Target view nodes: the active target, its details, and its processes. */
import * as vscode from 'vscode';
import { Cmd, Node } from '../../ids';
import { queueName } from '../../core/model/model';
import type { Process, Target } from '../../targets/target';
import { MoreNode } from './more';
import { MessageNode, TreeNode } from './node';

export class TargetNode extends TreeNode {
  constructor(private readonly target: Target) {
    super('target', undefined);
  }
  getTreeItem(): vscode.TreeItem {
    const info = this.target.info();
    const t = this.item(info.label, vscode.TreeItemCollapsibleState.Expanded);
    const stale = info.stale ? `stale since ${new Date(info.stale.since).toLocaleTimeString()}: ` : '';
    t.description = `${stale}${info.state}`;
    t.tooltip = [info.label, info.state, info.stale ? `Showing the snapshot of ${new Date(info.stale.since).toLocaleString()}: ${info.stale.reason}` : '', ...(info.warnings ?? [])].filter(Boolean).join('\n');
    t.contextValue = `${Node.target}+${info.kind}${info.stale ? '+stale' : ''}`;
    const icon = info.kind === 'simulator' ? 'beaker' : info.kind === 'local' ? 'vm' : 'remote';
    t.iconPath = new vscode.ThemeIcon(info.stale ? 'debug-disconnect' : icon, info.stale ? new vscode.ThemeColor('charts.yellow') : undefined);
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    // What the user should act on (no SQLiteOS here, no root) comes first, whole in the tooltip.
    const warnings = (this.target.info().warnings ?? []).map((w, i) => new MessageNode(`target:warning:${i}`, this, w, 'warning'));
    return [...warnings, new ProcessesNode(this, this.target), new DetailsNode(this, this.target)];
  }
}

/** Profile, lock policy and the rest, folded away so the processes stay in sight. */
class DetailsNode extends TreeNode {
  constructor(
    parent: TreeNode,
    private readonly target: Target,
  ) {
    super('target:details', parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item('details', vscode.TreeItemCollapsibleState.Collapsed);
    const d = this.target.info().details;
    t.description = Object.entries(d)
      .filter(([k]) => k === 'ops' || k === 'anomalies')
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
    t.iconPath = new vscode.ThemeIcon('info');
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    return Object.entries(this.target.info().details).map(([k, v]) => new DetailNode(this, k, v));
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

/** Processes listed before the rest is summarised; blocked ones come first. */
export const PROCESS_LIMIT = 200;

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
    const all = await this.target.processes();
    const order = { blocked: 0, runnable: 1, exited: 2 };
    const shown = all.length > PROCESS_LIMIT ? [...all].sort((a, b) => order[a.state] - order[b.state] || a.pid - b.pid) : all;
    const nodes: TreeNode[] = shown.slice(0, PROCESS_LIMIT).map((p) => new ProcessNode(this, p));
    if (all.length > PROCESS_LIMIT) nodes.push(new MoreNode('target:processes:more', this, `${all.length - PROCESS_LIMIT} more processes`, 'see the pid_store table'));
    return nodes;
  }
}

const PROC_ICON: Record<Process['state'], string> = { runnable: 'play', blocked: 'debug-pause', exited: 'circle-slash' };

class ProcessNode extends TreeNode {
  constructor(
    parent: TreeNode,
    private readonly p: Process,
  ) {
    super(`process:${p.pid}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const p = this.p;
    const t = this.item(`P${p.pid}`);
    // State first and short, so it survives a narrow sidebar; the whole story is in the tooltip.
    const state = `${p.state}${p.waitingOn ? ` on ${queueName(p.waitingOn)}` : ''}`;
    t.description = state;
    const who = `P${p.pid}: handler P${p.handler}${p.parent === null ? '' : `, parent P${p.parent}`}`;
    t.tooltip = [who, state, p.activity ? `in ${p.activity}` : ''].filter(Boolean).join('\n');
    t.contextValue = `sqliteos:process+${p.state}`;
    t.iconPath = new vscode.ThemeIcon(PROC_ICON[p.state]);
    return t;
  }
}
