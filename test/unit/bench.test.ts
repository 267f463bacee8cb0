/* The benchmark maths, and the benchmark itself run small: it prints every figure it promises. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mbPerSec, median, ratio, within } from '../../extension/core/bench/stats';
import { runBench } from '../../extension/core/bench/simbench';

describe('bench maths', () => {
  it('takes medians, MB/s in lmbench units, ratios and tolerances', () => {
    assert.equal(median([5, 1, 3]), 3);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.throws(() => median([]));
    assert.equal(mbPerSec(1024 * 1024, 1000), 1);
    assert.equal(mbPerSec(64 * 1024 * 1024, 500), 128);
    assert.equal(ratio(1, 4), 0.25);
    assert.ok(Number.isNaN(ratio(1, 0)));
    assert.ok(within(0.91, 1, 0.1));
    assert.ok(!within(0.89, 1, 0.1));
  });
});

describe('simulator benchmark', () => {
  it('prints a row per configuration for both profiles, and JSON with every figure', async () => {
    let text = '';
    await runBench({ quick: true, json: false, runs: 1, chunks: 2, crowd: 20, out: (s) => (text += s) });
    for (const row of ['writer 1 chunk ahead', 'writer 8 chunks ahead', '20 processes + 20 pipes']) {
      assert.match(text, new RegExp(`${row.replace('+', '\\+')}\\s+[0-9.]+\\s+[0-9.]+\\s+[0-9.]+\\s+[0-9.]+\\s+[0-9.]+`), row);
    }
    assert.match(text, /writer 64 chunks ahead\s+[0-9.]+\s+cannot\s+—\s+[0-9.]+\s+[0-9.]+\n/);
    assert.match(text, /upstream cannot run "writer 64 chunks ahead": SQLITE_NOMEM \(-7\)/);
    assert.match(text, /snapshot of every table with 20 processes and 20 pipes: companion [0-9.]+ ms/);
    assert.match(text, /two pairs\n\s+reduced\s+\d+ states\s+\d+ transitions\s+[0-9.]+ s  exhausted; \d+ choices left out by persistent sets, \d+ asleep\n\s+no pers\.\s+\d+ states\s+\d+ transitions\s+[0-9.]+ s  exhausted; the same without persistent sets: [1-9]\d* choices asleep\n\s+full\s+\d+ states\s+\d+ transitions\s+[0-9.]+ s  exhausted\n\s+[0-9.]+x fewer states/);
    let json = '';
    await runBench({ quick: true, json: true, runs: 1, chunks: 2, crowd: 20, out: (s) => (json += s) });
    const r = JSON.parse(json);
    assert.equal(r.rows.length, 4);
    // The published kernel's store holds about 2 MiB of backlog (measured on it): 64 chunks ahead cannot run.
    for (const row of r.rows) {
      const cannot = row.config === 'writer 64 chunks ahead' ? ['upstreamMBs'] : [];
      for (const k of ['baselineMBs', 'upstreamMBs', 'companionMBs']) {
        if (cannot.includes(k)) assert.equal(row[k], null, `${row.config} ${k}`);
        else assert.ok(row[k] > 0, `${row.config} ${k}`);
      }
    }
    assert.match(r.rows[2].cannot.upstream, /SQLITE_NOMEM \(-7\)/);
    for (const k of ['companionAhead64', 'companionCrowd', 'upstreamCrowd']) assert.ok(r.relative[k] > 0, k);
    assert.equal(r.relative.upstreamAhead64, null, 'no figure where the configuration cannot run');
    assert.ok(r.snapshotMs.companion > 0);
    assert.ok(r.reduction['two pairs'].stateRatio >= 5 && !r.reduction['two pairs'].cut, JSON.stringify(r.reduction));
  });
});
