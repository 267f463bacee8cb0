/*
 * The four views and how target changes reach them: each change refreshes only the subtrees it touched
 * (a table's node, the locks, the wait queues, the target), batched by the provider.
 */
import * as vscode from 'vscode';
import { Defaults, Setting, View } from '../ids';
import { Session } from '../session';
import { orderQueues } from '../core/model/model';
import { Change, WaitQueue } from '../targets/target';
import { ConnectionsNode, MutexNode, StoreNode } from './nodes/locks';
import { MoreNode } from './nodes/more';
import { TreeNode } from './nodes/node';
import { TableNode } from './nodes/tables';
import { TargetNode } from './nodes/target';
import { QueueNode } from './nodes/waitqueues';
import { NodeProvider } from './provider';

/**
 * The store's queues and the write mutex always; a pipe's queues only while someone sleeps on them or
 * while there are few pipes, so ten thousand idle pipes are one line, not twenty thousand.
 */
function queueRoots(queues: WaitQueue[]): TreeNode[] {
  const pipeQueues = queues.filter((q) => q.id.kind === 'pipe');
  const idle = pipeQueues.filter((q) => q.sleepers.length === 0);
  const showIdle = pipeQueues.length <= IDLE_PIPE_QUEUES_SHOWN;
  const nodes: TreeNode[] = orderQueues(queues)
    .filter((q) => showIdle || q.id.kind !== 'pipe' || q.sleepers.length > 0)
    .map((q) => new QueueNode(q));
  if (!showIdle && idle.length > 0) nodes.push(new MoreNode('wq:idle', undefined, `${idle.length} idle pipe queues`, 'nobody sleeps on them'));
  return nodes;
}

const IDLE_PIPE_QUEUES_SHOWN = 40;

function setting<T>(key: string, fallback: T): T {
  return vscode.workspace.getConfiguration(Setting.section).get<T>(key, fallback);
}

export class Views implements vscode.Disposable {
  readonly target: NodeProvider;
  readonly tables: NodeProvider;
  readonly locks: NodeProvider;
  readonly waitQueues: NodeProvider;
  private tableNodes = new Map<string, TableNode>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly trees: vscode.TreeView<TreeNode>[] = [];

  constructor(private readonly session: Session) {
    const delay = () => setting(Setting.refreshDelay, Defaults[Setting.refreshDelay]);
    const t = () => session.target;
    this.target = new NodeProvider(View.target, async () => (t() ? [new TargetNode(t()!)] : []), delay);
    this.tables = new NodeProvider(View.tables, async () => this.tableRoots(), delay);
    this.locks = new NodeProvider(
      View.locks,
      async () => {
        const target = t();
        if (!target) return [];
        const l = await target.locks();
        return [new StoreNode(l), new MutexNode(l), new ConnectionsNode(l.connections)] as TreeNode[];
      },
      delay,
    );
    this.waitQueues = new NodeProvider(View.waitQueues, async () => queueRoots((await t()?.waitQueues()) ?? []), delay);
    for (const [id, p] of [
      [View.target, this.target],
      [View.tables, this.tables],
      [View.locks, this.locks],
      [View.waitQueues, this.waitQueues],
    ] as const) {
      const tree = vscode.window.createTreeView(id, { treeDataProvider: p, showCollapseAll: id === View.tables });
      this.trees.push(tree);
      this.disposables.push(tree, p, tree.onDidChangeVisibility(() => this.tellVisibility()));
    }
    this.disposables.push(
      session.onDidChangeTarget(() => {
        this.tableNodes.clear();
        this.refreshAll();
        this.tellVisibility();
      }),
      session.onDidChange((c) => this.apply(c)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${Setting.section}.${Setting.hideOwnProcesses}`)) this.target.refresh();
      }),
    );
  }

  private async tableRoots(): Promise<TreeNode[]> {
    const target = this.session.target;
    if (!target) return [];
    const names = await target.tableNames();
    return names.map((n) => {
      let node = this.tableNodes.get(n);
      if (!node) {
        node = new TableNode(() => this.session.target, n, () => setting(Setting.pageSize, Defaults[Setting.pageSize]));
        this.tableNodes.set(n, node);
      }
      return node;
    });
  }

  /** Routes one change to the subtrees it touched. */
  apply(c: Change): void {
    for (const name of c.tables ?? []) {
      const node = this.tableNodes.get(name);
      if (name === '*' || !node) this.tables.refresh();
      else this.tables.refresh(node);
    }
    if (c.locks) this.locks.refresh();
    if (c.waitQueues) this.waitQueues.refresh();
    if (c.processes || c.target) this.target.refresh();
  }

  /** A polling target polls only while one of the views shows. */
  private tellVisibility(): void {
    this.session.target?.setVisible?.(this.trees.some((t) => t.visible));
  }

  refreshAll(): void {
    for (const p of [this.target, this.tables, this.locks, this.waitQueues]) p.refresh();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
