/*
 * One TreeDataProvider for every view: it delegates to the nodes, turns a failing getChildren into an
 * error message node, and batches refreshes (a burst of simulator events becomes one repaint per node).
 */
import * as vscode from 'vscode';
import { NotShown } from '../targets/target';
import { MessageNode, TreeNode } from './nodes/node';

export class NodeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private pending = new Set<TreeNode | undefined>();
  private timer: NodeJS.Timeout | undefined;
  /** How many refreshes were asked for and how many were delivered (tests and the bench read these). */
  readonly stats = { requested: 0, fired: 0 };

  constructor(
    readonly viewId: string,
    private readonly roots: () => Promise<TreeNode[]>,
    private readonly delayMs: () => number,
  ) {}

  /** No refresh is waiting to go out (tests wait for this instead of sleeping). */
  get settled(): boolean {
    return this.timer === undefined;
  }

  /** Refreshes `node`'s subtree, or the whole view; batched over the configured delay. */
  refresh(node?: TreeNode): void {
    this.stats.requested++;
    this.pending.add(node);
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.delayMs());
  }

  private flush(): void {
    this.timer = undefined;
    const all = this.pending.has(undefined);
    const nodes = all ? [undefined] : [...this.pending];
    this.pending.clear();
    for (const n of nodes) {
      this.stats.fired++;
      this.emitter.fire(n);
    }
  }

  /** Every item gets a tooltip: the node's own, else its whole label and description (cut in a narrow view). */
  async getTreeItem(n: TreeNode): Promise<vscode.TreeItem> {
    const t = await n.getTreeItem();
    if (!t.tooltip) {
      const label = typeof t.label === 'string' ? t.label : (t.label?.label ?? '');
      t.tooltip = t.description ? `${label} — ${String(t.description)}` : label;
    }
    return t;
  }

  async getChildren(n?: TreeNode): Promise<TreeNode[]> {
    try {
      return n ? await n.getChildren() : await this.roots();
    } catch (e) {
      // What a kernel does not show at all is said plainly; a failure to read is an error.
      if (e instanceof NotShown) return [new MessageNode(`${n?.id ?? this.viewId}:not-shown`, n, e.message)];
      return [new MessageNode(`${n?.id ?? this.viewId}:error`, n, `Cannot read: ${(e as Error).message}`, 'error')];
    }
  }

  getParent(n: TreeNode): TreeNode | undefined {
    return n.parent;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.emitter.dispose();
  }
}
