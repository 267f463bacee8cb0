/*
 * The SSH layer's questions asked in VS Code: an unknown host key (modal, with its SHA256 fingerprint,
 * trusted only on an explicit click), a password (each time; never stored), a key's passphrase (kept in
 * SecretStorage only if the user ticks it), keyboard-interactive prompts. Nothing here writes a secret
 * to settings or to the log.
 */
import * as vscode from 'vscode';
import type { Prompts } from '../machines/ssh/auth';

const SECRET = (file: string) => `sqliteos.ssh.passphrase:${file}`;

export const TRUST = 'Trust and Connect';

export function vscodePrompts(secrets: vscode.SecretStorage): Prompts {
  return {
    trustHostKey: async (q) => {
      const pick = await vscode.window.showWarningMessage(
        `The authenticity of host ${q.hostName} can't be established.`,
        {
          modal: true,
          detail: `${q.type} key fingerprint:\n${q.fingerprint}\n\nCompare it with the host's own (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub there). If you trust it, it is added to ${q.file}.`,
        },
        TRUST,
      );
      return pick === TRUST;
    },
    password: async (q) => vscode.window.showInputBox({ title: `Password for ${q.dest}`, password: true, ignoreFocusOut: true, prompt: 'Asked each time; never stored.' }),
    passphrase: async (q) => {
      const pass = await vscode.window.showInputBox({
        title: `Passphrase for ${q.file}`,
        password: true,
        ignoreFocusOut: true,
        prompt: q.retry ? 'Wrong passphrase: try again.' : `To connect to ${q.dest}.`,
      });
      if (pass === undefined) return undefined;
      const keep = await vscode.window.showQuickPick(
        [
          { label: 'Ask me each time', keep: false },
          { label: "Remember it in VS Code's secret storage", keep: true },
        ],
        { title: `Remember the passphrase for ${q.file}?`, ignoreFocusOut: true },
      );
      if (keep?.keep) await secrets.store(SECRET(q.file), pass);
      return pass;
    },
    keyboardInteractive: async (q) => {
      const answers: string[] = [];
      for (const p of q.prompts) {
        const a = await vscode.window.showInputBox({ title: `${q.dest}${q.name ? `: ${q.name}` : ''}`, prompt: p.prompt, password: !p.echo, ignoreFocusOut: true });
        if (a === undefined) return undefined;
        answers.push(a);
      }
      return answers;
    },
  };
}

export function storedPassphrase(secrets: vscode.SecretStorage): (file: string) => Promise<string | undefined> {
  return async (file) => secrets.get(SECRET(file));
}
