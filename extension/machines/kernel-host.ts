/*
 * A Linux machine that may run a SQLiteOS kernel, reached through a Shell (an SSH connection, or this
 * machine's own shell): what it is (release, architecture, root or sudo), the sqliteos-inspect helper put
 * in a per-version cache there when missing or different, one snapshot per call, and read-only queries.
 * Every failure says what it was and what to do, in a user's words; nothing here knows VS Code.
 */
import { createHash } from 'crypto';
import { gunzipSync } from 'zlib';
import { InspectReader } from '../core/model/inspect-reader';
import { parseQueryJson } from '../core/model/kernel-json';
import type { Snapshot, Value } from '../core/model/model';
import type { ExecResult } from './ssh/connection';

export interface Shell {
  /** user@host:port, or "this machine". */
  readonly label: string;
  exec(command: string, opts?: { stdin?: Buffer | string; timeoutMs?: number }): Promise<ExecResult>;
  upload(path: string, data: Buffer, mode?: number): Promise<void>;
  /** Runs a command with its output handed over as it comes (long work: builds, boots). */
  /** `stdin`: the command's input (none: it reads end of file at once). */
  stream(command: string, onData: (chunk: Buffer) => void, stdin?: Buffer | string): Promise<{ code: number | null; signal?: string }>;
}

export interface HostFacts {
  release: string;
  arch: string;
  uid: number;
  /** How the helper runs as root: already root, `sudo -n`, or not at all. */
  privilege: 'root' | 'sudo' | 'none';
  kernel: 'companion' | 'upstream' | 'none' | 'unknown';
  /** What stops the views from working, in one line with what to do; undefined when all is well. */
  problem?: string;
  /** The same in a few words, first (it must survive a narrow sidebar): "No SQLiteOS kernel on this host". */
  headline?: string;
}

export interface Helper {
  /** The static x86_64 sqliteos-inspect, as bytes (read lazily: it is ~900 KB). */
  data(): Buffer;
}

/** Thrown when the host answers but cannot show a SQLiteOS kernel: the message says why and what to do. */
export class HostError extends Error {}

/** A statement the kernel would not run (not read-only, bad SQL): the user's input, not the host. */
export class QueryRefused extends Error {}

/** Where the companion keeps its files on a machine, as a (double-quoted) shell expression. */
export const CACHE_DIR_SH = '"${XDG_CACHE_HOME:-$HOME/.cache}/sqliteos-companion"';

const PROBE = [
  'printf "release\\t%s\\n" "$(uname -r)"',
  'printf "arch\\t%s\\n" "$(uname -m)"',
  'printf "uid\\t%s\\n" "$(id -u)"',
  'if [ "$(id -u)" = 0 ]; then echo "privilege\troot"; elif sudo -n true 2>/dev/null; then echo "privilege\tsudo"; else echo "privilege\tnone"; fi',
  `printf "cache\\t%s\\n" ${CACHE_DIR_SH}`,
  'if command -v gzip >/dev/null; then echo "gzip\tyes"; fi',
].join('; ');

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `data` as the executable <cache>/<first 16 hex digits of its SHA-256>/<name> on the shell's machine,
 * uploaded only when that exact file is not already there; returns its path.
 */
export async function placeCached(shell: Shell, cache: string, name: string, data: Buffer, timeoutMs: number): Promise<string> {
  const hash = createHash('sha256').update(data).digest('hex');
  const dir = `${cache}/${hash.slice(0, 16)}`;
  const path = `${dir}/${name}`;
  const check = await shell.exec(`sha256sum ${shellQuote(path)} 2>/dev/null`, { timeoutMs });
  if (!check.stdout.toString().startsWith(hash)) {
    const mk = await shell.exec(`mkdir -p ${shellQuote(dir)}`, { timeoutMs });
    if (mk.code !== 0) throw new HostError(`${shell.label}: cannot make ${dir}: ${mk.stderr.trim()}`);
    await shell.upload(path, data, 0o755);
  }
  return path;
}

export class KernelHost {
  private facts: HostFacts | undefined;
  private gzip = false;
  /** The snapshot the probe took to learn the kernel's kind, for the target to show first (taken once). */
  private probed: Snapshot | undefined;

  takeProbedSnapshot(): Snapshot | undefined {
    const s = this.probed;
    this.probed = undefined;
    return s;
  }
  /** Keeps the sections of the last snapshot, so an unchanged section is not parsed again. */
  private readonly reader = new InspectReader();
  private helperPath: string | undefined;
  private cacheDir: string | undefined;
  /** Our other programs placed in the cache this session, by name and content hash (placed once, like the helper). */
  private readonly placed = new Map<string, string>();

