/*
 * `sqliteos inspect [--ssh DEST] [--json] [--accept-new]` and `sqliteos query [--ssh DEST] "SQL"`: a real
 * kernel's state or one read-only query, over SSH (the extension's connection code, ~/.ssh/config and
 * host-key policy) or on this machine. Exit 0 ok, 1 the host runs no SQLiteOS kernel (or cannot be read
 * there), 2 bad input or a connection, authentication or host-key failure, with the reason on stderr.
 */
import * as path from 'path';
import * as readline from 'readline';
import { queueName } from '../core/model/model';
import type { Snapshot } from '../core/model/model';
import { median } from '../core/bench/stats';
import { stringifyExact, textTable } from '../core/format';
import { HostError, QueryRefused } from '../machines/kernel-host';
import { RemoteTarget } from '../targets/remote';
import { bundledHelper, localSource, sshSource } from '../machines/sources';
import { NO_PROMPTS, Prompts } from '../machines/ssh/auth';
import { GuestError, localGuest, resolveWithGuest, runningGdbGuest } from '../machines/guest';
import { DestinationError } from '../machines/ssh/config';
import { ConnectionManager, SshError } from '../machines/ssh/connection';
import { MemoryError } from '../core/memory/layout';
import { KernelFormatError } from '../core/model/kernel-json';

export interface KernelArgs {
  cmd: 'inspect' | 'query' | 'bench';
  runs?: number;
  upstream?: boolean;
  ssh?: string;
  json: boolean;
  acceptNew: boolean;
  sql?: string;
  /** bench: snapshots from memory on this gdbstub too */
  gdb?: string;
  vmlinux?: string;
}

/** One question on the terminal (stderr), the answer hidden when asked; undefined on Ctrl+C. */
export function askTerminal(q: string, hidden = false): Promise<string | undefined> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
    rl.question(q, (a) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(a);
    });
    rl.on('SIGINT', () => (rl.close(), resolve(undefined)));
  });
}

/** Questions on the terminal when there is one; none (every answer "no") when there is not. */
export function terminalPrompts(): Prompts {
  if (!process.stdin.isTTY) return NO_PROMPTS;
  return {
    trustHostKey: async (q) =>
      (await askTerminal(`The authenticity of host '${q.hostName}' can't be established.\n${q.type} key fingerprint is ${q.fingerprint}.\nTrust it and add it to ${q.file} (yes/no)? `))?.trim() === 'yes',
    password: (q) => askTerminal(`${q.dest}'s password: `, true),
    passphrase: (q) => askTerminal(`${q.retry ? 'Wrong passphrase. ' : ''}Passphrase for ${q.file}: `, true),
    keyboardInteractive: async (q) => {
      const out: string[] = [];
      for (const p of q.prompts) {
        const a = await askTerminal(p.prompt, !p.echo);
        if (a === undefined) return undefined;
        out.push(a);
      }
      return out;
    },
  };
}

function describe(s: Snapshot, label: string, release: string): string {
  const how = s.kernel === 'companion' ? 'companion kernel' : 'SQLiteOS kernel read through syscall 549, as the published kernel is read:';
  const lines = [`${label}: ${how} ${release}`];
  for (const [name, t] of Object.entries(s.tables)) lines.push(`  ${name}: ${t.busy ? `busy (${t.busy})` : `${t.count} rows`}`);
  if (s.locks) {
    const l = s.locks;
    lines.push(`  locks: current_max_lock ${l.currentMaxLock}, num_readers ${l.numReaders}, write mutex ${l.writeMutex.owner === null ? 'free' : `held by ${l.writeMutex.owner}`}`);
    for (const c of l.connections) lines.push(`    connection ${c.id} (${c.purpose}): ${c.level}${c.owner ? ` by ${c.owner}` : ''}`);
  } else lines.push(`  locks and wait queues: ${s.unavailable}`);
  for (const q of s.queues ?? []) if (q.sleepers.length) lines.push(`  ${queueName(q.id)}: ${q.sleepers.join(', ')} asleep`);
  for (const p of s.pipes) lines.push(`  pipe ${p.dataId}: ${p.buffered} bytes buffered, read end ${p.readers ? 'open' : 'closed'}, write end ${p.writers ? 'open' : 'closed'}`);
  for (const w of s.warnings ?? []) lines.push(`  warning: ${w}`);
  return `${lines.join('\n')}\n`;
}

