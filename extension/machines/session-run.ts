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
 * with the exit status; on abort, kills the session and rejects with Cancelled (naming what survived).
 */
export async function runInSession(shell: Shell, command: string, onLine: (line: string) => void, signal?: AbortSignal): Promise<{ code: number | null }> {
  if (signal?.aborted) throw new Cancelled([]);
  let sid: number | undefined;
  const split = new LineSplitter((line) => {
    const m = /^@@sqliteos sid (\d+)$/.exec(line);
    if (m && sid === undefined) sid = Number(m[1]);
    else onLine(line);
  });
  let killing: Promise<string[]> | undefined;
  const kill = () => {
    killing ??= sid === undefined ? Promise.resolve([]) : killSession(shell, sid);
  };
  signal?.addEventListener('abort', kill);
  try {
    const r = await shell.stream(`echo "@@sqliteos sid $(${SID})"; exec ${command} 2>&1`, (chunk) => split.push(chunk.toString('utf8')));
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

/** Ends every process of session SID there; what is still running afterwards, as "pid name" lines. */
async function killSession(shell: Shell, sid: number): Promise<string[]> {
  const s = String(sid);
  // Never the session this command itself runs in (on this machine: the editor's own).
  const r = await shell.exec(
    `[ "$(${SID})" != ${s} ] && [ ${s} -gt 1 ] || exit 0; pkill -TERM -s ${s}; for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -s ${s} >/dev/null || break; sleep 0.3; done; pkill -KILL -s ${s}; sleep 0.3; pgrep -l -s ${s} || true`,
    { timeoutMs: 30000 },
  );
  return r.stdout.toString('utf8').split('\n').filter(Boolean);
}
