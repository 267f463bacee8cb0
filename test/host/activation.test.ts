/* Activation: the extension starts fast and lazily, and contributes what package.json says. */
import * as assert from 'assert';
import * as vscode from 'vscode';
import { note } from './report';
import { Cmd } from '../../extension/ids';
import { EXTENSION_ID, api } from './util';

describe('activation', () => {
  it('activates without loading a simulator, well under 150 ms', async () => {
    const a = await api();
    note(`    activation took ${a.activationMs.toFixed(1)} ms`);
    assert.ok(a.activationMs < 150, `activation took ${a.activationMs} ms`);
    assert.strictEqual(a.session.target, undefined, 'no target (and no sql.js) until asked');
  });

  it('registers every command in ids.ts, and package.json contributes exactly those', async () => {
    const all = await vscode.commands.getCommands(true);
    const ours = Object.values(Cmd);
    for (const id of ours) assert.ok(all.includes(id), `${id} is not registered`);
    const pkg = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string }[] } };
    assert.deepStrictEqual(pkg.contributes.commands.map((c) => c.command).sort(), [...ours].sort());
  });
});
