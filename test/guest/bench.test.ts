/*
 * Run Pipe Benchmarks on the companion kernel in the QEMU guest, over SSH: our programs uploaded and run
 * on SQL pipes and stock pipes in the same run (the guest is emulated, and says so), the results read
 * back through the CSV export; and Cancel in the middle of a run leaves no benchmark process in the guest.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { ratios, recordsFromCsv, recordsToCsv } from '../../extension/core/bench/pipes';
import { runPipeBench } from '../../extension/machines/pipe-bench';
import { Cancelled } from '../../extension/machines/session-run';
import type { Connection } from '../../extension/machines/ssh/connection';
import { ROOT, guest, startGuestConnected } from './util';

const programs = () => fs.readFileSync(path.join(ROOT, 'dist', 'helpers', 'pipebench-x86_64'));

describe('pipe benchmarks on the QEMU guest', () => {
  let conn: Connection;
  before(async () => {
    ({ conn } = await startGuestConnected());
  });
  after(() => {
    conn?.close();
    guest('stop');
  });

  it('measures SQL and stock pipes in one run, marks the emulated CPU, and exports what it measured', { timeout: 300000 }, async () => {
    const steps: string[] = [];
    const rec = await runPipeBench(conn, programs(), { chunks: [16384, 65536], ahead: 0, holders: 0, runs: 3, lmbench: true }, { host: 'guest', kind: 'ssh' }, (e) => {
      if (e.kind === 'step') steps.push(e.label);
    });
    assert.deepEqual(steps, ['bandwidth, stock pipe, 16 KiB', 'bandwidth, stock pipe, 64 KiB', 'latency, stock pipe', 'bandwidth, SQL pipe, 16 KiB', 'bandwidth, SQL pipe, 64 KiB', 'latency, SQL pipe']);
    assert.equal(rec.emulated, true, rec.cpu);
    assert.match(rec.release, /^6\.1\./);
    // The guest has no lmbench and no apt-get: a note that says so (not a problem of the run), no install offered.
    assert.deepEqual(rec.problems, []);
    assert.deepEqual(rec.notes, ['lmbench not installed on ' + conn.label + ': its rows are left out (no apt-get with root there: install it by hand to compare with it)']);
    assert.equal(rec.lmbenchInstallable, false);
    const r = ratios(rec.series);
    assert.deepEqual(r.map((x) => `${x.bench} ${x.chunk}`), ['bw 16384', 'bw 65536', 'lat 1']);
    for (const x of r) assert.ok(x.bench === 'bw' ? x.ratio > 0 && x.ratio < 1 : x.ratio > 1, `${x.bench} ${x.chunk}: SQL ${x.sql} stock ${x.stock}`);
    assert.ok(rec.raw.some((l) => l.startsWith('{"bench":"bw","pipe":"sql"')), 'the programs\' own lines are kept');
    const back = recordsFromCsv(recordsToCsv([rec]))[0];
    assert.deepEqual(back.series.map((s) => s.values), rec.series.map((s) => s.values));
  });

  it('cancel in the middle of a run leaves no benchmark process in the guest', { timeout: 120000 }, async () => {
    const abort = new AbortController();
    const p = runPipeBench(conn, programs(), { chunks: [4096], ahead: 0, holders: 200, runs: 11, lmbench: false }, { host: 'guest', kind: 'ssh' }, (e) => {
      // The holders' run: 200 processes holding pipes, then 15 s of settling; cancel in the middle of it.
      if (e.kind === 'step' && e.label.includes('200 processes')) setTimeout(() => abort.abort(), 3000);
    }, abort.signal);
    await assert.rejects(p, (e: unknown) => e instanceof Cancelled && e.leftBehind.length === 0);
    // From /proc: the guest's busybox has no pgrep (a `pgrep || true` here could never fail). Zombies aside.
    const left = await conn.exec(`cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 ~ /sqlpipe/ && $3 != "Z" { print $1, $2 }'`);
    assert.equal(left.stdout.toString().trim(), '', 'no bw_sqlpipe / lat_sqlpipe or holder left');
    const rows = await conn.exec('/bin/true');
    assert.equal(rows.code, 0, 'the guest still answers');
  });
});
