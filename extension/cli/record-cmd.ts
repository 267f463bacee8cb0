/*
 * `sqliteos record --on guest|ssh:DEST|local [--out FILE] [--remote] [--json] [--accept-new] -- PROGRAM [ARG...]`:
 * PROGRAM (a static executable here, placed in the target's cache; with --remote, a path there) runs
 * under the companion kernel's recorder, and what it and its children did to SQL pipes and the tables
 * comes back as a scenario (stdout, or --out FILE, never over a file that exists). Exit 0 recorded; 2
 * when nothing usable came back: no recorder, records lost, or calls the scenario language cannot say
 * (each named with its record); the program's own exit status and output go to stderr.
 */
import * as fs from 'fs';
import { RecordingError } from '../core/record/recording';
import { recordingProblems, recordingToScenario } from '../core/record/to-scenario';
import { recordOnKernel } from '../machines/record-kernel';
import { Cancelled } from '../machines/session-run';
import { CommandSpec, UsageError, parseCommand } from './options';
import { connect, known, managerFor } from './scenario-kernel-cmd';

export const RECORD_SPEC: CommandSpec = {
  name: 'record',
  options: { on: { kind: 'value', value: 'guest|ssh:DEST|local' }, out: { kind: 'value', value: 'FILE' }, remote: { kind: 'flag' }, json: { kind: 'flag' }, 'accept-new': { kind: 'flag' } },
  // the program and its arguments come after `--`; a word before it is named as such below
  positionals: [0, Number.MAX_SAFE_INTEGER],
  forms: [
    {
      args: '-- PROGRAM [ARG...]',
      options: ['on', 'out', 'remote', 'json', 'accept-new'],
      about: 'PROGRAM (a static executable here; --remote: a path there) run under the companion kernel\'s recorder, written as a scenario',
    },
  ],
};

export async function recordCommand(argv: string[], out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const cut = argv.indexOf('--');
  const [mine, command] = cut < 0 ? [argv, []] : [argv.slice(0, cut), argv.slice(cut + 1)];
  const { values: v, positionals } = parseCommand(RECORD_SPEC, mine);
  if (positionals.length || !command.length) throw new UsageError(positionals.length ? `'${positionals[0]}': the program goes after --` : 'which program? (after --)', 'record');
  const outFile = v.out as string | undefined;
  if (outFile && fs.existsSync(outFile)) throw new UsageError(`--out ${outFile} exists: the recording is never written over a file`, 'record');
  const [program, ...args] = command;
  let source;
  if (v.remote) source = { remote: program };
  else {
    if (!fs.existsSync(program) || !fs.statSync(program).isFile()) throw new UsageError(`${program}: no such file here (--remote: a path on the target)`, 'record');
    source = { local: program, data: fs.readFileSync(program) };
  }
  const manager = managerFor(v['accept-new'] === true);
  // Ctrl-C ends the program there and everything it forked, and the recorder stops following.
  const abort = new AbortController();
  // A second Ctrl-C does not wait for the cancel.
  const onSigint = () => (abort.signal.aborted ? process.exit(130) : abort.abort());
  process.on('SIGINT', onSigint);
  try {
    const host = await connect((v.on as string | undefined) ?? 'guest', manager, __dirname);
    const run = await recordOnKernel(host, source, args, undefined, '', abort.signal);
    if (run.output) err(run.output.endsWith('\n') ? run.output : `${run.output}\n`);
    err(`sqliteos record: ${program} exited with ${run.code}; ${run.recording.records.length} records\n`);
    const s = recordingToScenario(run.recording, { command, host: host.shell.label, release: run.release, date: new Date().toISOString().slice(0, 10) });
    const problems = recordingProblems(run.recording, s, run.code);
    if (v.json) out(`${JSON.stringify({ program: command, exit: run.code, lost: run.recording.lost, following: run.recording.following, processes: s.processes, calls: s.calls, notes: s.notes, problems, ...(problems.length ? {} : { scenario: s.source, file: outFile ?? null }) }, null, 2)}\n`);
    if (problems.length) {
      err(`sqliteos record: no scenario written:\n${problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 2;
    }
    if (outFile) fs.writeFileSync(outFile, s.source, { flag: 'wx' });
    else if (!v.json) out(s.source);
    err(`sqliteos record: ${s.processes} process${s.processes === 1 ? '' : 'es'}, ${s.calls} calls${outFile ? ` in ${outFile}` : ''}\n`);
    return 0;
  } catch (e) {
    if (e instanceof Cancelled) {
      err(`sqliteos record: ${e.message}; no scenario written\n`);
      return 130;
    }
    if (known(e) || e instanceof RecordingError) {
      err(`sqliteos record: ${(e as Error).message}\n`);
      return 2;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    manager.closeAll();
  }
}
