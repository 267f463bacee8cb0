/* package.json against extension/ids.ts: the settings' defaults are the ones the code falls back on. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { Defaults, Setting } from '../../extension/ids';
import { ROOT } from './helpers';

describe('package.json', () => {
  it('declares each setting default the code uses', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
    const props = pkg.contributes.configuration.properties as Record<string, { default: unknown }>;
    for (const [key, value] of Object.entries(Defaults)) assert.equal(props[`${Setting.section}.${key}`]?.default, value, key);
  });
});
