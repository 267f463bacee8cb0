/*
 * The local QEMU guest that `sqliteos guest start` (kernel-scripts/qemu/guest.sh) runs, found from its
 * state directory (.cache/guest-ssh of the checkout or extension): whether it runs, on which port, with
 * which kernel, and the destination that reaches it with its own user key and known host key, so
 * connecting to it needs no edit of ~/.ssh/config. Named `guest` in the CLI (`--ssh guest`, `--on guest`)
 * and listed first by Connect to Host….
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { ConfigSource, Destination } from './ssh/config';
import { DestinationError, configuredHosts, defaultConfigSource, parseDestination, resolveDestination } from './ssh/config';

export interface LocalGuest {
  state: string;
  running: boolean;
  port: number;
  /** The kernel image it booted, and that image's release ("6.1.192"), when known. */
  kernel?: string;
  /** Which SQLiteOS it runs: ours, or the published kernel (`guest start --published`). */
  kind: 'companion' | 'published';
  release?: string;
  destination: Destination;
  /** Its gdbstub (`guest start --gdb`), "unix:PATH", and the vmlinux beside its kernel image, when there are. */
  gdb?: string;
  vmlinux?: string;
  /** QEMU's control socket (QMP): `guest dump` writes a core through it. */
  qmp: string;
}

/** The vmlinux a bzImage was built with, in the build directory holding arch/x86/boot/bzImage. */
export function vmlinuxBeside(kernel: string): string | undefined {
  const m = /^(.*)\/arch\/x86\/boot\/bzImage$/.exec(kernel);
  const v = m && path.join(m[1], 'vmlinux');
  return v && fs.existsSync(v) ? v : undefined;
}

export function guestStateDir(root: string): string {
  return path.join(root, '.cache', 'guest-ssh');
}

