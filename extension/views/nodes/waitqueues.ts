/* Wait Queues view nodes: each queue with the pids asleep on it, in wake-up order. */
import * as vscode from 'vscode';
import { Node } from '../../ids';
import { queueKey, queueLabel } from '../../core/model/model';
import type { WaitQueue } from '../../targets/target';
import { TreeNode } from './node';

export class QueueNode extends TreeNode {
  constructor(readonly q: WaitQueue) {
    super(`wq:${queueKey(q.id)}`, undefined);
  }
  getTreeItem(): vscode.TreeItem {
    const n = this.q.sleepers.length;
    const { owner, name } = queueLabel(this.q.id);
    const t = this.item(`${owner} · ${name}`, n ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    t.description = n ? `${n} sleeping: ${this.q.sleepers.map((p) => `P${p}`).join(', ')}` : 'empty';
    t.contextValue = n ? Node.queue : Node.queueEmpty;
    t.iconPath = new vscode.ThemeIcon(n ? 'debug-pause' : 'circle-outline', n ? new vscode.ThemeColor('charts.yellow') : undefined);
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    return this.q.sleepers.map((pid, i) => new SleeperNode(this, pid, i));
  }
}

class SleeperNode extends TreeNode {
  constructor(
    parent: QueueNode,
    private readonly pid: number,
    private readonly index: number,
  ) {
    super(`${parent.id}:P${pid}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(`P${this.pid}`);
    t.description = this.index === 0 ? 'woken first' : `#${this.index + 1}`;
    t.contextValue = Node.sleeper;
    t.iconPath = new vscode.ThemeIcon('person');
    return t;
  }
}
