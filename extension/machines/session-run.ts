/*
 * Long work on a machine (a build, a boot, a benchmark, a recording), run so that it can be stopped for
 * certain: the command says its session id and pid first, and on cancel every process of its session
 * (OpenSSH gives each command one; on this machine it is spawned detached), or where it has none of its
 * own (dropbear runs a connection's commands in one session) every process under it, is sent TERM,
 * then KILL, and checked gone. Needs only sh, cat, sed and awk, reading /proc (a busybox guest has no
 * pgrep / pkill).
 */
import { StringDecoder } from 'string_decoder';
import { LineSplitter } from '../core/kernel-output/build-log';
import type { Shell } from './kernel-host';

export class Cancelled extends Error {
  constructor(readonly leftBehind: string[]) {
    super(leftBehind.length ? `cancelled, but still running there: ${leftBehind.join('; ')}` : 'cancelled');
  }
}

const SID = `awk '{print $6}' /proc/$$/stat`;

/**
 * Runs `command` (already quoted for sh) with stderr joined to stdout, each line to onLine, and
 * `stdin` as its input. Resolves with the exit status; on abort, kills what it started and rejects
 * with Cancelled (naming what survived): its session where it has one of its own (OpenSSH gives each
 * command one), else the tree of processes under it (dropbear runs every command of a connection in
 * the connection's session). `asRoot`: how to run the kill as the command ran (sudo -n there).
 */
export async function runInSession(
  shell: Shell,
  command: string,
  onLine: (line: string) => void,
  signal?: AbortSignal,
  stdin?: Buffer | string,
  asRoot: (script: string) => string | Promise<string> = (x) => x,
): Promise<{ code: number | null }> {
  if (signal?.aborted) throw new Cancelled([]);
  let started: { sid: number; pid: number } | undefined;
  let killing: Promise<string[]> | undefined;
  // Only once what to kill is known; a cancel before that is acted on when it is.
  const kill = () => {
    if (started && !killing) killing = killStarted(shell, started.sid, started.pid, asRoot).catch((e: Error) => [`(the kill failed: ${e.message})`]);
  };
  const decoder = new StringDecoder('utf8');
  const split = new LineSplitter((line) => {
    const m = /^@@sqliteos sid (\d+) (\d+)$/.exec(line);
    if (m && started === undefined) {
      started = { sid: Number(m[1]), pid: Number(m[2]) };
      if (signal?.aborted) kill();
    } else onLine(line);
  });
  signal?.addEventListener('abort', kill);
  try {
    const r = await shell.stream(`echo "@@sqliteos sid $(${SID}) $$"; exec ${command} 2>&1`, (chunk) => split.push(decoder.write(chunk)), stdin);
    split.push(decoder.end());
    split.end();
    if (signal?.aborted) {
      kill();
      throw new Cancelled(killing ? await killing : []);
    }
    return { code: r.code };
  } finally {
    signal?.removeEventListener('abort', kill);
  }
}

/**
 * Shell functions over /proc (no procps needed: a busybox guest has no pgrep / pkill). procs: one line
 * per task, "pid ppid sid state", from /proc/PID/stat (after the name's last closing parenthesis);
 * in_session SID: the live tasks of that session; tree PID: PID and every live task under it.
 */
const PROC_FUNCTIONS = [
  `procs() { cat /proc/[0-9]*/stat 2>/dev/null | sed -n 's/^\\([0-9]*\\) .*) \\(.\\) \\([0-9]*\\) [0-9]* \\([0-9]*\\) .*/\\1 \\3 \\4 \\2/p'; }`,
  `in_session() { procs | awk -v s="$1" '$3 == s && $4 != "Z" { print $1 }'; }`,
  `tree() { procs | awk -v r="$1" '{ p[$1] = $2; z[$1] = $4 } END { t[r] = 1; for (n = 1; n;) { n = 0; for (x in p) if (!(x in t) && (p[x] in t)) { t[x] = 1; n = 1 } } for (x in t) if ((x in z) && z[x] != "Z") print x }'; }`,
  // of the pids given, those still alive (not zombies)
  `alive() { procs | awk -v l=" $* " 'index(l, " " $1 " ") && $4 != "Z" { print $1 }'; }`,
].join('\n');

/**
 * Ends what a command started there: the session SID when the command had one of its own (looked at
 * again before each signal: what it forks meanwhile goes too), else the tree under PID, taken once
 * (what its processes leave behind when they die goes to init). Never the session this kill itself
 * runs in (on this machine, the editor's own). What is still running afterwards, as "pid name" lines.
 */
async function killStarted(shell: Shell, sid: number, pid: number, asRoot: (script: string) => string | Promise<string>): Promise<string[]> {
  const script = [
    PROC_FUNCTIONS,
    `if [ "$(${SID})" != ${sid} ] && [ ${sid} -gt 1 ]; then them() { in_session ${sid}; }; else t=$(tree ${pid}); them() { alive $t; }; fi`,
    'set -- $(them); [ $# -gt 0 ] || exit 0',
    'kill -TERM "$@" 2>/dev/null',
    'for i in 1 2 3 4 5 6 7 8 9 10; do [ -z "$(them)" ] && break; sleep 0.3; done',
    'set -- $(them); [ $# -gt 0 ] && kill -KILL "$@" 2>/dev/null; sleep 0.3',
    'for p in $(them); do echo "$p $(cat /proc/$p/comm 2>/dev/null)"; done; true',
  ].join('\n');
  const r = await shell.exec(await asRoot(script), { timeoutMs: 30000 });
  return r.stdout.toString('utf8').split('\n').filter(Boolean);
}