  constructor(
    readonly shell: Shell,
    private readonly helper: Helper,
    private readonly timeoutMs = 30000,
    /** Read the kernel as the published one is read (549 and its log), even where debugfs is there. */
    private readonly asUpstream = false,
  ) {}

  get known(): HostFacts | undefined {
    return this.facts;
  }

  /**
   * Reads the machine's facts, puts the helper in place and finds out which kernel it runs: from a first
   * snapshot (kept for the target to show), or with `kindOnly` from the helper's --kind, reading no
   * table (a scenario run needs only the kind; the published kernel's whole tables grow with its uptime).
   */
  async probe(kindOnly = false): Promise<HostFacts> {
    const r = await this.shell.exec(PROBE, { timeoutMs: this.timeoutMs });
    if (r.code !== 0) throw new HostError(`${this.shell.label}: the probe of the host failed (exit ${r.code}): ${r.stderr.trim()}`);
    const kv = new Map(
      r.stdout
        .toString('utf8')
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    );
    const facts: HostFacts = {
      release: kv.get('release') ?? '?',
      arch: kv.get('arch') ?? '?',
      uid: Number(kv.get('uid')),
      privilege: (kv.get('privilege') as HostFacts['privilege']) ?? 'none',
      kernel: 'unknown',
    };
    this.facts = facts;
    this.gzip = kv.get('gzip') === 'yes';
    if (facts.arch !== 'x86_64') {
      facts.headline = `Not x86_64 (${facts.arch})`;
      facts.problem = `${facts.headline}: the helper that reads the kernel is built for x86_64 only`;
      return facts;
    }
    this.cacheDir = kv.get('cache') ?? '/tmp/sqliteos-companion';
    await this.placeHelper(this.cacheDir);
    try {
      // 548 answers any user on both kernels: whether this is SQLiteOS at all, before asking for root.
      await this.helperRun(['--hello'], false);
      if (facts.privilege === 'none') {
        facts.headline = 'Needs root to read SQLiteOS';
        facts.problem = `${facts.headline}: this is a SQLiteOS kernel, but its debugfs files are root-only and syscall 549 needs CAP_SYS_ADMIN. Connect as root, or allow this user \`sudo\` without a password`;
        return facts;
      }
      if (kindOnly) {
        const kind = (JSON.parse(await this.helperRun(['--kind'])) as { kernel?: string }).kernel;
        if (kind !== 'companion' && kind !== 'upstream') throw new HostError(`${this.shell.label}: sqliteos-inspect --kind said ${JSON.stringify(kind)}`);
        facts.kernel = this.asUpstream ? 'upstream' : kind;
      } else {
        this.probed = await this.snapshot();
        facts.kernel = this.probed.kernel as 'companion' | 'upstream';
      }
    } catch (e) {
      if (!(e instanceof HostError) || !/Function not implemented|ENOSYS/.test(e.message)) throw e;
      facts.kernel = 'none';
      facts.headline = 'No SQLiteOS kernel on this host';
      facts.problem = `${facts.headline}: Linux ${facts.release} here is not a SQLiteOS kernel (syscall 548 is not implemented). Boot the companion kernel (\`sqliteos guest start\` for a local QEMU guest; kernel-scripts/README.md for WSL2) or the published one`;
    }
    return facts;
  }

  /** The helper in <cache>/<hash>/sqliteos-inspect. */
  private async placeHelper(cache: string): Promise<void> {
    this.helperPath = await placeCached(this.shell, cache, 'sqliteos-inspect', this.helper.data(), this.timeoutMs);
  }

  /**
   * Another of our programs, run there as root: placed in the cache like the helper, given `stdin`;
   * `args` may name the helper's path. Fails with the host's problem when it cannot read the kernel.
   */
  async runAsRoot(name: string, data: Buffer, args: (helper: string) => string[], stdin: string, timeoutMs: number): Promise<ExecResult> {
    const path = await this.place(name, data);
    return this.execAsRoot([path, ...args(this.helperPath!)].map(shellQuote).join(' '), stdin, timeoutMs);
  }

  /** Where the helper is there, once the probe placed it. */
  get helperOnHost(): string | undefined {
    return this.helperPath;
  }

  /** A program placed in the cache there (once a session, and only when that exact file is not there): its path. */
  async place(name: string, data: Buffer): Promise<string> {
    if (!this.facts) await this.probe();
    if (this.facts!.problem || !this.helperPath || !this.cacheDir) throw new HostError(`${this.shell.label}: ${this.facts!.problem ?? 'the helper is not in place'}`);
    const key = `${name} ${createHash('sha256').update(data).digest('hex')}`;
    let path = this.placed.get(key);
    if (!path) this.placed.set(key, (path = await placeCached(this.shell, this.cacheDir, name, data, this.timeoutMs)));
    return path;
  }

