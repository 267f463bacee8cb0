/* Activation: the extension starts fast and lazily, and contributes what package.json says. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
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

  it('runs from what is installed: with a .vsix, the package alone (helper in, sources out)', function () {
    const dir = vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath;
    const has = (p: string) => fs.existsSync(path.join(dir, p));
    note(`    extension at ${dir}${process.env.SQLITEOS_VSIX ? ` (installed from ${path.basename(process.env.SQLITEOS_VSIX)})` : ' (the development folder)'}`);
    if (!process.env.SQLITEOS_VSIX) return this.skip();
    assert.ok(has('dist/helpers/sqliteos-inspect-x86_64') && has('dist/helpers/sqliteos-run-x86_64') && has('dist/sql-wasm.wasm') && has('examples/08-pending-writer.sqlos'));
    assert.ok(!has('extension/extension.ts') && !has('test') && !has('node_modules') && !has('dist/extension.js.map'), `${dir} holds more than the package`);
  });
});
