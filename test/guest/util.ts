/* Shared by the guest tests: `sqliteos guest` from the CLI, and the guest's destination and state dir. */
import { spawnSync } from 'child_process';
import * as path from 'path';
import type { Destination } from '../../extension/targets/ssh/config';

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
