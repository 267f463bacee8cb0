/* Helpers for in-host tests: the extension's API, the examples folder, waiting for views to settle. */
import * as path from 'path';
import * as vscode from 'vscode';
import type { Api } from '../../extension/extension';
import type { TreeNode } from '../../extension/views/nodes/node';
import type { NodeProvider } from '../../extension/views/provider';

export const EXTENSION_ID = 'sqliteos.sqliteos-companion';

export async function api(): Promise<Api> {
  const ext = vscode.extensions.getExtension<Api>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this host`);
  return ext.activate();
}

export function example(name: string): vscode.Uri {
  const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
  return vscode.Uri.file(path.join(ext.extensionPath, 'examples', name));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `cond` holds (checked every 20 ms), failing after 10 s with `what`. */
export async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 10000;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await sleep(20);
  }
}

/** Until every view has sent out the refreshes it batched. */
export function settled(views: { target: NodeProvider; tables: NodeProvider; locks: NodeProvider; waitQueues: NodeProvider }): Promise<void> {
  return until(() => [views.target, views.tables, views.locks, views.waitQueues].every((p) => p.settled), 'the views to repaint');
}

/** The labelled items of a view's tree, depth-first, expanding `depth` levels. */
export async function labels(p: NodeProvider, depth = 1, node?: TreeNode, indent = ''): Promise<string[]> {
  const out: string[] = [];
  for (const child of await p.getChildren(node)) {
    const item = await p.getTreeItem(child);
    const label = typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
    out.push(`${indent}${label}${item.description ? ` — ${String(item.description)}` : ''}`);
    if (depth > 1) out.push(...(await labels(p, depth - 1, child, `${indent}  `)));
  }
  return out;
}
