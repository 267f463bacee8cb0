/*
 * Run Pipe Benchmarks inside the real extension host, on the simulator: the run is kept in the history
 * (a file that outlives the window), the report panel opens on it, and both exports read back to the
 * numbers that were measured.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { BenchRecord, recordsFromCsv } from '../../extension/core/bench/pipes';
import { Cmd } from '../../extension/ids';
import { api } from './util';

describe('pipe benchmarks', function () {
  this.timeout(120000);
  it('runs on the simulator, keeps the run, opens the report, and exports what it measured', async function () {
    if (process.platform !== 'linux') this.skip();
    const a = await api();
    await vscode.commands.executeCommand(Cmd.useSimulator);
    const rec = (await vscode.commands.executeCommand(Cmd.benchRun, { chunks: [4096], runs: 2 })) as BenchRecord;
    assert.ok(rec, 'a record');
    assert.deepStrictEqual(rec.series.map((s) => `${s.program} ${s.bench} ${s.pipe}`).sort(), ['ours bw stock', 'ours lat stock', 'simulator bw sql', 'simulator lat sql']);
    assert.strictEqual(a.bench.history.all()[0].id, rec.id, 'kept, newest first');
    assert.ok(a.bench.openReport?.panel.visible, 'the report is open');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-export-'));
    const csv = (await vscode.commands.executeCommand(Cmd.benchExport, 'csv', [rec.id], vscode.Uri.file(path.join(dir, 'x.csv')))) as vscode.Uri;
    const back = recordsFromCsv(fs.readFileSync(csv.fsPath, 'utf8'));
    assert.deepStrictEqual(back[0].series.map((s) => s.values), rec.series.map((s) => s.values));
    const json = (await vscode.commands.executeCommand(Cmd.benchExport, 'json', [rec.id], vscode.Uri.file(path.join(dir, 'x.json')))) as vscode.Uri;
    assert.deepStrictEqual((JSON.parse(fs.readFileSync(json.fsPath, 'utf8')) as { records: BenchRecord[] }).records[0], rec);
    a.bench.openReport?.dispose();
  });

  it('imports runs made elsewhere (a QEMU console log of each kernel) and opens the report on both', async () => {
    const a = await api();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-import-'));
    const log = (release: string, sql: number, stock: number) =>
      [
        'SeaBIOS (version 1.16.2-debian-1.16.2-1)',
        `[    0.000000] Linux version ${release} (root@build) #1`,
        ...[0, 1, 2].map((run) => `{"bench":"bw","pipe":"sql","config":"plain","chunk":65536,"run":${run},"value":${sql + run},"unit":"MB/s"}`),
        'SQL pipe bandwidth: 1 MB/sec',
        ...[0, 1, 2].map((run) => `{"bench":"bw","pipe":"stock","config":"plain","chunk":65536,"run":${run},"value":${stock + run},"unit":"MB/s"}`),
        'Pipe bandwidth: 1 MB/sec',
        'bench: done',
      ].join('\n');
    const files = [
      ['published.log', log('5.15.146.1-microsoft-standard-WSL2', 3, 427)],
      ['companion.log', log('6.1.192', 213, 628)],
    ].map(([name, text]) => {
      fs.writeFileSync(path.join(dir, name), text);
      return vscode.Uri.file(path.join(dir, name));
    });
    const added = (await vscode.commands.executeCommand(Cmd.benchImport, files)) as BenchRecord[];
    assert.deepStrictEqual(added.map((r) => [r.host, r.release, r.emulated]), [
      ['imported: published.log', '5.15.146.1-microsoft-standard-WSL2', true],
      ['imported: companion.log', '6.1.192', true],
    ]);
    assert.deepStrictEqual(a.bench.history.get(added.map((r) => r.id)).length, 2, 'both kept in the history');
    assert.ok(a.bench.openReport?.panel.visible, 'the report is open on them');
    assert.deepStrictEqual((await vscode.commands.executeCommand(Cmd.benchImport, files)) as BenchRecord[], [], 'the same files again add nothing');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'nothing here\n');
    // A file with no runs: a warning naming it (ImportError, unit-tested), nothing added.
    const before = a.bench.history.all().length;
    assert.strictEqual(await vscode.commands.executeCommand(Cmd.benchImport, [vscode.Uri.file(path.join(dir, 'notes.txt'))]), undefined);
    assert.strictEqual(a.bench.history.all().length, before);
    a.bench.openReport?.dispose();
  });
});