  /** A shell command there as root (through `sudo -n` where the probe found it is needed). */
  async execAsRoot(command: string, stdin: string, timeoutMs: number): Promise<ExecResult> {
    return this.shell.exec(await this.asRoot(command), { stdin, timeoutMs });
  }

  /** `command` (a shell script) as the command line that runs it as root there. */
  async asRoot(command: string): Promise<string> {
    if (!this.facts) await this.probe();
    if (this.facts!.problem) throw new HostError(`${this.shell.label}: ${this.facts!.problem}`);
    return this.facts!.privilege === 'sudo' ? `sudo -n sh -c ${shellQuote(command)}` : `sh -c ${shellQuote(command)}`;
  }

  private helperRun(args: string[], asRoot = true): Promise<string> {
    return this.helperExec(args, asRoot, false);
  }

  /**
   * Runs the helper (as root where needed); `gzip`: its output compressed there and expanded here. The
   * pipe hides the helper's exit status, so the shell reports it on stderr's last line.
   */
  private async helperExec(args: string[], asRoot: boolean, gzip: boolean): Promise<string> {
    if (!this.facts) await this.probe();
    if (!this.helperPath) throw new HostError(`${this.shell.label}: ${this.facts?.problem ?? 'the helper is not in place'}`);
    if (asRoot && this.facts!.problem) throw new HostError(`${this.shell.label}: ${this.facts!.problem}`);
    const sudo = asRoot && this.facts!.privilege === 'sudo' ? 'sudo -n ' : '';
    const run = `${sudo}${shellQuote(this.helperPath)} ${args.map(shellQuote).join(' ')}`.trim();
    const cmd = gzip ? `{ ${run}; echo "sqliteos-exit:$?" >&2; } | gzip -1 -c` : run;
    const r = await this.shell.exec(cmd, { timeoutMs: this.timeoutMs });
    let stderr = r.stderr;
    let code = r.code;
    if (gzip) {
      const m = /sqliteos-exit:(\d+)\s*$/.exec(stderr);
      code = m ? Number(m[1]) : r.code || 1;
      stderr = stderr.replace(/sqliteos-exit:\d+\s*$/, '');
    }
    if (code !== 0) {
      const why = stderr.trim().replace(/^sqliteos-inspect: /, '') || `exit ${code}`;
      throw new HostError(`${this.shell.label}: sqliteos-inspect: ${why}`);
    }
    return (gzip ? gunzipSync(r.stdout) : r.stdout).toString('utf8');
  }

  /** Milliseconds the last snapshot spent running the helper there and bringing its output here, and parsing it. */
  readonly timing = { fetchMs: 0, parseMs: 0, bytes: 0, compressed: false };

  /** One snapshot: the whole kernel state, read by the helper in one go. */
  async snapshot(): Promise<Snapshot> {
    let t0 = performance.now();
    // Past 64 KiB (a kernel with thousands of processes) the output goes compressed: measured on the QEMU
    // guest with 10,000 processes, 2.8 MB took 2.0 s through SSH and 0.7 s as gzip -1 (0.5 MB).
    const gzip = this.gzip && this.timing.bytes > 64 * 1024;
    const text = await this.helperExec(this.asUpstream ? ['--upstream'] : [], true, gzip);
    this.timing.compressed = gzip;
    this.timing.fetchMs = performance.now() - t0;
    this.timing.bytes = text.length;
    t0 = performance.now();
    const s = this.reader.read(text, `${this.shell.label}: sqliteos-inspect`);
    this.timing.parseMs = performance.now() - t0;
    return s;
  }

  /** One bare command's round trip (`true`): the floor under any poll over this shell. */
  async roundTrip(): Promise<number> {
    const t0 = performance.now();
    await this.shell.exec('true', { timeoutMs: this.timeoutMs });
    return performance.now() - t0;
  }

  /** One read-only statement through 549 (the kernel refuses anything else, and says why). */
  async query(sql: string): Promise<{ columns: string[]; rows: Value[][] }> {
    let text: string;
    try {
      text = await this.helperRun(['--query', sql]);
    } catch (e) {
      // 549's refusals, in words: EPERM is "not read-only" (we run as root), EINVAL bad SQL or too long.
      const m = e instanceof HostError && /\(.*\): (Operation not permitted|Invalid argument)$/.exec(e.message);
      if (!m) throw e;
      const why = m[1] === 'Operation not permitted' ? 'syscall 549 runs only read-only statements' : 'syscall 549 found it invalid (bad SQL, more than one statement, or over 4 KiB)';
      throw new QueryRefused(`${this.shell.label}: the kernel refused '${sql}': ${why}`);
    }
    return parseQueryJson(text, `${this.shell.label}: sqliteos-inspect --query`);
  }
}
