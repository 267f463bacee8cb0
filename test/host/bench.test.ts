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
});
