/* A file's text as the user sees it: the open editor's (unsaved edits included), else the file's. */
import * as vscode from 'vscode';

export async function textOf(uri: vscode.Uri): Promise<string> {
  const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
  if (open) return open.getText();
  return Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
}
