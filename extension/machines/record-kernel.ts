/*
 * A program run under the companion kernel's recorder (debugfs sqliteos/record): placed in the cache
 * there (or a path already there), started by a shell that has the recorder follow its own pid and then
 * execs the program, so every call the program and its children make is recorded from the first. Its
 * stdin is `stdin`; after the program ends, the recording is read once every process it forked is gone
 * too (within the timeout). The whole run is one session there: cancelling (`signal`) ends every process
 * of it, the program's children included, and the recorder stops following (the script's trap).
 */
import { basename } from 'path';
import { HostError, KernelHost, shellQuote } from './kernel-host';
import { runInSession } from './session-run';
import { Recording, parseRecording } from '../core/record/recording';

const RECORDER = '/sys/kernel/debug/sqliteos/record';

export interface RecordedRun {
  recording: Recording;
  /** The program's exit status, and what it printed. */
  code: number;
  output: string;
  release: string;
}

export type ProgramSource = { local: string; data: Buffer } | { remote: string };

/** Runs and records the program; throws Cancelled (naming what survived) when `signal` aborts. */
export async function recordOnKernel(host: KernelHost, program: ProgramSource, args: string[], timeoutMs = 120000, stdin = '', signal?: AbortSignal): Promise<RecordedRun> {
  const facts = host.known ?? (await host.probe());
  if (facts.problem) throw new HostError(`${host.shell.label}: ${facts.problem}`);
  if (facts.kernel !== 'companion') throw new HostError(`${host.shell.label}: runs the ${facts.kernel} SQLiteOS kernel; the recorder is the companion kernel's`);
  const exe = 'remote' in program ? program.remote : await host.place(basename(program.local), program.data);
  const seconds = Math.max(2, Math.floor(timeoutMs / 1000));
  const script = [
    `R=${RECORDER}`,
    '[ -w "$R" ] || { echo "no recorder at $R: a companion kernel older than the recorder?" >&2; exit 97; }',
    // one recording at a time on a kernel: another's is never taken over
    'if grep -q "^following [1-9]" "$R"; then echo "the recorder is following another program (a recording in progress here)" >&2; exit 98; fi',
    `[ -x ${shellQuote(exe)} ] || { echo ${shellQuote(`${exe}: not there or not executable`)} >&2; exit 99; }`,
    // whatever ends this script, the recorder follows nothing after it
    'trap \'echo stop > "$R"; echo clear > "$R"\' EXIT',
    "trap 'exit 143' HUP INT TERM",
    // the program's input, taken whole first (it may be large: a plan's bytes), then given it
    'echo clear > "$R"; out=$(mktemp); in=$(mktemp); cat > "$in"',
    // the program's output to a file (a child it leaves running cannot hold this command open), in a
    // time limit; the half of the time left is for what it forked to end
    `T=; command -v timeout >/dev/null && T="timeout ${Math.ceil(seconds / 2)}"`,
    `$T sh -c 'echo "follow $$" > ${RECORDER} && exec "$0" "$@"' ${[exe, ...args].map(shellQuote).join(' ')} > "$out" 2>&1 < "$in"`,
    'code=$?',
    `i=0; while grep -q '^following [1-9]' "$R" && [ $i -lt ${Math.floor(seconds / 4)} ]; do sleep 1; i=$((i+1)); done`,
    // one stream: the program's output (each line marked), the recording between marks, the exit status
    // (awk ends even an unterminated last line, so the marks below start lines of their own)
    'awk \'{ print "@@out " $0 }\' "$out"; rm -f "$out" "$in"',
    'echo @@recording; cat "$R"; echo @@recording-end',
    'echo "sqliteos-record-exit $code"',
  ].join('\n');
  const lines: string[] = [];
  const timer = AbortSignal.timeout(timeoutMs);
  const both = signal ? AbortSignal.any([signal, timer]) : timer;
  let code: number | null;
  try {
    code = (await runInSession(host.shell, await host.asRoot(script), (l) => lines.push(l), both, stdin, (s) => host.asRoot(s))).code;
  } catch (e) {
    if (timer.aborted && !signal?.aborted) throw new HostError(`${host.shell.label}: the recording did not finish within ${seconds} s (stopped: ${(e as Error).message})`);
    throw e;
  }
  const text = lines.join('\n');
  if (code !== null && code >= 97 && code <= 99) throw new HostError(`${host.shell.label}: ${text.trim()}`);
  const begin = lines.indexOf('@@recording');
  const end = lines.indexOf('@@recording-end', begin);
  const exit = lines.length ? /^sqliteos-record-exit (\d+)$/.exec(lines[lines.length - 1]) : null;
  if (!exit || begin < 0 || end < begin) throw new HostError(`${host.shell.label}: the recording did not finish (exit ${code}): ${text.trim().slice(-300)}`);
  const output = lines.slice(0, begin).map((l) => (l.startsWith('@@out ') ? l.slice(6) : l));
  return {
    recording: parseRecording(`${lines.slice(begin + 1, end).join('\n')}\n`, `${host.shell.label}:${RECORDER}`),
    code: Number(exit[1]),
    output: output.length ? `${output.join('\n')}\n` : '',
    release: facts.release,
  };
}
