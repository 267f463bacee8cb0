/* Target view nodes: the active target, its details, and its processes. */
import * as vscode from 'vscode';
import { Cmd, Defaults, Node, Setting } from '../../ids';
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
    // "simulator (companion, sqliteos)": the name as the label, the state next, the parenthesis last, so a
    // narrow sidebar cuts the least useful words.
    const [, name, variant] = /^(.*?)(?: \((.*)\))?$/.exec(info.label)!;
    const t = this.item(name, vscode.TreeItemCollapsibleState.Expanded);
    const stale = info.stale ? `stale since ${new Date(info.stale.since).toLocaleTimeString()}: ` : '';
    t.description = `${stale}${info.state}${variant ? ` · ${variant}` : ''}`;
    t.tooltip = [info.label, t.description, info.stale ? `Showing the snapshot of ${new Date(info.stale.since).toLocaleString()}: ${info.stale.reason}` : '', ...(info.warnings ?? [])].filter(Boolean).join('\n');
    t.contextValue = `${Node.target}+${info.kind}${info.stale ? '+stale' : ''}`;
    const icon = info.kind === 'simulator' ? 'beaker' : info.kind === 'local' ? 'vm' : 'remote';
    t.iconPath = new vscode.ThemeIcon(info.stale ? 'debug-disconnect' : icon, info.stale ? new vscode.ThemeColor('charts.yellow') : undefined);
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    // What the user should act on (no SQLiteOS here, no root) comes first, whole in the tooltip.
    const warnings = (this.target.info().warnings ?? []).map((w, i) => new MessageNode(`target:warning:${i}`, this, w, 'warning'));
    const anomalies = this.target.info().anomalies ?? [];
    const listed = anomalies.length ? [new AnomaliesNode(this, this.target)] : [];
    return [...warnings, ...listed, new ProcessesNode(this, this.target), new DetailsNode(this, this.target)];
  }
}

/** What went wrong in the run, each at its line; a click goes there. */
class AnomaliesNode extends TreeNode {
  constructor(
    parent: TreeNode,
    private readonly target: Target,
  ) {
    super('target:anomalies', parent);
  }
  getTreeItem(): vscode.TreeItem {
    const n = this.target.info().anomalies?.length ?? 0;
    const t = this.item('anomalies', vscode.TreeItemCollapsibleState.Expanded);
    t.description = String(n);
    t.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('list.warningForeground'));
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    const info = this.target.info();
    return (info.anomalies ?? []).map((a, i) => new AnomalyNode(this, i, a, info.source));
  }
}

class AnomalyNode extends TreeNode {
  constructor(
    parent: TreeNode,
    index: number,
    private readonly a: { kind: string; line: number; message: string },
    private readonly source: string | undefined,
  ) {
    super(`target:anomaly:${index}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(`line ${this.a.line}: ${this.a.kind}`);
    t.description = this.a.message;
    t.tooltip = `line ${this.a.line}: ${this.a.kind}\n${this.a.message}`;
    t.contextValue = `${Node.anomaly}+${this.a.kind}`;
    t.iconPath = new vscode.ThemeIcon('error');
    if (this.source) {
      const at = new vscode.Range(this.a.line - 1, 0, this.a.line - 1, 0);
      t.command = { command: 'vscode.open', title: 'Go to the line', arguments: [vscode.Uri.file(this.source), { selection: at }] };
    }
    return t;
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
    const plural = (n: string, one: string, many: string) => `${n} ${n === '1' ? one : many}`;
    t.description = [d.ops !== undefined ? plural(d.ops, 'op', 'ops') : '', d.anomalies !== undefined ? plural(d.anomalies, 'anomaly', 'anomalies') : ''].filter(Boolean).join(', ');
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
    // Under details: a key such as 'anomalies' must not take the id of the anomalies node above.
    super(`target:detail:${key}`, parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item(this.key);
    t.description = this.value;
    t.contextValue = Node.detail;
    if (this.key === 'profile' || this.key === 'locks') {
      t.command = { command: this.key === 'profile' ? Cmd.setProfile : Cmd.setLocks, title: `Change ${this.key}` };
      t.tooltip = `${this.key}: ${this.value} (click to change the ${this.key})`;
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
    const every = await this.target.processes();
    // The companion's own (its SSH session, the helper reading the kernel) go in a folded group of their own.
    const own = every.filter((p) => p.own);
    const all = own.length ? every.filter((p) => !p.own) : every;
    const order = { blocked: 0, runnable: 1, exited: 2 };
    const shown = all.length > PROCESS_LIMIT ? [...all].sort((a, b) => order[a.state] - order[b.state] || a.pid - b.pid) : all;
    const nodes: TreeNode[] = shown.slice(0, PROCESS_LIMIT).map((p) => new ProcessNode(this, p));
    if (all.length > PROCESS_LIMIT) nodes.push(new MoreNode('target:processes:more', this, `${all.length - PROCESS_LIMIT} more processes`, 'see the pid_store table'));
    const hide = vscode.workspace.getConfiguration(Setting.section).get<boolean>(Setting.hideOwnProcesses, Defaults[Setting.hideOwnProcesses]);
    if (own.length && !hide) nodes.push(new OwnProcessesNode(this, own));
    return nodes;
  }
}

/** The companion's own processes on a real kernel, folded apart from the user's (sqliteos.views.hideOwnProcesses leaves them out). */
class OwnProcessesNode extends TreeNode {
  constructor(
    parent: TreeNode,
    private readonly own: Process[],
  ) {
    super('target:processes:own', parent);
  }
  getTreeItem(): vscode.TreeItem {
    const t = this.item("companion's own", vscode.TreeItemCollapsibleState.Collapsed);
    t.description = `${this.own.length}: ${this.own.map((p) => p.comm ?? `P${p.pid}`).join(', ')}`;
    t.tooltip = `The SSH session and the helper this extension runs to read the kernel: ${this.own.length} process(es), in pid_store like any other.\nSetting sqliteos.views.hideOwnProcesses leaves them out.`;
    t.iconPath = new vscode.ThemeIcon('plug');
    return t;
  }
  override async getChildren(): Promise<TreeNode[]> {
    return this.own.map((p) => new ProcessNode(this, p));
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
    // The command name next to the pid, where a real kernel's /proc gave one.
    const t = this.item(p.comm === undefined ? `P${p.pid}` : `P${p.pid} ${p.comm}`);
    // State first and short, so it survives a narrow sidebar; the whole story is in the tooltip.
    const state = `${p.state}${p.waitingOn ? ` on ${queueName(p.waitingOn)}` : ''}`;
    t.description = state;
    const who = `P${p.pid}${p.comm === undefined ? '' : ` (${p.comm})`}: handler P${p.handler}${p.parent === null ? '' : `, parent P${p.parent}`}${p.own ? "; one of the companion's own" : ''}`;
    t.tooltip = [who, state, p.activity ? `in ${p.activity}` : ''].filter(Boolean).join('\n');
    t.contextValue = `sqliteos:process+${p.state}`;
    t.iconPath = new vscode.ThemeIcon(PROC_ICON[p.state]);
    return t;
  }
}
