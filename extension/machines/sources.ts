/*
 * The two places a real kernel's shell comes from: an SSH destination (through the one ConnectionManager,
 * so the CLI, the extension and the tests share connection code and host-key policy) and this machine
 * itself (when the extension host runs on a SQLiteOS kernel: VS Code's WSL or SSH remote). Also where
 * the helper binary is found.
 */
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Helper, Shell } from './kernel-host';
import type { ShellSource } from '../targets/remote';
import { Destination } from './ssh/config';
import { ConnectionManager, ExecResult } from './ssh/connection';
import { hostKeyName } from './ssh/known-hosts';

export function sshSource(dest: Destination, manager: ConnectionManager): ShellSource {
  const label = `${dest.user}@${hostKeyName(dest.host, dest.port)}`;
  let open: { close(): void } | undefined;
  return {
    kind: 'ssh',
    label,
    open: async (onDrop) => {
      const c = await manager.get(dest);
      open = c;
      c.onDrop(onDrop);
      return c;
    },
    // Before the connection is made, closing ends the attempt (Cancel): no later request waits on it.
    close: () => (open ? open.close() : manager.cancel(dest)),
  };
}

/** This machine's shell: sh -c, and files written directly. */
export class LocalShell implements Shell {
  readonly label = 'this machine';
  exec(command: string, opts: { stdin?: Buffer | string; timeoutMs?: number } = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      const p = spawn('/bin/sh', ['-c', command], { stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      const timer = opts.timeoutMs ? setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs) : undefined;
      p.stdout!.on('data', (d: Buffer) => out.push(d));
      p.stderr!.on('data', (d: Buffer) => err.push(d));
      p.on('error', reject);
      p.on('close', (code, signal) => {
        if (timer) clearTimeout(timer);
        resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code, signal: signal ?? undefined });
      });
      if (p.stdin) {
        // A command that exits without reading its input is not an error of ours.
        p.stdin.on('error', () => undefined);
        p.stdin.end(opts.stdin);
      }
    });
  }
  stream(command: string, onData: (chunk: Buffer) => void, stdin?: Buffer | string): Promise<{ code: number | null; signal?: string }> {
    return new Promise((resolve, reject) => {
      // A session of its own (setsid), as sshd gives each command: cancelling long work kills that session.
      const p = spawn('/bin/sh', ['-c', command], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], detached: true });
      if (stdin !== undefined && p.stdin) {
        p.stdin.on('error', () => undefined);
        p.stdin.end(stdin);
      }
      p.stdout!.on('data', onData);
      p.stderr!.on('data', onData);
      p.on('error', reject);
      p.on('close', (code, signal) => resolve({ code, signal: signal ?? undefined }));
    });
  }
  async upload(file: string, data: Buffer, mode = 0o755): Promise<void> {
    const tmp = `${file}.part-${process.pid}`;
    fs.writeFileSync(tmp, data, { mode });
    fs.renameSync(tmp, file);
  }
}

export function localSource(): ShellSource {
  return { kind: 'local', label: 'this machine', open: async () => new LocalShell(), close: () => undefined };
}

/** The helper shipped beside the bundles (dist/helpers), read when first needed. */
export function bundledHelper(distDir: string): Helper {
  const file = path.join(distDir, 'helpers', 'sqliteos-inspect-x86_64');
  let cached: Buffer | undefined;
  return {
    data: () => {
      if (!cached) {
        try {
          cached = fs.readFileSync(file);
        } catch {
          throw new Error(`the helper ${file} is missing: build it with \`npm run build\` (needs gcc and libc6-dev)`);
        }
      }
      return cached;
    },
  };
}