/**
 * Polls of a real kernel timed against a bare `true` over the same connection, measured in the same run:
 * the round trip, the helper's run plus the transfer, the parse, and the change detection.
 */
async function benchRemote(t: RemoteTarget, runs: number, out: (s: string) => void): Promise<number> {
  const h = t.kernelHost!;
  const base: number[] = [];
  const poll: number[] = [];
  const fetch: number[] = [];
  const parse: number[] = [];
  for (let i = 0; i <= runs; i++) {
    const b = await h.roundTrip();
    const t0 = performance.now();
    await t.poll();
    const p = performance.now() - t0;
    if (i === 0) continue;
    base.push(b);
    poll.push(p);
    fetch.push(h.timing.fetchMs);
    parse.push(h.timing.parseMs);
  }
  const s = t.snapshot!;
  const m = (xs: number[]) => median(xs).toFixed(1);
  out(`${t.info().label}: ${s.tables.pid_store?.count ?? '?'} processes, ${s.pipes.length} pipes, snapshot ${(h.timing.bytes / 1024).toFixed(0)} KiB; median of ${runs}\n`);
  out(`  bare round trip (true)        ${m(base)} ms   (baseline)\n`);
  out(`  poll                          ${m(poll)} ms   = ${(median(poll) / median(base)).toFixed(2)}x the baseline\n`);
  out(`    helper run + transfer       ${m(fetch)} ms\n`);
  out(`    parse + check               ${m(parse)} ms\n`);
  out(`    diff, views' reads          ${(median(poll) - median(fetch) - median(parse)).toFixed(1)} ms\n`);
  return 0;
}

/** `guest` (the QEMU guest's gdbstub and the vmlinux beside its kernel) or an endpoint with --vmlinux. */
function gdbSource(spec: string, vmlinux: string | undefined): { endpoint: string; vmlinux: string } {
  let endpoint = spec;
  if (spec === 'guest') {
    const g = runningGdbGuest(path.join(__dirname, '..'));
    endpoint = g.gdb;
    vmlinux ??= g.vmlinux;
  }
  if (!vmlinux) throw new MemoryError(`${endpoint}: which kernel? --vmlinux PATH (the vmlinux of the running kernel: the layout record's address)`);
  return { endpoint, vmlinux };
}

/** Snapshots read from memory (halt, read, run on) against SSH polls of the same kernel, alternating, in one run. */
async function benchMemory(t: RemoteTarget, g: { endpoint: string; vmlinux: string }, runs: number, out: (s: string) => void): Promise<void> {
  const { inspectGdb } = await import('../machines/memory-snapshot');
  const poll: number[] = [];
  const mem: number[] = [];
  let pages = 0;
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    await t.poll();
    const p = performance.now() - t0;
    const r = await inspectGdb(g.endpoint, g.vmlinux);
    if (i === 0) continue;
    poll.push(p);
    mem.push(r.ms);
    pages = r.pages;
  }
  const m = (xs: number[]) => median(xs).toFixed(1);
  out(`  snapshot over SSH (poll)      ${m(poll)} ms   (baseline of this comparison)\n`);
  out(`  snapshot from memory (gdb)    ${m(mem)} ms   = ${(median(mem) / median(poll)).toFixed(2)}x; ${pages} pages read, the guest halted meanwhile\n`);
}

