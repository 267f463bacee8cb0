/* Parse errors of open .sqlos documents in the Problems panel, updated as the user types. */
import * as vscode from 'vscode';
import { parseScenario } from './core/scenario/parser';
import { LANGUAGE } from './ids';

export function diagnosticsFor(doc: vscode.TextDocument): vscode.Diagnostic[] {
  const res = parseScenario(doc.getText(), vscode.workspace.asRelativePath(doc.uri));
  if (res.ok) return [];
  return res.errors.map((e) => {
    const line = doc.lineAt(Math.min(e.line - 1, doc.lineCount - 1));
    const start = Math.min(e.col - 1, line.text.length);
    const word = /^\S*/.exec(line.text.slice(start))![0].length;
    const range = new vscode.Range(line.lineNumber, start, line.lineNumber, start + Math.max(word, 1));
    const d = new vscode.Diagnostic(range, e.message, vscode.DiagnosticSeverity.Error);
    d.source = 'sqliteos';
    return d;
  });
}

export function registerDiagnostics(ctx: vscode.ExtensionContext): vscode.DiagnosticCollection {
  const coll = vscode.languages.createDiagnosticCollection('sqliteos');
  const timers = new Map<string, NodeJS.Timeout>();
  const update = (doc: vscode.TextDocument) => {
    if (doc.languageId === LANGUAGE) coll.set(doc.uri, diagnosticsFor(doc));
  };
  const later = (doc: vscode.TextDocument) => {
    const key = doc.uri.toString();
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => update(doc), 200));
  };
  ctx.subscriptions.push(
    coll,
    vscode.workspace.onDidOpenTextDocument(update),
    vscode.workspace.onDidChangeTextDocument((e) => later(e.document)),
    vscode.workspace.onDidCloseTextDocument((d) => coll.delete(d.uri)),
  );
  vscode.workspace.textDocuments.forEach(update);
  return coll;
}
