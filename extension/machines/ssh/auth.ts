/*
 * Authentication in OpenSSH's order, driven through ssh2's authHandler: the agent (SSH_AUTH_SOCK; on
 * Windows Pageant or OpenSSH's named pipe), then each identity file (a passphrase asked through the UI's
 * callback when the key is encrypted), then keyboard-interactive, then a password (asked each time, never
 * kept here). Secrets pass through; nothing in this file writes one anywhere.
 */
import * as fs from 'fs';
import * as path from 'path';
import { AnyAuthMethod, AuthHandlerMiddleware, utils } from 'ssh2';
import type { Destination } from './config';

export interface Prompts {
  /** An unknown host key: true only if the user trusts it. */
  trustHostKey(q: { dest: string; hostName: string; type: string; fingerprint: string; file: string }): Promise<boolean>;
  password(q: { dest: string; user: string }): Promise<string | undefined>;
  passphrase(q: { dest: string; file: string; retry: boolean }): Promise<string | undefined>;
  keyboardInteractive(q: { dest: string; name: string; instructions: string; prompts: { prompt: string; echo: boolean }[] }): Promise<string[] | undefined>;
}

/** No UI: every question answered "no" (the CLI without a terminal, CI). */
export const NO_PROMPTS: Prompts = {
  trustHostKey: async () => false,
  password: async () => undefined,
  passphrase: async () => undefined,
  keyboardInteractive: async () => undefined,
};

export function agentSocket(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | undefined {
  if (env.SSH_AUTH_SOCK) return env.SSH_AUTH_SOCK;
  return platform === 'win32' ? '\\\\.\\pipe\\openssh-ssh-agent' : undefined;
}

const DEFAULT_KEYS = ['id_ed25519', 'id_ecdsa', 'id_rsa'];

function identityFiles(d: Destination, home: string): string[] {
  const files = d.identityFiles.length ? d.identityFiles : DEFAULT_KEYS.map((k) => path.join(home, '.ssh', k));
  return files.filter((f) => fs.existsSync(f));
}

/** What was tried, for the error when everything was refused. */
export interface AuthLog {
  tried: string[];
}

/** A key file, decrypted with a passphrase asked for as often as the user retries (at most 3 times). */
async function loadKey(file: string, dest: string, prompts: Prompts, cached: (f: string) => Promise<string | undefined>): Promise<Buffer | ReturnType<typeof utils.parseKey> | undefined> {
  const data = fs.readFileSync(file);
  let parsed = utils.parseKey(data);
  if (!(parsed instanceof Error)) return data;
  if (!/encrypted|passphrase/i.test(parsed.message)) return undefined;
  let pass = await cached(file);
  for (let i = 0; i < 3; i++) {
    if (pass === undefined) pass = await prompts.passphrase({ dest, file, retry: i > 0 });
    if (pass === undefined) return undefined;
    parsed = utils.parseKey(data, pass);
    if (!(parsed instanceof Error)) return parsed;
    pass = undefined;
  }
  return undefined;
}

export function authHandler(d: Destination, home: string, prompts: Prompts, log: AuthLog, cachedPassphrase: (file: string) => Promise<string | undefined>): AuthHandlerMiddleware {
  const queue: (() => Promise<AnyAuthMethod | undefined>)[] = [];
  const agent = agentSocket();
  const label = `${d.user}@${d.host}:${d.port}`;
  if (agent) queue.push(async () => (log.tried.push('agent'), { type: 'agent', username: d.user, agent }));
  for (const file of identityFiles(d, home)) {
    queue.push(async () => {
      const key = await loadKey(file, label, prompts, cachedPassphrase);
      if (!key) return undefined;
      log.tried.push(`key ${file}`);
      return { type: 'publickey', username: d.user, key: key as Buffer };
    });
  }
  queue.push(async () => {
    log.tried.push('keyboard-interactive');
    return {
      type: 'keyboard-interactive',
      username: d.user,
      prompt: (name, instructions, _lang, qs, finish) => {
        if (qs.length === 0) return finish([]);
        void prompts.keyboardInteractive({ dest: label, name, instructions, prompts: qs.map((q) => ({ prompt: q.prompt, echo: q.echo ?? false })) }).then((a) => finish(a ?? []));
      },
    };
  });
  queue.push(async () => {
    const password = await prompts.password({ dest: label, user: d.user });
    if (password === undefined) return undefined;
    log.tried.push('password');
    return { type: 'password', username: d.user, password };
  });
  return (methodsLeft, _partial, next) => {
    const left = (methodsLeft ?? []) as string[];
    const allowed = (t: string) => !methodsLeft || left.includes(t) || (t === 'agent' && left.includes('publickey'));
    const advance = async (): Promise<AnyAuthMethod | false> => {
      while (queue.length) {
        const a = await queue.shift()!();
        if (a && allowed(a.type)) return a;
      }
      return false;
    };
    // ssh2 takes false for "no more methods", which its typings do not list.
    const done = next as (a: AnyAuthMethod | false) => void;
    void advance().then(done, () => done(false));
  };
}
