/*
 * What kernel.sh and make print, read line by line: the driver's "@@sqliteos" lines (step, total, image,
 * missing packages, tree facts), each object make compiles (progress: done of the dry run's total), and
 * the compiler's diagnostics, with the paths the build machine printed mapped back to the patch files the
 * user edits (the tree's sqliteos/ is a copy of kernel-scripts/sqliteos/). No VS Code here.
 */
import * as posix from 'path/posix';

export type Severity = 'error' | 'warning' | 'note';

export interface Diagnostic {
  /** As the compiler printed it, made absolute against the directory make ran in. */
  file: string;
  line: number;
  column: number;
  severity: Severity;
  message: string;
}

export type BuildEvent =
  | { kind: 'driver'; key: string; value: string }
  | { kind: 'object'; path: string; done: number }
  | { kind: 'diagnostic'; diagnostic: Diagnostic };

const DRIVER = /^@@sqliteos (\S+) ?(.*)$/;

/** A line kernel.sh prints for its driver ("@@sqliteos KEY VALUE"), or undefined for the log's lines. */
export function driverLine(text: string): { key: string; value: string } | undefined {
  const d = DRIVER.exec(text);
  return d ? { key: d[1], value: d[2] } : undefined;
}
// Kbuild's quiet output: "  CC      kernel/fork.o", "  AS      arch/x86/entry/entry_64.o", "  CC [M]  ...".
const OBJECT = /^ {2}(CC|AS)( \[M\])? +(\S+\.o)$/;
const GCC = /^(.+?):(\d+):(?:(\d+):)? (fatal error|error|warning|note): (.*)$/;
const ENTER = /^make(?:\[\d+\])?: Entering directory '(.+)'$/;

export class BuildLog {
  private objects = 0;
  /** make's current directory (the out dir with O=, else the tree): relative paths resolve against it. */
  private cwd: string;

  constructor(cwd = '/') {
    this.cwd = cwd;
  }

  get done(): number {
    return this.objects;
  }

  line(text: string): BuildEvent | undefined {
    const d = driverLine(text);
    if (d) return { kind: 'driver', ...d };
    const enter = ENTER.exec(text);
    if (enter) {
      this.cwd = enter[1];
      return undefined;
    }
    const o = OBJECT.exec(text);
    if (o) return { kind: 'object', path: o[3], done: ++this.objects };
    const g = GCC.exec(text);
    if (g && !g[1].startsWith('make') && !/\s/.test(g[1])) {
      const severity: Severity = g[4] === 'note' ? 'note' : g[4] === 'warning' ? 'warning' : 'error';
      const file = posix.resolve(this.cwd, g[1]);
      return { kind: 'diagnostic', diagnostic: { file, line: Number(g[2]), column: Number(g[3] ?? 1), severity, message: g[5] } };
    }
    return undefined;
  }
}

/** Splits a stream of chunks into whole lines (a trailing part waits for the rest). */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const p of parts) this.onLine(p.endsWith('\r') ? p.slice(0, -1) : p);
  }
  end(): void {
    if (this.rest) this.onLine(this.rest);
    this.rest = '';
  }
}

/** Where a build machine's file is for the user: in the patch they applied, or only over there. */
export interface MappedFile {
  /** A path on this machine (the patch's own file, or the same path for a local build), or undefined. */
  local?: string;
  /** The path on the build machine, as printed. */
  remote: string;
}

// Files apply.sh writes from something else (the edited SQLite amalgamation): not the patch's own text.
const GENERATED = new Set(['sqlite3.c', 'sqlite3.h', 'sqlite.flags']);

/**
 * Maps a build machine's path to the patch directory the tree was patched from: TREE/sqliteos/X is
 * PATCH/sqliteos/X and TREE/include/linux/sqliteos.h is PATCH/include/linux/sqliteos.h. Other files stay
 * where they are: on this machine for a local build, and nowhere here for a remote one.
 */
export function mapBuildPath(file: string, tree: string, patchDir: string, local: boolean, join: (...p: string[]) => string): MappedFile {
  const t = tree.replace(/\/+$/, '');
  if (file.startsWith(`${t}/sqliteos/`)) {
    const rest = file.slice(t.length + '/sqliteos/'.length);
    if (!GENERATED.has(rest)) return { local: join(patchDir, 'sqliteos', ...rest.split('/')), remote: file };
  }
  if (file === `${t}/include/linux/sqliteos.h`) return { local: join(patchDir, 'include', 'linux', 'sqliteos.h'), remote: file };
  return { local: local ? file : undefined, remote: file };
}
