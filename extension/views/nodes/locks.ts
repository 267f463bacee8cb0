/* Locks view nodes: the VFS store's lock state, the global write mutex, and every open connection. */
import * as vscode from 'vscode';
import { LEVEL_HELP } from '../../core/help';
import { Node } from '../../ids';
import type { Connection, Locks } from '../../targets/target';
import { MessageNode, TreeNode } from './node';

/** One icon per lock level, so a change of level shows at a glance. */
const LEVEL_ICON: Record<string, string> = { NONE: 'circle-outline', SHARED: 'eye', RESERVED: 'edit', PENDING: 'watch', EXCLUSIVE: 'lock' };

export function levelIcon(level: string): vscode.ThemeIcon {
  const color = level === 'PENDING' ? 'charts.yellow' : level === 'EXCLUSIVE' ? 'charts.red' : undefined;
  return new vscode.ThemeIcon(LEVEL_ICON[level] ?? 'question', color ? new vscode.ThemeColor(color) : undefined);
}

export class StoreNode extends TreeNode {
  constructor(private readonly l: Locks) {
    super('locks:store', undefined);
  }
  getTreeItem(): vscode.TreeItem {
    // What matters first (the level and the readers), so a narrow sidebar cuts only the names.
    const n = this.l.numReaders;
    const t = this.item(`${this.l.currentMaxLock} · ${n} reader${n === 1 ? '' : 's'}`);
    t.description = 'VFS store current_max_lock';
    t.tooltip = `VFS store current_max_lock ${this.l.currentMaxLock}, num_readers ${n}\n\n${LEVEL_HELP[this.l.currentMaxLock]}`;
    t.contextValue = `${Node.lockSummary}+${this.l.currentMaxLock.toLowerCase()}`;
    t.iconPath = levelIcon(this.l.currentMaxLock);
    return t;
  }
}

export class MutexNode extends TreeNode {
  constructor(private readonly l: Locks) {
    super('locks:mutex', undefined);
  }
  getTreeItem(): vscode.TreeItem {
    const owner = this.l.writeMutex.owner;
    const n = this.l.writeMutex.waiters.length;
    const t = this.item('global write mutex', n ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    t.description = owner === null ? 'free' : `held by P${owner}${n ? `, ${n} waiting` : ''}`;
    t.contextValue = `${Node.mutex}+${owner === null ? 'free' : 'held'}`;
    t.iconPath = new vscode.ThemeIcon(owner === null ? 'unlock' : 'lock');
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    return this.l.writeMutex.waiters.map((pid, i) => new MessageNode(`locks:mutex:${pid}`, this, `${i + 1}. P${pid} waiting`));
  }
}

export class ConnectionsNode extends TreeNode {
  constructor(private readonly conns: Connection[]) {
    super('locks:connections', undefined);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item('connections', vscode.TreeItemCollapsibleState.Expanded);
    t.description = `${this.conns.length} open`;
    t.iconPath = new vscode.ThemeIcon('plug');
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    if (this.conns.length === 0) return [new MessageNode('locks:connections:none', this, 'no open connection')];
    return this.conns.map((c) => new ConnectionNode(this, c));
  }
}

class ConnectionNode extends TreeNode {
  constructor(
    parent: TreeNode,
    private readonly c: Connection,
  ) {
    super(`locks:conn:${c.id}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(this.c.owner ? `P${this.c.owner}: ${this.c.level}` : `(no owner): ${this.c.level}`);
    t.description = `connection ${this.c.id} (${this.c.purpose})`;
    t.contextValue = `${Node.connection}+${this.c.level.toLowerCase()}`;
    t.tooltip = `connection ${this.c.id} (${this.c.purpose})${this.c.owner ? ` of P${this.c.owner}` : ''}\n\n${LEVEL_HELP[this.c.level]}`;
    t.iconPath = levelIcon(this.c.level);
    return t;
  }
}
