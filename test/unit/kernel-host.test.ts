/*
 * KernelHost on this machine (LocalShell, a real /bin/sh) with a stand-in helper: a shell script that
 * answers as sqliteos-inspect does, from the captured kernel output. It checks what the host layer
 * adds: the helper placed once in its per-hash cache, a large snapshot fetched compressed with the
 * helper's own failure still reported, and 549's refusals in words. Needs root (the probe asks for it).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { HostError, KernelHost, QueryRefused } from '../../extension/machines/kernel-host';
import { LocalShell } from '../../extension/machines/sources';
import { ROOT } from './helpers';
import { skipUnlessRunnable } from '../skip';

const skip = skipUnlessRunnable('kernel host over a shell', process.getuid?.() === 0 ? false : 'the probe needs root (or passwordless sudo)');

describe('kernel host over a shell', { skip }, () => {
  let dir: string;
  const saved = process.env.XDG_CACHE_HOME;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-host-'));
    process.env.XDG_CACHE_HOME = dir;
    // A big snapshot: the captured one with 8,000 more pid_store rows (past the 64 KiB compression threshold).
    const j = JSON.parse(fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'kernel', 'companion-demo.json'), 'utf8'));
    for (let i = 0; i < 8000; i++) j.tables.pid_store.rows.push([1000 + i, 1000 + i]);
    j.tables.pid_store.count = j.tables.pid_store.rows.length;
    fs.writeFileSync(path.join(dir, 'snapshot.json'), JSON.stringify(j));
  });
  after(() => {
    if (saved === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const helper = (calls: string) => ({
    data: () =>
      Buffer.from(`#!/bin/sh
echo "$*" >> ${calls}
case "$1" in
  --hello) echo '{"format":1,"hello":true}' ;;
  --query) case "$2" in SELECT*) echo '{"format":1,"query":{"rows":[{"n":9007199254740993}]}}' ;; *) echo "sqliteos-inspect: syscall 549 ($2): Operation not permitted" >&2; exit 1 ;; esac ;;
  *) if [ -e ${dir}/fail ]; then echo "sqliteos-inspect: /sys/kernel/debug/sqliteos/locks: Permission denied" >&2; exit 1; fi; cat ${dir}/snapshot.json ;;
esac
`),
  });

  it('places the helper once, fetches a large snapshot compressed, and still reports the helper\'s failure', async () => {
    const calls = path.join(dir, 'calls');
    const h = new KernelHost(new LocalShell(), helper(calls));
    const facts = await h.probe();
    assert.deepEqual([facts.kernel, facts.privilege, facts.problem], ['companion', 'root', undefined]);
    const placed = fs.readdirSync(path.join(dir, 'sqliteos-companion'));
    assert.equal(placed.length, 1, 'one per-hash directory');
    await new KernelHost(new LocalShell(), helper(calls)).probe();
    assert.deepEqual(fs.readdirSync(path.join(dir, 'sqliteos-companion')), placed, 'the same helper is not placed again');
    // The probe read the first snapshot (to tell the kernel's kind): plain, and large.
    assert.equal(h.timing.compressed, false);
    assert.ok(h.timing.bytes > 64 * 1024);
    const first = await new KernelHost(new LocalShell(), helper(calls)).snapshot();
    const second = await h.snapshot();
    assert.equal(h.timing.compressed, true, 'a large snapshot comes compressed the next time');
    assert.equal(second.tables.pid_store.rows.length, first.tables.pid_store.rows.length);
    fs.writeFileSync(path.join(dir, 'fail'), '');
    await assert.rejects(h.snapshot(), (e: Error) => e instanceof HostError && /this machine: sqliteos-inspect: \/sys\/kernel\/debug\/sqliteos\/locks: Permission denied$/.test(e.message));
    fs.rmSync(path.join(dir, 'fail'));
    assert.deepEqual(await h.query('SELECT 1'), { columns: ['n'], rows: [[9007199254740993n]] });
    await assert.rejects(h.query('DELETE FROM pid_store'), (e: Error) => e instanceof QueryRefused && /syscall 549 runs only read-only statements/.test(e.message));
  });
});
