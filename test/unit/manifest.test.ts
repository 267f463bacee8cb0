/* package.json against extension/ids.ts: the settings' defaults are the ones the code falls back on. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Cmd, Defaults, Setting } from '../../extension/ids';
import { ROOT } from './helpers';

describe('package.json', () => {
  it('declares each setting default the code uses', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties as Record<string, { default: unknown }>;
    for (const [key, value] of Object.entries(Defaults)) assert.equal(props[`${Setting.section}.${key}`]?.default, value, key);
  });
});

describe('keybindings', () => {
  it('step from a scenario\'s editor (F10, F11 always reach the command, which says why when nothing is loaded; Ctrl+F5 with one loaded), never while debugging', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const keys = Object.fromEntries((pkg.contributes.keybindings as { command: string; key: string; when: string }[]).map((k) => [k.command, k]));
    assert.deepEqual([keys[Cmd.stepStatement].key, keys[Cmd.stepMicro].key, keys[Cmd.runToEnd].key], ['f10', 'f11', 'ctrl+f5']);
    for (const c of [Cmd.stepStatement, Cmd.stepMicro]) assert.equal(keys[c].when, '!inDebugMode && editorLangId == sqlos');
    assert.equal(keys[Cmd.runToEnd].when, 'sqliteos.scenarioLoaded && !inDebugMode && editorLangId == sqlos');
  });
});
