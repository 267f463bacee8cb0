/*
 * Pipe benchmark results as the report and the CLI read them: real output of our programs and of
 * lmbench (captured here, test/fixtures/bench/), damaged output (a line cut short, a unit not known, a
 * program that died part-way), the ratios beside the paper's Table 1, CSV and JSON that read back to the
 * same numbers, the history file, and `sqliteos bench pipes --simulator` end to end.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BenchRecord, PAPER_TABLE_1, versusStock, parseBenchOutput, ratios, recordsFromCsv, recordsToCsv } from '../../extension/core/bench/pipes';
import { BenchHistory } from '../../extension/bench/history';
import { ImportError, importBenchFile } from '../../extension/core/bench/import';
import { planSteps } from '../../extension/machines/pipe-bench';
import { ROOT } from './helpers';

const fixture = (f: string) => fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'bench', f), 'utf8');

describe('benchmark output', () => {
  it("reads our programs' runs (JSON lines closed by lmbench's text line), ignoring a failed SQL run's message", () => {
    const p = parseBenchOutput(fixture('ours-host.txt'));
    assert.deepEqual(p.problems, []);
    assert.equal(p.series.length, 2);
    const bw = p.series.find((s) => s.bench === 'bw')!;
    assert.deepEqual({ program: bw.program, pipe: bw.pipe, config: bw.config, chunk: bw.chunk, unit: bw.unit, runs: bw.values.length }, { program: 'ours', pipe: 'stock', config: 'plain', chunk: 65536, unit: 'MB/s', runs: 5 });
    assert.equal(bw.values[0], 591.1808);
    assert.equal(p.series.find((s) => s.bench === 'lat')!.unit, 'us');
  });

  it("reads lmbench's own lines, and a console log where lines after 'lmbench:' are lmbench's", () => {
    const lm = fixture('lmbench-debian.txt');
    const p = parseBenchOutput(lm, 'lmbench', { chunk: 65536 });
    assert.deepEqual(p.problems, []);
    const bw = p.series.find((s) => s.bench === 'bw')!;
    assert.deepEqual([bw.program, bw.pipe, bw.values.length], ['lmbench', 'stock', 2]);
    assert.equal(p.series.find((s) => s.bench === 'lat')!.values[0], 5.3675);
    const log = `${fixture('ours-host.txt')}\nlmbench:\n${lm}`;
    const both = parseBenchOutput(log);
    assert.deepEqual(both.series.map((s) => s.program).sort(), ['lmbench', 'lmbench', 'ours', 'ours']);
  });

  it('says what it could not read, with the line: cut short, a unit not known, a run that died', () => {
    const text = [
      '{"bench":"bw","pipe":"sql","config":"plain","chunk":65536,"run":0,"value":12.5,"unit":"MB/s"}',
      '{"bench":"bw","pipe":"sql","config":"plain","chunk":65536,"run":1,"val',
      '{"bench":"lat","pipe":"sql","config":"plain","chunk":1,"run":0,"value":80,"unit":"ms"}',
      '{"bench":"bw","pipe":"stock","config":"ahead64","chunk":65536,"run":0,"value":inf,"unit":"MB/s"}',
      'lmbench:',
      'Pipe bandwidth: 12.00 GB/sec',
      'Pipe latency: abc microseconds',
    ].join('\n');
    const p = parseBenchOutput(text);
    assert.match(p.problems[0], /^line 2: a run's line is cut short/);
    assert.match(p.problems[1], /^line 3: unit 'ms' is not one this reads/);
    assert.match(p.problems[2], /^line 4: a run's line is a value that is not a number \(inf or nan/);
    assert.match(p.problems[3], /^line 6: unit 'GB\/sec' is not one this reads for bandwidth/);
    assert.equal(p.problems.length, 5, p.problems.join('\n'));
    assert.match(p.problems[4], /bw sql plain \(65536 B\): 1 runs and no closing line: the program died part-way/);
  });

  it('gives SQL / stock from medians where both were measured alike, and the paper\'s ratios as printed', () => {
    const text = [0, 1, 2].map((i) => `{"bench":"bw","pipe":"stock","config":"plain","chunk":4096,"run":${i},"value":${[1000, 1200, 900][i]},"unit":"MB/s"}`).join('\n') + '\nPipe bandwidth: 1000 MB/sec\n' + [0, 1, 2].map((i) => `{"bench":"bw","pipe":"sql","config":"plain","chunk":4096,"run":${i},"value":${[100, 150, 50][i]},"unit":"MB/s"}`).join('\n') + '\nSQL pipe bandwidth: 100 MB/sec\n' + '{"bench":"bw","pipe":"sql","config":"ahead64","chunk":4096,"run":0,"value":70,"unit":"MB/s"}\nSQL pipe bandwidth: 70 MB/sec\n';
    const r = ratios(parseBenchOutput(text).series);
    assert.equal(r.length, 1, 'ahead64 has no stock run to compare with');
    assert.deepEqual({ sql: r[0].sql, stock: r[0].stock, ratio: r[0].ratio }, { sql: 100, stock: 1000, ratio: 0.1 });
    assert.equal(PAPER_TABLE_1[0].ratio.toFixed(4), '0.0674');
    assert.equal(PAPER_TABLE_1[1].ratio.toFixed(4), '0.0312');
  });

  it('words SQL against stock the same way for bandwidth (higher is better) and latency (higher is worse)', () => {
    // SQL / stock is 0.28 for bandwidth and 3.84 for latency: both mean the SQL pipe is slower.
    assert.equal(versusStock('bw', 28, 100), '3.57× slower');
    assert.equal(versusStock('lat', 38.4, 10), '3.84× slower');
    assert.equal(versusStock('bw', 120, 100), '1.20× faster');
    assert.equal(versusStock('lat', 5, 10), '2.00× faster');
    assert.equal(versusStock('bw', PAPER_TABLE_1[0].sql, PAPER_TABLE_1[0].stock), '14.8× slower');
    assert.equal(versusStock('bw', 1, 250), '250× slower');
  });
});

function record(id: string, host: string): BenchRecord {
  const p = parseBenchOutput(fixture('ours-host.txt'));
  return { id, date: '2026-11-30T01:00:00.000Z', host, kind: 'ssh', release: '6.1.192', cpu: 'QEMU Virtual CPU version 2.5+', emulated: true, configuration: { chunks: [65536], ahead: 0, holders: 0, runs: 5 }, series: p.series, problems: [], raw: ['x'] };
}

describe('export and history', () => {
  it('CSV and JSON read back to the same numbers, awkward host names included', () => {
    const recs = [record('a1', 'root@[127.0.0.1]:2222'), record('b2', 'me, "the lab", box')];
    const back = recordsFromCsv(recordsToCsv(recs));
    assert.equal(back.length, 2);
    for (const [i, r] of back.entries()) {
      assert.equal(r.host, recs[i].host);
      assert.equal(r.emulated, true);
      assert.deepEqual(r.series.map((s) => [s.program, s.bench, s.pipe, s.config, s.chunk, s.unit, s.values]), recs[i].series.map((s) => [s.program, s.bench, s.pipe, s.config, s.chunk, s.unit, s.values]));
    }
    const json = JSON.parse(JSON.stringify({ version: 1, records: recs })) as { records: BenchRecord[] };
    assert.deepEqual(json.records, recs);
    assert.throws(() => recordsFromCsv('a,b\n1,2\n'), /not a benchmark CSV/);
  });

  it('keeps runs across instances (a reload), deletes one, and moves a damaged file aside', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-bench-'));
    const file = path.join(dir, 'h', 'bench-history.json');
    new BenchHistory(file).add(record('a1', 'x'));
    new BenchHistory(file).add(record('b2', 'y'));
    const h = new BenchHistory(file);
    assert.deepEqual(h.all().map((r) => r.id), ['b2', 'a1']);
    assert.equal(h.delete('a1'), true);
    assert.deepEqual(new BenchHistory(file).all().map((r) => r.id), ['b2']);
    fs.writeFileSync(file, '{"version": 1, "records": [');
    const warned: string[] = [];
    assert.deepEqual(new BenchHistory(file, (m) => warned.push(m)).all(), []);
    assert.match(warned[0], /kept as .*damaged/);
    assert.ok(fs.readdirSync(path.dirname(file)).some((f) => f.includes('damaged')), 'the damaged file is still there');
  });
});

describe('the plan', () => {
  it('measures stock and SQL pipes alike for each chunk and configuration, then lmbench where installed', () => {
    const steps = planSteps({ chunks: [4096, 65536], ahead: 64, holders: 10, runs: 3, lmbench: true }, '/c', '/lm');
    assert.deepEqual(steps.map((s) => s.argv.join(' ')), [
      '/c/bw_sqlpipe --stock --chunk 4096 --runs 3',
      '/c/bw_sqlpipe --stock --chunk 65536 --runs 3',
      '/c/lat_sqlpipe --stock --runs 3',
      '/c/bw_sqlpipe --stock --chunk 4096 --runs 3 --ahead 64',
      '/c/bw_sqlpipe --stock --chunk 4096 --runs 3 --procs 10',
      '/c/lat_sqlpipe --stock --runs 3 --procs 10',
      '/c/bw_sqlpipe --chunk 4096 --runs 3',
      '/c/bw_sqlpipe --chunk 65536 --runs 3',
      '/c/lat_sqlpipe --runs 3',
      '/c/bw_sqlpipe --chunk 4096 --runs 3 --ahead 64',
      '/c/bw_sqlpipe --chunk 4096 --runs 3 --procs 10',
      '/c/lat_sqlpipe --runs 3 --procs 10',
      '/lm/bw_pipe -m 4096 -N 3',
      '/lm/bw_pipe -m 65536 -N 3',
      '/lm/lat_pipe -N 3',
    ]);
    assert.equal(planSteps({ chunks: [4096], ahead: 0, holders: 0, runs: 3, lmbench: true }, '/c', undefined).length, 4, 'no lmbench there: ours only');
  });

  it('sqliteos bench pipes --simulator: the simulated SQL pipe against this machine\'s stock pipe, as a table', { skip: process.platform !== 'linux' && 'stock pipes are measured on Linux' }, () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'sqliteos.js'), 'bench', 'pipes', '--simulator', '--runs', '2', '--chunk', '4096', '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const rec = JSON.parse(r.stdout) as BenchRecord;
    assert.equal(rec.kind, 'simulator');
    assert.deepEqual(rec.series.map((s) => `${s.program} ${s.bench} ${s.pipe} ${s.chunk} ${s.values.length}`).sort(), ['ours bw stock 4096 2', 'ours lat stock 1 2', 'simulator bw sql 4096 2', 'simulator lat sql 1 2']);
    const rt = ratios(rec.series);
    assert.equal(rt.length, 2);
    assert.ok(rt.every((x) => x.ratio > 0 && Number.isFinite(x.ratio)));
  });
});

describe('importing results made elsewhere', () => {
  // A QEMU console as `npm run bench:published` leaves it: the boot, then our programs' lines.
  const console_ = `SeaBIOS (version 1.16.2-debian-1.16.2-1)\n[    0.000000] Linux version 5.15.146.1-microsoft-standard-WSL2 (root@build) #1\n${fixture('ours-host.txt')}bench: done\n`;

  it('reads a console log as one run (its kernel, emulated), the same file twice as the same run', () => {
    const [r] = importBenchFile(console_, 'published.log', '2026-12-07T00:00:00.000Z');
    assert.equal(r.release, '5.15.146.1-microsoft-standard-WSL2');
    assert.equal(r.emulated, true);
    assert.equal(r.host, 'imported: published.log');
    assert.deepEqual(r.series, parseBenchOutput(fixture('ours-host.txt')).series);
    assert.deepEqual(r.configuration.chunks, [...new Set(r.series.filter((s) => s.bench === 'bw').map((s) => s.chunk))].sort((a, b) => a - b));
    assert.equal(importBenchFile(console_, 'other-name.log', 'x')[0].id, r.id, 'the id is the content’s');
    assert.equal(importBenchFile(fixture('ours-host.txt'), 'host.txt', 'x')[0].emulated, false);
  });

  it('reads both exports back (JSON: one record, a list, or the export; CSV) and refuses what holds no runs, naming the file', () => {
    const recs = [record('a1', 'root@[127.0.0.1]:2222'), record('b2', 'box')];
    assert.deepEqual(importBenchFile(JSON.stringify({ version: 1, records: recs }), 'x.json', 'x'), recs);
    assert.deepEqual(importBenchFile(JSON.stringify(recs[0]), 'x.json', 'x'), [recs[0]]);
    assert.deepEqual(importBenchFile(JSON.stringify(recs), 'x.json', 'x'), recs);
    assert.deepEqual(importBenchFile(recordsToCsv(recs), 'x.csv', 'x').map((r) => r.id), ['a1', 'b2']);
    assert.throws(() => importBenchFile('hello\nworld\n', 'notes.txt', 'x'), (e: Error) => e instanceof ImportError && /^notes\.txt: no benchmark results in it/.test(e.message));
    assert.throws(() => importBenchFile('{"version": 1, "records": [', 'cut.json', 'x'), /cut\.json: not valid JSON/);
    assert.throws(() => importBenchFile('{"a": 1}', 'other.json', 'x'), /other\.json: JSON, but not benchmark records/);
    assert.throws(() => importBenchFile('[]', 'empty.json', 'x'), /empty\.json: JSON, but not benchmark records/);
    assert.deepEqual(importBenchFile(JSON.stringify([recs[0], recs[0]]), 'twice.json', 'x'), [recs[0]], 'a run twice in one file is one run');
    assert.throws(() => importBenchFile('id,date,host\n1,2,3\n', 'bad.csv', 'x'), /bad\.csv: not a benchmark CSV/);
  });
});
