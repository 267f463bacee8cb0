/*
 * A program run under the companion kernel's recorder (debugfs sqliteos/record): placed in the cache
 * there (or a path already there), started by a shell that has the recorder follow its own pid and then
 * execs the program, so every call the program and its children make is recorded from the first. Its
 * stdin is `stdin`, its output goes to stderr there, the recording to stdout; after the program ends,
 * the recording is read once every process it forked is gone too (within the timeout).
 */
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
  const path = 'remote' in program ? program.remote : await host.place(program.local.split('/').pop()!, program.data);
  const waitSeconds = Math.max(1, Math.floor(timeoutMs / 2000));
  const script = [
    `R=${RECORDER}`,
    '[ -w "$R" ] || { echo "no recorder at $R: a companion kernel older than the recorder?" >&2; exit 97; }',
    'echo stop > "$R"; echo clear > "$R"',
    `sh -c 'echo "follow $$" > ${RECORDER} && exec "$0" "$@"' ${[path, ...args].map(shellQuote).join(' ')} 1>&2${stdin ? '' : ' < /dev/null'}`,
    'code=$?',
    // what it forked may outlive it: wait until the recorder follows no one
    `i=0; while grep -q '^following [1-9]' "$R" && [ $i -lt ${waitSeconds} ]; do sleep 1; i=$((i+1)); done`,
    'cat "$R"; echo stop > "$R"; echo clear > "$R"',
    'echo "sqliteos-record-exit $code" >&2',
  ].join('\n');
  const r = await host.execAsRoot(script, stdin, timeoutMs);
  const err = r.stderr.toString();
  if (r.code === 97) throw new HostError(`${host.shell.label}: ${err.trim()}`);
  const m = /sqliteos-record-exit (\d+)\s*$/.exec(err);
  if (!m) throw new HostError(`${host.shell.label}: the recording did not finish (exit ${r.code}): ${err.trim().slice(-300)}`);
  return {
    recording: parseRecording(r.stdout.toString(), `${host.shell.label}:${RECORDER}`),
    code: Number(m[1]),
    output: err.slice(0, m.index),
    release: facts.release,
  };
}
