/*
 * Shared by the guest tests: `sqliteos guest` from the CLI, the guest's destination and state dir, and the
 * guest with code-server in Chromium for the UI tests.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Browser, Page } from 'playwright-core';
import { Server, launchChromium, openWorkbench, startCodeServer } from '../e2e/harness';
import { freePort } from '../ssh/harness';
import type { Destination } from '../../extension/machines/ssh/config';
import { NO_PROMPTS } from '../../extension/machines/ssh/auth';
import { Connection, connect } from '../../extension/machines/ssh/connection';

export const ROOT = path.join(__dirname, '..', '..');
export const STATE = path.join(ROOT, '.cache', 'guest-ssh');
const CLI = path.join(ROOT, 'bin', 'sqliteos.js');

export function guest(...args: string[]): string {
  const r = spawnSync('node', [CLI, 'guest', ...args], { encoding: 'utf8', timeout: 600000 });
  if (r.status !== 0) throw new Error(`sqliteos guest ${args.join(' ')}: exit ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

export function guestDest(port: number): Destination {
  return {
    name: 'guest',
    host: '127.0.0.1',
    port,
    user: 'root',
    identityFiles: [path.join(STATE, 'id_ed25519')],
    knownHostsFile: path.join(STATE, 'known_hosts'),
    jumps: [],
    source: 'test',
  };
}

/** The guest on a free port without its demo, and an SSH connection to it (host key checked strictly). */
export async function startGuestConnected(): Promise<{ conn: Connection; port: number }> {
  const port = await freePort();
  guest('start', '--port', String(port), '--no-demo');
  return { conn: await connect(guestDest(port), { prompts: NO_PROMPTS, hostKeyPolicy: 'strict' }), port };
}

export interface GuestWorkbench {
  server: Server;
  browser: Browser;
  page: Page;
  /** The guest's SSH port on 127.0.0.1. */
  port: number;
  /** The extension host's HOME. */
  home: string;
  close(): Promise<void>;
}

/**
 * The QEMU guest on a free port (with or without its demo; the published kernel with `published`), and code-server in Chromium whose extension
 * host has a HOME of its own, so the user's real ~/.ssh is never read or written. `sshConfig`: none (a
 * new user's empty ~/.ssh), or a Host `myguest` for the guest with its user key and, with `knownHost`,
 * its known_hosts (else the host key is unknown and the user is asked). `settings`: the workspace's.
 */
export async function guestWorkbench(o: { demo: boolean; knownHost: boolean; sshConfig?: boolean; settings?: Record<string, unknown>; published?: boolean }): Promise<GuestWorkbench> {
  const port = await freePort();
  guest('start', '--port', String(port), ...(o.demo ? [] : ['--no-demo']), ...(o.published ? ['--published'] : []));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-ui-home-'));
  fs.mkdirSync(path.join(home, '.ssh'), { mode: 0o700 });
  const known = o.knownHost ? `  UserKnownHostsFile ${path.join(STATE, 'known_hosts')}\n` : '';
  if (o.sshConfig !== false) {
    fs.writeFileSync(path.join(home, '.ssh', 'config'), `Host myguest\n  HostName 127.0.0.1\n  Port ${port}\n  User root\n  IdentityFile ${path.join(STATE, 'id_ed25519')}\n${known}`);
  }
  const server = await startCodeServer({ env: { HOME: home } });
  if (o.settings) fs.writeFileSync(path.join(server.workspace, '.vscode', 'settings.json'), JSON.stringify(o.settings));
  const browser = await launchChromium();
  const page = await openWorkbench(browser, server);
  return {
    server,
    browser,
    page,
    port,
    home,
    close: async () => {
      await browser.close();
      await server.stop();
      guest('stop');
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
