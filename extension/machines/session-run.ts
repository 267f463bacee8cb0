/*
 * Long work on a machine (a build, a boot, a benchmark), run so that it can be stopped for certain: the
 * command runs in a session of its own there (sshd and dropbear give each command one; on this machine
 * it is spawned detached), says its session id first, and on cancel every process of that session is
 * sent TERM, then KILL, and the session is checked empty. Needs only sh, awk and pkill/pgrep (procps or
 * busybox), so it works in the busybox guest too.
 */
import { LineSplitter } from '../core/kernel-output/build-log';
import type { Shell } from './kernel-host';

export class Cancelled extends Error {
  constructor(readonly leftBehind: string[]) {
    super(leftBehind.length ? `cancelled, but still running there: ${leftBehind.join('; ')}` : 'cancelled');
  }
}

const SID = `awk '{print $6}' /proc/$$/stat`;

/**
 * Runs `command` (already quoted for sh) with stderr joined to stdout, each line to onLine. Resolves
 * with the exit status; on abort, kills what it started and rejects with Cancelled (naming what
 * survived): its session where it has one of its own (OpenSSH gives each command one), else the tree of
 * processes under it (dropbear runs every command of a connection in the connection's session).
 */
export async function runInSession(shell: Shell, command: string, onLine: (line: string) => void, signal?: AbortSignal, stdin?: Buffer | string): Promise<{ code: number | null }> {
  if (signal?.aborted) throw new Cancelled([]);
  let started: { sid: number; pid: number } | undefined;
  const split = new LineSplitter((line) => {
    const m = /^@@sqliteos sid (\d+) (\d+)$/.exec(line);
    if (m && started === undefined) started = { sid: Number(m[1]), pid: Number(m[2]) };
    else onLine(line);
  });
  let killing: Promise<string[]> | undefined;
  const kill = () => {
    killing ??= started === undefined ? Promise.resolve([]) : killStarted(shell, started.sid, started.pid);
  };
  signal?.addEventListener('abort', kill);
  try {
    const r = await shell.stream(`echo "@@sqliteos sid $(${SID}) $$"; exec ${command} 2>&1`, (chunk) => split.push(chunk.toString('utf8')), stdin);
    split.end();
    if (signal?.aborted) {
      kill();
      throw new Cancelled(await killing!);
    }
    return { code: r.code };
  } finally {
    signal?.removeEventListener('abort', kill);
  }
}

/**
 * Shell functions over /proc (no procps needed: a busybox guest has no pgrep / pkill). A task's
 * parent and session are the second and fourth fields after its name's closing parenthesis in
 * /proc/PID/stat. in_session SID: its pids; tree PID: PID and every process under it.
 */
const PROC_FUNCTIONS = [
  `field() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f"$2"; }`,
  'in_session() { for d in /proc/[0-9]*; do [ "$(field "${d#/proc/}" 4)" = "$1" ] && echo "${d#/proc/}"; done; }',
  'tree() { l=$1; n=$1; while [ -n "$n" ]; do m=; for d in /proc/[0-9]*; do p=$(field "${d#/proc/}" 2); for x in $n; do [ "$p" = "$x" ] && m="$m ${d#/proc/}"; done; done; l="$l $m"; n=$m; done; for x in $l; do [ -d /proc/$x ] && echo $x; done; }',
].join('\n');

/**
 * Ends what a command started there: the session SID when the command had one of its own, else the
 * tree under PID (never the session this kill itself runs in: on this machine, the editor's own). What
 * is still running afterwards, as "pid name" lines.
 */
async function killStarted(shell: Shell, sid: number, pid: number): Promise<string[]> {
  const r = await shell.exec(
    [
      PROC_FUNCTIONS,
      `if [ "$(${SID})" != ${sid} ] && [ ${sid} -gt 1 ]; then them() { in_session ${sid}; }; else them() { tree ${pid}; }; fi`,
      // a tree is taken once: what its processes leave behind when they die goes to init
      'set -- $(them); [ $# -gt 0 ] || exit 0',
      'kill -TERM "$@" 2>/dev/null',
      'for i in 1 2 3 4 5 6 7 8 9 10; do left=; for p in "$@"; do [ -d /proc/$p ] && left=1; done; [ -z "$left" ] && break; sleep 0.3; done',
      'kill -KILL "$@" 2>/dev/null; sleep 0.3',
      'for p in "$@"; do [ -d /proc/$p ] && echo "$p $(cat /proc/$p/comm 2>/dev/null)"; done; true',
    ].join('\n'),
    { timeoutMs: 30000 },
  );
  return r.stdout.toString('utf8').split('\n').filter(Boolean);
}
