/* Hover help in .sqlos files: what a statement's syscall does, in the words of core/help.ts. */
import * as vscode from 'vscode';
import { STATEMENT_HELP } from './core/help';
import { LANGUAGE } from './ids';

export function registerHover(ctx: vscode.ExtensionContext): void {
  ctx.subscriptions.push(
    vscode.languages.registerHoverProvider(LANGUAGE, {
      provideHover(doc, pos) {
        const range = doc.getWordRangeAtPosition(pos, /[A-Za-z_]+/);
        if (!range) return undefined;
        // The operation is the second word of a statement line: "P1 write w ...".
        const m = /^\s*P\d+\s+([a-z]+)/.exec(doc.lineAt(pos.line).text);
        const word = doc.getText(range);
        if (!m || m[1] !== word || !STATEMENT_HELP[word]) return undefined;
        return new vscode.Hover(new vscode.MarkdownString().appendText(STATEMENT_HELP[word]), range);
      },
    }),
  );
}