export async function kernelCommand(a: KernelArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const manager = new ConnectionManager(() => ({ prompts: terminalPrompts(), hostKeyPolicy: a.acceptNew ? 'accept-new' : process.stdin.isTTY ? 'ask' : 'strict' }));
  let target: RemoteTarget | undefined;
  try {
    const source = a.ssh ? sshSource(resolveWithGuest(a.ssh, path.join(__dirname, '..')), manager) : localSource();
    target = new RemoteTarget(source, bundledHelper(path.join(__dirname)), { pollIntervalMs: () => 1000, upstream: a.upstream });
    const facts = await target.start();
    if (facts.problem) {
      err(`sqliteos ${a.cmd}: ${source.label}: ${facts.problem}\n`);
      return 1;
    }
    if (a.cmd === 'bench') {
      const code = await benchRemote(target, a.runs ?? 21, out);
      if (a.gdb) await benchMemory(target, gdbSource(a.gdb, a.vmlinux), a.runs ?? 21, out);
      return code;
    }
    if (a.cmd === 'query') {
      const res = await target.query(a.sql!);
      out(a.json ? `${stringifyExact(res)}\n` : textTable(res.columns, res.rows));
      return 0;
    }
    const s = target.snapshot!;
    out(a.json ? `${stringifyExact({ host: source.label, release: facts.release, ...s })}\n` : describe(s, source.label, facts.release));
    return 0;
  } catch (e) {
    if (e instanceof SshError || e instanceof DestinationError || e instanceof QueryRefused) {
      err(`sqliteos ${a.cmd}: ${e.message}\n`);
      return 2;
    }
    if (e instanceof HostError) {
      err(`sqliteos ${a.cmd}: ${e.message}\n`);
      return 1;
    }
    err(`sqliteos ${a.cmd}: ${(e as Error).message}\n`);
    return 2;
  } finally {
    target?.dispose();
    manager.closeAll();
  }
}

export interface MemoryArgs {
  gdb?: string;
  core?: string;
  vmlinux?: string;
  stay: boolean;
  json: boolean;
}

/**
 * `sqliteos inspect --gdb ENDPOINT [--vmlinux PATH] [--stay]` and `--core FILE`: the same output as over
 * SSH, read from a halted guest's or a saved core's memory. `--gdb guest`: the QEMU guest's own gdbstub
 * and the vmlinux beside its kernel. Exit 0 read, 1 not readable as a companion kernel, 2 bad input.
 */
export async function memoryCommand(a: MemoryArgs, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { inspectCore, inspectGdb } = await import('../machines/memory-snapshot');
  try {
    let r;
    if (a.core) r = await inspectCore(a.core);
    else {
      const g = gdbSource(a.gdb!, a.vmlinux);
      r = await inspectGdb(g.endpoint, g.vmlinux, a.stay);
    }
    const s = r.snapshot;
    out(a.json ? `${stringifyExact({ host: r.source, release: r.release, ...s })}\n` : describe(s, r.source, r.release));
    if (!a.json) out(`  (${r.pages} pages of memory read in ${r.ms.toFixed(0)} ms${a.gdb ? (a.stay ? '; the guest stays halted' : '; the guest runs on') : ''})\n`);
    return 0;
  } catch (e) {
    if (e instanceof MemoryError || e instanceof KernelFormatError || e instanceof GuestError) {
      err(`sqliteos inspect: ${e.message}\n`);
      return 1;
    }
    err(`sqliteos inspect: ${(e as Error).message}\n`);
    return 2;
  }
}

/** `sqliteos guest dump FILE`: the running guest's memory as an ELF core, through QEMU's control socket. */
export async function guestDump(file: string, root: string, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const { qmpCommand } = await import('../machines/qmp');
  const g = localGuest(root);
  if (!g?.running) {
    err('sqliteos guest dump: the QEMU guest is not running (sqliteos guest start)\n');
    return 1;
  }
  const abs = path.resolve(file);
  const t0 = performance.now();
  try {
    await qmpCommand(g.qmp, 'dump-guest-memory', { paging: false, protocol: `file:${abs}` });
  } catch (e) {
    err(`sqliteos guest dump: ${(e as Error).message}\n`);
    return 2;
  }
  out(`core: ${abs} (${((performance.now() - t0) / 1000).toFixed(1)} s); read it with sqliteos inspect --core ${file}\n`);
  return 0;
}
