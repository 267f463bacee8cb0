/*
 * kernel-scripts/published/reconstruct.py refuses what it cannot reconstruct faithfully, naming the file
 * and the reason, and writes nothing: a tree that is not the published SQLiteOS, an amalgamation of
 * another SQLite, a tree whose include/linux/sqlite3.h is not the stock 3.45.1 header with the known API
 * edits (the line named). The reconstruction itself is built and booted by npm run test:kernel:trees.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'kernel-scripts', 'published', 'reconstruct.py');

const STOCK = [
  '#define SQLITE_VERSION        "3.45.1"',
  '#define SQLITE_IOCAP_BATCH_ATOMIC           0x00004000',
  '',
  '  int (*xCurrentTime)(sqlite3_vfs*, double*);',
  '#define SQLITE_CONFIG_MEMDB_MAXSIZE       29  /* sqlite3_int64 */',
  '',
  '*************************************************************************/',
  '',
  '#ifdef __cplusplus',
  '}  /* end of the \'extern "C"\' block */',
  '',
].join('\n');

function reconstruct(amalgamation: string, tree: string) {
  return spawnSync('python3', [SCRIPT, amalgamation, tree], { encoding: 'utf8' });
}

describe('the published sqlite3.c reconstruction refuses what does not match', () => {
  let dir: string;
  let amalgamation: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-reconstruct-'));
    // A stand-in amalgamation: only its header is read before a refusal.
    amalgamation = path.join(dir, 'sqlite');
    fs.mkdirSync(amalgamation);
    // Only its header is read before a refusal: the lines the known API edits are made at.
    fs.writeFileSync(path.join(amalgamation, 'sqlite3.h'), STOCK);
    fs.writeFileSync(path.join(amalgamation, 'sqlite3.c'), '');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function tree(name: string, header?: string): string {
    const t = path.join(dir, name);
    fs.mkdirSync(path.join(t, 'ksqlite'), { recursive: true });
    fs.mkdirSync(path.join(t, 'include', 'linux'), { recursive: true });
    for (const f of ['ksqlite.c', 'sqlite_defs.h', 'Makefile']) fs.writeFileSync(path.join(t, 'ksqlite', f), '');
    if (header !== undefined) fs.writeFileSync(path.join(t, 'include', 'linux', 'sqlite3.h'), header);
    return t;
  }

  it('refuses a tree without the published files, naming the missing one', () => {
    const t = tree('no-header');
    const r = reconstruct(amalgamation, t);
    assert.equal(r.status, 1);
    assert.match(r.stderr, new RegExp(`${path.join(t, 'include/linux/sqlite3.h')}: missing: .* is not the published SQLiteOS tree`));
    assert.equal(fs.existsSync(path.join(t, 'ksqlite', 'sqlite3.c')), false);
  });

  it('refuses a header that is not stock 3.45.1 with the known edits, at the first line that differs', () => {
    const t = tree('other-header', STOCK.replace('0x00004000\n', '0x00004000\n#define SQLITE_OS_UNIX 1\n'));
    const r = reconstruct(amalgamation, t);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /include\/linux\/sqlite3\.h:3: differs from SQLite 3\.45\.1's sqlite3\.h with the known API edits \(expected '#define SQLITE_OS_UNIX 0'\)/);
    assert.equal(fs.existsSync(path.join(t, 'ksqlite', 'sqlite3.c')), false);
  });

  it('refuses an amalgamation of another SQLite', () => {
    const other = path.join(dir, 'sqlite-other');
    fs.mkdirSync(other);
    fs.writeFileSync(path.join(other, 'sqlite3.h'), '#define SQLITE_VERSION        "3.53.2"\n');
    const r = reconstruct(other, tree('any', ''));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /sqlite3\.h: not SQLite 3\.45\.1 \(fetch\.sh --version 3\.45\.1\)/);
  });
});
