/*
 * A program run under the companion kernel's recorder (debugfs sqliteos/record): placed in the cache
 * there (or a path already there), started by a shell that has the recorder follow its own pid and then
 * execs the program, so every call the program and its children make is recorded from the first. Its
 * stdin is `stdin`, its output goes to stderr there, the recording to stdout; after the program ends,
 * the recording is read once every process it forked is gone too (within the timeout).
 */
import { basename } from 'path';
import { HostError, KernelHost, shellQuote } from './kernel-host';
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

export async function recordOnKernel(host: KernelHost, program: ProgramSource, args: string[], timeoutMs = 120000, stdin = ''): Promise<RecordedRun> {
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
    'trap \'echo stop > "$R"; echo clear > "$R"\' EXIT HUP INT TERM',
    'echo clear > "$R"; out=$(mktemp)',
    // the program's output to a file (a child it leaves running cannot hold this command open), in a
    // time limit; the half of the time left is for what it forked to end
    `T=; command -v timeout >/dev/null && T="timeout ${Math.ceil(seconds / 2)}"`,
    `$T sh -c 'echo "follow $$" > ${RECORDER} && exec "$0" "$@"' ${[exe, ...args].map(shellQuote).join(' ')} > "$out" 2>&1${stdin ? '' : ' < /dev/null'}`,
    'code=$?',
    `i=0; while grep -q '^following [1-9]' "$R" && [ $i -lt ${Math.floor(seconds / 4)} ]; do sleep 1; i=$((i+1)); done`,
    'cat "$out" >&2; rm -f "$out"',
    'cat "$R"',
    'echo "sqliteos-record-exit $code" >&2',
  ].join('\n');
  const r = await host.execAsRoot(script, stdin, timeoutMs);
  const err = r.stderr.toString();
  if (r.code !== null && r.code >= 97 && r.code <= 99) throw new HostError(`${host.shell.label}: ${err.trim()}`);
  const m = /sqliteos-record-exit (\d+)\s*$/.exec(err);
  if (!m) throw new HostError(`${host.shell.label}: the recording did not finish (exit ${r.code}): ${err.trim().slice(-300)}`);
  return {
    recording: parseRecording(r.stdout.toString(), `${host.shell.label}:${RECORDER}`),
    code: Number(m[1]),
    output: err.slice(0, m.index),
    release: facts.release,
  };
}
