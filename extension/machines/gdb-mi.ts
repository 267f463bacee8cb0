/*
 * gdb driven over GDB/MI (mi3), the way Cortex-Debug drives it: one process, commands numbered by a
 * token and answered by the result record with that token, async records (`*stopped`, `*running`) as
 * events, console output collected for the command that caused it. Used by the kernel debug adapter
 * (debug-adapter/kernel-session.ts) on QEMU's gdbstub or a saved core.
 */
import { ChildProcess, spawn } from 'child_process';
import { EventEmitter } from 'events';
import * as readline from 'readline';
import { MiParseError, MiRecord, MiTuple, miQuote, parseMiLine } from '../core/gdb/mi';
import { MemoryError } from '../core/memory/layout';
import { PAGE, PageSource, hex } from '../core/memory/memory';

export class GdbError extends Error {}

/** The install line where gdb is missing (Debian and Ubuntu; elsewhere the distribution's gdb package). */
export const GDB_MISSING = 'gdb is not installed: the kernel debugger drives it (sudo apt-get install gdb)';

interface Waiting {
  resolve: (r: MiTuple) => void;
  reject: (e: Error) => void;
  cmd: string;
  console: string[];
}

export class GdbMi extends EventEmitter {
  private token = 1;
  private waiting = new Map<number, Waiting>();
  private current: Waiting | undefined;
  private exited: Error | undefined;

  private constructor(private readonly proc: ChildProcess) {
    super();
    const rl = readline.createInterface({ input: proc.stdout! });
    rl.on('line', (line) => this.line(line));
    proc.stderr!.on('data', (d: Buffer) => this.emit('output', d.toString()));
    proc.on('exit', (code, signal) => {
      this.exited = new GdbError(`gdb exited (${signal ?? `status ${code}`})`);
      for (const w of this.waiting.values()) w.reject(this.exited);
      this.waiting.clear();
      this.emit('exit');
    });
  }

  /** Starts gdb on a program (vmlinux) with no init files; rejects with the install line if there is no gdb. */
  static start(program: string, gdb = 'gdb'): Promise<GdbMi> {
    return new Promise((resolve, reject) => {
      const proc = spawn(gdb, ['--interpreter=mi3', '-nx', '-q', program], { stdio: ['pipe', 'pipe', 'pipe'] });
      proc.once('error', (e) => reject((e as NodeJS.ErrnoException).code === 'ENOENT' ? new GdbError(GDB_MISSING) : e));
      proc.once('spawn', () => {
        const g = new GdbMi(proc);
        // gdb reads the whole vmlinux's symbols before its first answer: the first command waits for that
        g.command('-gdb-set pagination off').then(() => resolve(g), reject);
      });
    });
  }

  private line(line: string): void {
    let r: MiRecord;
    try {
      r = parseMiLine(line);
    } catch (e) {
      if (e instanceof MiParseError) this.emit('output', `${line}\n`);
      return;
    }
    switch (r.kind) {
      case 'prompt':
        return;
      case 'console':
      case 'target':
      case 'log':
        this.current?.console.push(r.text);
        this.emit('output', r.text, r.kind);
        return;
      case 'result': {
        const w = r.token !== undefined ? this.waiting.get(r.token) : undefined;
        if (!w) return;
        this.waiting.delete(r.token!);
        if (this.current === w) this.current = undefined;
        if (r.class === 'error') w.reject(new GdbError(`${w.cmd.split(' ')[0]}: ${String(r.results.msg ?? 'error')}`));
        else w.resolve({ ...r.results, console: w.console.join('') });
        return;
      }
      default:
        this.emit(r.kind, r.class, r.results);
    }
  }

  /** One MI command; its result's fields (and `console`: what it printed). */
  command(cmd: string): Promise<MiTuple> {
    if (this.exited) return Promise.reject(this.exited);
    const token = this.token++;
    return new Promise((resolve, reject) => {
      const w: Waiting = { resolve, reject, cmd, console: [] };
      this.waiting.set(token, w);
      this.current = w;
      this.proc.stdin!.write(`${token}${cmd}\n`);
    });
  }

  /** A CLI command (as typed at gdb's prompt); its console output. */
  async cli(text: string): Promise<string> {
    return String((await this.command(`-interpreter-exec console ${miQuote(text)}`)).console ?? '');
  }

  async exit(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.once('exit', () => r()));
    this.proc.stdin!.write('-gdb-exit\n');
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(timer);
  }
}

/** The halted kernel's memory as gdb reads it (the gdbstub is gdb's while a session holds it). */
export class GdbMemory implements PageSource {
  readonly name: string;
  constructor(
    private readonly gdb: GdbMi,
    where: string,
  ) {
    this.name = `gdb on ${where}`;
  }

  async read(addr: bigint, len: number): Promise<Buffer> {
    let r: MiTuple;
    try {
      r = await this.gdb.command(`-data-read-memory-bytes ${hex(addr)} ${len}`);
    } catch (e) {
      throw new MemoryError(`${this.name}: cannot read ${len} bytes at ${hex(addr)}: ${(e as Error).message}`);
    }
    const blocks = Array.isArray(r.memory) ? (r.memory as MiTuple[]) : [];
    const out = Buffer.alloc(len);
    let got = 0;
    for (const b of blocks) {
      const off = Number(BigInt(String(b.begin)) - addr) + Number(BigInt(String(b.offset ?? '0x0')));
      const data = Buffer.from(String(b.contents), 'hex');
      data.copy(out, off);
      got += data.length;
    }
    if (got < len) throw new MemoryError(`${this.name}: ${hex(addr)}: ${got} of ${len} bytes readable`);
    return out;
  }

  page(addr: bigint): Promise<Buffer> {
    return this.read(addr, Number(PAGE));
  }
}
