/* Commands as a user runs them: query, export, open row and blob, errors that explain themselves. */
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { Cmd, SCHEME } from '../../extension/ids';
import { api, example } from './util';

describe('commands', () => {
  it('explains a statement on hover, in a .sqlos file', async () => {
    const doc = await vscode.workspace.openTextDocument({ language: 'sqlos', content: 'P1 pipe r w\nP1 begin\n' });
    const hovers = (await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(1, 4))) as vscode.Hover[];
    const markdown = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : c.value))).join('\n');
    // Spaces stay spaces, so the hover wraps between words (every space an &nbsp; broke "mute x").
    assert.ok(!markdown.includes('&nbsp;'), markdown);
    // As rendered: Markdown's escapes undone, the form as code.
    const text = markdown.replace(/\\(.)/g, '$1');
    assert.match(text, /^`P begin` — sql_start_transaction\(4\) \(553\): opens a read transaction that holds SHARED until commit/);
    const none = (await vscode.commands.executeCommand('vscode.executeHoverProvider', doc.uri, new vscode.Position(1, 0))) as vscode.Hover[];
    assert.strictEqual(none.length, 0, 'no help on the process name');
  });

  it('keeps a real kernel\'s connection when an example is opened, and F10 then changes nothing', async () => {
    const a = await api();
    await vscode.commands.executeCommand(Cmd.connectThisMachine);
    const kernel = a.session.target;
    assert.ok(kernel && kernel.info().kind === 'local', `connected to this machine: ${kernel?.info().label}`);
    try {
      const copy = (await vscode.commands.executeCommand(Cmd.openExample, '01-fork-pipe.sqlos')) as vscode.Uri;
      assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, copy.fsPath, 'the example is open');
      assert.strictEqual(a.session.target, kernel, 'the views still show the kernel');
      await vscode.commands.executeCommand(Cmd.stepStatement);
      assert.strictEqual(a.session.target, kernel, 'a step refused with a message, not a silent switch');
      await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    } finally {
      await vscode.commands.executeCommand(Cmd.disconnect);
    }
  });

  it('opens a copy of an example, never the extension\'s own file, and keeps the user\'s edits to it', async () => {
    const original = example('05-eof.sqlos').fsPath;
    const before = fs.readFileSync(original, 'utf8');
    const copy = (await vscode.commands.executeCommand(Cmd.openExample, '05-eof.sqlos')) as vscode.Uri;
    assert.notStrictEqual(copy.fsPath, original);
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, copy.fsPath);
    const ed = vscode.window.activeTextEditor!;
    await ed.edit((e) => e.insert(new vscode.Position(0, 0), '# my note\n'));
    await ed.document.save();
    assert.strictEqual(fs.readFileSync(original, 'utf8'), before, 'the installed example is untouched');
    const again = (await vscode.commands.executeCommand(Cmd.openExample, '05-eof.sqlos')) as vscode.Uri;
    assert.strictEqual(again.fsPath, copy.fsPath);
    assert.match(fs.readFileSync(copy.fsPath, 'utf8'), /^# my note\n/, 'opening it again keeps the edit');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('runs a read-only query into a read-only document', async () => {
    await vscode.commands.executeCommand(Cmd.runScenario, example('12-upstream-rows-kept.sqlos'));
    const uri = (await vscode.commands.executeCommand(Cmd.query, 'SELECT pid, parent_id FROM pid_store ORDER BY pid')) as vscode.Uri;
    assert.strictEqual(uri.scheme, SCHEME);
    const text = (await vscode.workspace.openTextDocument(uri)).getText();
    assert.match(text, /pid \| parent_id/);
    assert.match(text, /^1 +\| 1$/m);
    assert.match(text, /2 row\(s\)/);
    assert.match(uri.path, /query \d+ on pid_store\.txt$/, 'the tab says what it is');
    const schema = (await vscode.commands.executeCommand(Cmd.query, "SELECT name, sql FROM sqlite_schema WHERE name = 'pid_store'")) as vscode.Uri;
    const ddl = (await vscode.workspace.openTextDocument(schema)).getText();
    assert.match(ddl, /CREATE TABLE pid_store\(.*parent_id.*\)/s, 'the CREATE TABLE text is whole');
    assert.doesNotMatch(ddl, /"CREATE TABLE/, 'and not a quoted JSON string');
  });

  it('exports a table as CSV and as JSON to the file given', async () => {
    const a = await api();
    await vscode.commands.executeCommand(Cmd.runScenario, example('12-upstream-rows-kept.sqlos'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-export-'));
    await a.data.exportTable('pipe_data', vscode.Uri.file(path.join(dir, 'p.csv')));
    const csv = fs.readFileSync(path.join(dir, 'p.csv'), 'utf8');
    assert.match(csv, /^rowid,dataId,read_wq,write_wq,data\r\n1,1,-131941329305536,-131941329305504,x'6c65667420626568696e64'\r\n$/);
    await a.data.exportTable('pid_store', vscode.Uri.file(path.join(dir, 's.json')));
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(path.join(dir, 's.json'), 'utf8')), [
      { rowid: 1, pid: 1, parent_id: 1 },
      { rowid: 2, pid: 2, parent_id: 2 },
    ]);
  });

  it('opens a row and a blob as read-only documents with a hex dump', async () => {
    await vscode.commands.executeCommand(Cmd.runScenario, example('12-upstream-rows-kept.sqlos'));
    await vscode.commands.executeCommand(Cmd.openBlob, { table: 'pipe_data', rowid: 1, column: 'data' });
    const doc = vscode.window.activeTextEditor!.document;
    assert.strictEqual(doc.uri.scheme, SCHEME);
    assert.match(doc.getText(), /00000000 {2}6c 65 66 74 20 62 65 68 69 6e 64 +\|left behind\|/);
    // Titled by what names the row (its key), not by its rowid.
    assert.strictEqual(path.posix.basename(doc.uri.path), 'pipe_data dataId 1 data.hex');
    await vscode.commands.executeCommand(Cmd.openRow, { table: 'pid_store', rowid: 2 });
    const row = vscode.window.activeTextEditor!.document;
    assert.match(row.getText(), /^pid_store row 2\n\npid {10}= 2\nparent_id {4}= 2\n$/);
    assert.strictEqual(path.posix.basename(row.uri.path), 'pid_store pid 2.txt');
    await vscode.commands.executeCommand(Cmd.openRow, { table: 'pid_pipe', rowid: 1 });
    assert.match(path.posix.basename(vscode.window.activeTextEditor!.document.uri.path), /^pid_pipe pid \d+ fd \d+\.txt$/);
  });

  it('reports a malformed scenario in Problems and refuses to run it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-bad-'));
    const file = path.join(dir, 'bad.sqlos');
    fs.writeFileSync(file, 'P1 pipe r w\nP1 wirte w "x"\nP7 exit\n');
    const doc = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(doc);
    let diags: vscode.Diagnostic[] = [];
    for (let i = 0; i < 50 && diags.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      diags = vscode.languages.getDiagnostics(doc.uri);
    }
    assert.deepStrictEqual(
      diags.map((d) => `${d.range.start.line + 1}:${d.range.start.character + 1} ${d.message}`),
      ["2:4 unknown operation 'wirte' (pipe, fork, thread, write, read, close, exit, query, begin, commit, rollback, savepoint, release, rollback to)", '3:1 unknown process P7: no fork or thread creates it'],
    );
    const a = await api();
    const before = a.session.target;
    const res = await vscode.commands.executeCommand(Cmd.runScenario, doc.uri);
    assert.strictEqual(res, undefined);
    assert.strictEqual(a.session.target, before, 'the previous target is kept');
  });

  it('explores every interleaving of the active scenario from the palette command', async () => {
    const doc = await vscode.workspace.openTextDocument(example('06-epipe.sqlos'));
    await vscode.window.showTextDocument(doc);
    const res = (await vscode.commands.executeCommand(Cmd.explore)) as { ok: boolean; exhausted: boolean; states: number };
    assert.strictEqual(res.ok, true);
    assert.strictEqual(res.exhausted, true);
    assert.ok(res.states > 1);
  });

  it('keeps an exploration\'s results in a document, with the violation, its schedule and a Replay lens', async () => {
    const doc = await vscode.workspace.openTextDocument(example('03-several-readers.sqlos'));
    await vscode.window.showTextDocument(doc);
    const res = (await vscode.commands.executeCommand(Cmd.explore)) as { ok: boolean; violation: { kind: string; schedule: number[] } };
    assert.strictEqual(res.ok, false);
    const report = vscode.workspace.textDocuments.find((d) => d.uri.scheme === SCHEME && /explore 03-several-readers/.test(d.uri.path))!;
    assert.ok(report, 'the report is open');
    const text = report.getText();
    assert.match(text, /profile companion, locks sqliteos/);
    assert.match(text, /^states +\d+$/m);
    assert.match(text, /EXPECTATION at line \d+: P\d read r 4 == /);
    assert.match(text, /An order-dependent expectation/);
    assert.ok(text.includes(JSON.stringify(res.violation.schedule)));
    const lenses = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', report.uri)) as vscode.CodeLens[];
    assert.deepStrictEqual(
      lenses.map((l) => [l.command?.title, l.command?.command]),
      [
        ['$(debug-alt) Replay the expectation in the debugger', Cmd.replay],
        ['$(fold) Minimize the scenario to this expectation', Cmd.minimize],
      ],
    );
    assert.match(report.uri.path, /\/explore 03-several-readers\.sqlos\.txt$/, 'the first exploration of a file has no number');
    assert.match(text, /^ {3}1\. P1 {2}line \d+: P1 pipe r w/m, 'the schedule as steps');
    const problems = vscode.languages.getDiagnostics(doc.uri).filter((d) => d.source === 'sqliteos explore');
    assert.strictEqual(problems.length, 1, 'the violation is in Problems');
    const line = doc.lineAt(problems[0].range.start.line).text;
    assert.match(line, /read r 4 == /, `at the statement's line: ${line}`);
  });

  it("minimizes a scenario to its violation into a new file beside it, opened, never over one that exists", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-minimize-'));
    const file = path.join(dir, 'alg5.sqlos');
    fs.copyFileSync(example('15-paper-lost-wakeup.sqlos').fsPath, file);
    fs.writeFileSync(path.join(dir, 'alg5.min.sqlos'), 'P1 exit\n');
    // As the explore report's lens passes it: the violation to keep.
    const res = (await vscode.commands.executeCommand(Cmd.minimize, { file, kind: 'lost-wakeup', line: 9 })) as { file: string; statements: number; line: number };
    assert.strictEqual(res.file, path.join(dir, 'alg5.min-2.sqlos'), 'the existing alg5.min.sqlos is left alone');
    assert.strictEqual(fs.readFileSync(path.join(dir, 'alg5.min.sqlos'), 'utf8'), 'P1 exit\n');
    const text = fs.readFileSync(res.file, 'utf8');
    assert.match(text, /^@locks sqliteos-as-printed$/m);
    assert.strictEqual(text.split('\n').filter((l) => /^P\d/.test(l)).length, res.statements);
    assert.ok(res.statements <= 4, text);
    assert.match(text.split('\n')[res.line - 1], /^P2 read r \d+/);
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, res.file, 'the result is open');
    // The result is a scenario of its own: Explore finds the same violation at the line minimize named.
    const again = (await vscode.commands.executeCommand(Cmd.explore, vscode.Uri.file(res.file))) as { violation: { kind: string; line: number } };
    assert.deepStrictEqual([again.violation.kind, again.violation.line], ['lost-wakeup', res.line]);
    fs.rmSync(dir, { recursive: true });
  });

  it('puts Debug, Explore and Minimize over a scenario\'s first statement, and Debug starts the simulator\'s debugger on it', async () => {
    const doc = await vscode.workspace.openTextDocument(example('15-paper-lost-wakeup.sqlos'));
    await vscode.window.showTextDocument(doc);
    const lenses = (await vscode.commands.executeCommand('vscode.executeCodeLensProvider', doc.uri)) as vscode.CodeLens[];
    const ours = lenses.filter((l) => l.command?.command.startsWith('sqliteos.'));
    assert.deepStrictEqual(
      ours.map((l) => [l.command?.title, l.command?.command, l.range.start.line]),
      [
        ['$(debug-alt) Debug', Cmd.debugScenario, 6],
        ['$(search-fuzzy) Explore', Cmd.explore, 6],
        ['$(fold) Minimize', Cmd.minimize, 6],
      ],
      'over line 7, the first statement (after the comments and @locks)',
    );
    const started = new Promise<vscode.DebugSession>((r) => {
      const d = vscode.debug.onDidStartDebugSession((s) => (d.dispose(), r(s)));
    });
    await vscode.commands.executeCommand(ours[0].command!.command, ...(ours[0].command!.arguments ?? []));
    const s = await started;
    assert.strictEqual(s.type, 'sqliteos');
    assert.strictEqual(s.configuration.program, doc.uri.fsPath);
    await vscode.debug.stopDebugging(s);
  });
});