function read(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The release a bzImage carries in its setup header (the boot protocol's kernel_version field: an
 * offset, less 0x200, of "6.1.192 (user@host) #1 ..."), or undefined for anything else.
 */
export function bzImageRelease(image: Buffer): string | undefined {
  if (image.length < 0x210 || image.toString('latin1', 0x202, 0x206) !== 'HdrS') return undefined;
  const at = image.readUInt16LE(0x20e) + 0x200;
  if (at >= image.length) return undefined;
  const end = image.indexOf(0, at);
  const text = image.toString('latin1', at, end < 0 ? Math.min(image.length, at + 256) : end);
  return /^\S+/.exec(text)?.[0];
}

export function imageRelease(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(0x4000);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    return bzImageRelease(head.subarray(0, n));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** The guest whose state is under root, if one was ever started there (running or not). */
export function localGuest(root: string): LocalGuest | undefined {
  const state = guestStateDir(root);
  const port = Number(read(path.join(state, 'port')));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  const pid = Number(read(path.join(state, 'qemu.pid')));
  const kernel = read(path.join(state, 'kernel'));
  return {
    state,
    kind: read(path.join(state, 'kind')) === 'published' ? 'published' : 'companion',
    running: Number.isInteger(pid) && pid > 0 && alive(pid),
    port,
    kernel,
    release: kernel ? imageRelease(kernel) : undefined,
    gdb: read(path.join(state, 'gdb')) || undefined,
    vmlinux: kernel ? vmlinuxBeside(kernel) : undefined,
    qmp: path.join(state, 'qmp.sock'),
    destination: {
      name: 'guest',
      host: '127.0.0.1',
      port,
      user: 'root',
      identityFiles: [path.join(state, 'id_ed25519')],
      knownHostsFile: path.join(state, 'known_hosts'),
      jumps: [],
      source: `the QEMU guest's ${state}`,
    },
  };
}

/** "running, companion kernel 6.1.192" / "running, published SQLiteOS kernel 5.15.146.1-…" / "not running …". */
export function describeGuest(g: LocalGuest): string {
  if (!g.running) return 'not running (start it with `sqliteos guest start`)';
  return `running, ${g.kind === 'published' ? 'published SQLiteOS kernel' : 'companion kernel'}${g.release ? ` ${g.release}` : ''}`;
}

/**
 * The guest's destination when what the user wrote names it: `guest`, or the address guest.sh prints
 * (root@127.0.0.1:PORT, also localhost) of the guest running now. Undefined for anything else.
 */
export function guestFor(dest: string, root: string): Destination | undefined {
  const g = localGuest(root);
  if (dest.trim() === 'guest') {
    if (!g?.running) throw new GuestNotRunning(`guest: no QEMU guest is running here (${guestStateDir(root)}): start one with \`sqliteos guest start\``);
    return g.destination;
  }
  if (!g?.running) return undefined;
  let parts;
  try {
    parts = parseDestination(dest);
  } catch {
    return undefined;
  }
  const local = parts.host === '127.0.0.1' || parts.host === 'localhost';
  return local && parts.port === g.port && (parts.user ?? 'root') === 'root' ? { ...g.destination, name: dest } : undefined;
}

export class GuestNotRunning extends DestinationError {}

/**
 * What the user wrote, resolved: the local guest when it names it, else as `ssh DEST` would (a Host of
 * ~/.ssh/config named `guest` still wins while no guest runs here).
 */
export function resolveWithGuest(dest: string, root: string, src: ConfigSource = defaultConfigSource()): Destination {
  try {
    const g = guestFor(dest, root);
    if (g) return g;
  } catch (e) {
    if (!(e instanceof GuestNotRunning) || !configuredHosts(src).includes(dest.trim())) throw e;
  }
  return resolveDestination(dest, src);
}

export interface BuiltImage {
  path: string;
  release?: string;
  /** The build's folder (kbuild, kbuild-debug, kbuild-5.15, ...). */
  build: string;
  mtimeMs: number;
}

/**
 * The kernel images built in these folders' kbuild* builds (this checkout's .cache, and the trees'
 * builds in ~/.cache/sqliteos-companion that npm run test:kernel:trees makes), newest first: what Run
 * Kernel Tests offers.
 */
export function builtImages(...caches: string[]): BuiltImage[] {
  const dirs = caches.flatMap((cache) => {
    try {
      return fs.readdirSync(cache).filter((d) => d.startsWith('kbuild')).map((build) => ({ build, dir: path.join(cache, build) }));
    } catch {
      return [];
    }
  });
  return dirs
    .map(({ build, dir }) => ({ build, path: path.join(dir, 'arch', 'x86', 'boot', 'bzImage') }))
    .filter((b) => fs.existsSync(b.path))
    .map((b) => ({ ...b, release: imageRelease(b.path), mtimeMs: fs.statSync(b.path).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
}

/**
 * The QEMU guest with its gdbstub, for the kernel debugger: the running one if it has a gdbstub, else
 * started with `guest.sh start --gdb` (which builds the DWARF kernel when missing). A guest running
 * without a gdbstub is the user's: it is named, not stopped.
 */
export async function gdbGuest(root: string, log: (s: string) => void): Promise<{ gdb: string; vmlinux: string }> {
  if (!localGuest(root)?.running) {
    const script = path.join(root, 'kernel-scripts', 'qemu', 'guest.sh');
    if (!fs.existsSync(script)) throw new Error(`${script} is missing (the guest runs from a checkout of the repository)`);
    log('starting the QEMU guest with its gdbstub: sqliteos guest start --gdb');
    const code = await new Promise<number | null>((resolve, reject) => {
      const p = spawn('bash', [script, 'start', '--gdb'], { stdio: ['ignore', 'pipe', 'pipe'] });
      p.stdout.on('data', (d: Buffer) => log(d.toString()));
      p.stderr.on('data', (d: Buffer) => log(d.toString()));
      p.on('error', reject);
      p.on('exit', resolve);
    });
    if (code !== 0) throw new Error(`sqliteos guest start --gdb failed (exit ${code}); its output is above`);
  }
  const g = runningGdbGuest(root);
  if (!g.vmlinux) throw new GuestError('the QEMU guest has no vmlinux beside its kernel');
  return { gdb: g.gdb, vmlinux: g.vmlinux };
}

/** The QEMU guest is not there as asked (not running, or without its gdbstub). */
export class GuestError extends Error {}

/** The running QEMU guest's gdbstub ("unix:PATH") and the vmlinux beside its kernel, if there is one. */
export function runningGdbGuest(root: string): { gdb: string; vmlinux?: string } {
  const g = localGuest(root);
  if (!g?.running) throw new GuestError('the QEMU guest is not running (sqliteos guest start --gdb)');
  if (!g.gdb) throw new GuestError('the QEMU guest runs without a gdbstub: stop it (sqliteos guest stop) and start it with sqliteos guest start --gdb');
  return { gdb: g.gdb, vmlinux: g.vmlinux };
}

/** Stops the QEMU guest (the debugger's launch started it). */
export function stopGuest(root: string): void {
  const script = path.join(root, 'kernel-scripts', 'qemu', 'guest.sh');
  spawnSync('bash', [script, 'stop'], { stdio: 'ignore' });
}
