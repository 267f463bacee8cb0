/* Hover help in .sqlos files: what a statement's syscall does, in the words of core/help.ts. */
import * as vscode from 'vscode';
import { STATEMENT_HELP } from './core/help';
import { LANGUAGE } from './ids';

/** Markdown's own characters escaped, spaces kept (appendText makes every space &nbsp;, so the hover breaks mid-word: "mute x"). */
const escaped = (s: string) => s.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&');

/** The statement's form as code, then what it does. */
export function statementHover(help: string): vscode.MarkdownString {
  const at = help.indexOf(' — ');
  return new vscode.MarkdownString(at < 0 ? escaped(help) : `\`${help.slice(0, at)}\` — ${escaped(help.slice(at + 3))}`);
}

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
        return new vscode.Hover(statementHover(STATEMENT_HELP[word]), range);
      },
    }),
  );
}
