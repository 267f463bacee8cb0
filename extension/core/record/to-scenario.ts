/*
 * A recording made a scenario: the recorded process is P1, each process it (or a child) forked the next
 * P in the order of the forks; each pipe's ends are labels (r / w, or r1 / w1, r2 / w2 ... with more
 * than one pipe), shared by every process, as the language has them; the calls in the order the tables
 * saw them (a read's and a write's taken under the kernel's locks), each read with `==` the bytes it got,
 * and a call that failed or wrote less than it was given with `==` what it returned (an errno by
 * name, or the count). What the language cannot say (a call cut short by a signal,
 * O_NONBLOCK set after the pipe was made, bytes the recorder did not keep) is refused,
 * naming the record; what it need not say (close-on-exec without an exec) is kept with a note. Nothing
 * is dropped.
 */
import { showBytes } from '../scenario/bytes';
import { SAVEPOINT_NAME, parseScenario, patternBytes } from '../scenario/parser';
import { Err, errnoName } from '../sim/types';
import { CallRecord, Recording, fnv1a64 } from './recording';

export interface RecordedProgram {
  /** The program and its arguments as run, the machine and its kernel release, when. */
  command: string[];
  host: string;
  release: string;
  date: string;
}

export interface Refusal {
  record: CallRecord;
  why: string;
}

export interface RecordedScenario {
  source: string;
  processes: number;
  calls: number;
  /** What the scenario keeps with a note (also in its header). */
  notes: string[];
  refusals: Refusal[];
}

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const errName = (r: number) => errnoName(r) ?? (RESTART.has(-r) ? `ERESTART (${-r})` : `errno ${-r}`);
/** The errors a replay gets too, so a recording expects them by name: a closed or wrong end, no reader, its own transaction. */
const REPLAYED = new Set<number>([Err.EBADF, Err.EPIPE, Err.EDEADLK]);
/** -ERESTARTSYS .. -ERESTART_RESTARTBLOCK: a sleep cut by a signal; the call is made again and recorded again. */
const RESTART = new Set([512, 513, 514, 516]);

/**
 * A call's bytes as the language writes them: a count where they are its pattern (also past the bytes
 * kept, by the digest of all of them), else a string or hex literal; undefined if not all were kept.
 */
function literal(r: CallRecord, n: number): string | undefined {
  const p = patternBytes(n);
  if (r.data.length < n) return r.digest !== undefined && r.digest === fnv1a64(p) ? String(n) : undefined;
  const b = r.data.subarray(0, n);
  if (n >= 8 && b.every((v, i) => v === p[i])) return String(n);
  return showBytes(b, n);
}

function sqlString(sql: Uint8Array): string | undefined {
  const s = showBytes(sql, sql.length);
  return s.startsWith('"') ? s : undefined;
}

export function recordingToScenario(rec: Recording, prog: RecordedProgram): RecordedScenario {
  const refusals: Refusal[] = [];
  const notes: string[] = [];
  const refuse = (r: CallRecord, why: string) => refusals.push({ record: r, why });
  // In the order the tables saw them: a replay in that order gives each read the bytes it got.
  const records = [...rec.records].sort((a, b) => a.seq - b.seq);

  // Processes: the one no fork made is P1, then each child in the order of its fork.
  const children = new Set(records.filter((r) => r.op === 'fork').map((r) => r.args[0]));
  const roots = [...new Set(records.map((r) => r.pid))].filter((p) => !children.has(p));
  const names = new Map<number, number>();
  if (roots.length) names.set(roots[0], 1);
  for (const r of records) if (r.op === 'fork' && !names.has(r.args[0])) names.set(r.args[0], names.size + 1);
  const P = (pid: number) => `P${names.get(pid)}`;

  // Pipes: labels in the order they were made. A dataId is used again once a pipe's rows are gone,
  // so each call takes the label of the pipe its dataId named when it ran (records are in that order).
  const made = records.filter((r) => r.op === 'pipe' && r.result === 0);
  const labelsOf = new Map<CallRecord, [string, string]>();
  made.forEach((r, i) => labelsOf.set(r, made.length === 1 ? ['r', 'w'] : [`r${i + 1}`, `w${i + 1}`]));
  // A dataId's pipe now: its labels, or why its calls are refused with it.
  const current = new Map<number, [string, string] | string>();
  const end = (r: CallRecord, which: 0 | 1): string | undefined => {
    const l = current.get(r.args[0]);
    if (typeof l === 'string') refuse(r, `a call on ${l}`);
    else if (!l) refuse(r, `pipe ${r.args[0]} was made before the recording began (its ends have no label)`);
    return typeof l === 'object' ? l[which] : undefined;
  };

  const lines: string[] = [];
  let cloexec = false;
  /** dataIds whose pipe now was made with O_NONBLOCK. */
  const nonblocking = new Set<number>();
  for (const r of records) {
    if (roots.length > 1 && r.pid !== roots[0] && !names.has(r.pid)) {
      refuse(r, `pid ${r.pid} was followed but made by no recorded fork`);
      continue;
    }
    const p = P(r.pid);
    // EAGAIN is replayed where the pipe was made O_NONBLOCK (fcntl's F_SETFL is not recorded)
    const nonblock = (r.op === 'read' || r.op === 'write') && nonblocking.has(r.args[0]);
    const expected = r.result < 0 && (REPLAYED.has(r.result) || (r.result === Err.EAGAIN && nonblock)) ? ` == ${errName(r.result)}` : undefined;
    const interrupted = r.result === Err.EINTR || (r.result === Err.EAGAIN && !nonblock);
    if (RESTART.has(-r.result)) {
      // Nothing happened: the kernel makes the call again after the signal, and records it again.
      notes.push(`record ${r.seq}: ${p} ${r.op} was cut by a signal and made again (the record of the first try is left out)`);
      continue;
    }
    switch (r.op) {
      case 'pipe':
        if (r.result < 0) refuse(r, `a pipe that failed (${errName(r.result)}): the language has no failing pipe`);
        else {
          if (r.args[1] & O_CLOEXEC) cloexec = true;
          const [rl, wl] = labelsOf.get(r)!;
          current.set(r.args[0], [rl, wl]);
          if (r.args[1] & O_NONBLOCK) nonblocking.add(r.args[0]);
          else nonblocking.delete(r.args[0]);
          lines.push(`${p} pipe ${rl} ${wl}${r.args[1] & O_NONBLOCK ? ' nonblock' : ''}`);
        }
        break;
      case 'read': {
        const l = end(r, 0);
        if (!l) break;
        if (interrupted) {
          refuse(r, `a read that returned ${errName(r.result)} on a pipe made without O_NONBLOCK (a signal, or F_SETFL, which is not recorded): not in the scenario language yet`);
          break;
        }
        if (r.result < 0) {
          // only the errors a replay gets too are expected as they were
          if (expected) lines.push(`${p} read ${l} ${r.args[1]}${expected}`);
          else refuse(r, `a read that failed with ${errName(r.result)}: a replay would read`);
          break;
        }
        const got = r.result ? literal(r, r.result) : '""';
        if (got === undefined) notes.push(`statement ${lines.length + 1}: a read of ${r.result} bytes, ${r.data.length} kept (sqliteos.record_bytes): it has no expectation (their digest: ${r.digest ?? 'not read'})`);
        lines.push(`${p} read ${l} ${r.args[1]}${got === undefined ? '' : ` == ${got}`}`);
        break;
      }
      case 'write': {
        const l = end(r, 1);
        if (!l) break;
        const bytes = r.args[1] ? literal(r, r.args[1]) : undefined;
        if (interrupted) refuse(r, `a write that returned ${errName(r.result)} on a pipe made without O_NONBLOCK (a signal, or F_SETFL, which is not recorded): not in the scenario language yet`);
        else if (r.result < 0 && !expected) refuse(r, `a write that failed with ${errName(r.result)}: a replay would write`);
        else if (r.args[1] === 0) refuse(r, 'a write of 0 bytes: the language writes at least one');
        else if (bytes === undefined) refuse(r, `a write of ${r.args[1]} bytes, ${r.data.length} kept (raise sqliteos.record_bytes)`);
        // a short write replays as one on an O_NONBLOCK pipe; on another it was cut by a signal or an EPIPE
        else lines.push(`${p} write ${l} ${bytes}${expected ?? (r.result < r.args[1] ? (nonblock ? ` == ${r.result}` : `  # the kernel wrote ${r.result} of them`) : '')}`);
        break;
      }
      case 'close': {
        const l = end(r, r.args[1] ? 1 : 0);
        if (l) lines.push(`${p} close ${l}${r.result < 0 ? ` == ${errName(r.result)}` : ''}`);
        break;
      }
      case 'fork':
        lines.push(`${p} ${r.args[1] ? 'thread' : 'fork'} ${P(r.args[0])}`);
        break;
      case 'exit':
        lines.push(`${p} exit`);
        break;
      case 'begin':
        if (r.args[0] !== 4 && r.args[0] !== 8) refuse(r, `553(${r.args[0]}): the language has read (4) and write (8) transactions`);
        else if (r.result < 0) refuse(r, `a begin that failed with ${errName(r.result)}: a replay would begin`);
        else lines.push(`${p} begin${r.args[0] === 8 ? ' write' : ''}`);
        break;
      case 'commit': {
        const verb = r.args[0] === 1 ? 'commit' : 'rollback';
        if (r.result < 0) refuse(r, `a ${verb} that failed with ${errName(r.result)}: a replay would end the transaction`);
        else lines.push(`${p} ${verb}`);
        break;
      }
      case 'query': {
        // One NUL at the end is the C string's end, passed as the published 549 needs it (it runs
        // exactly the bytes it is given as a C string); it is not part of the SQL.
        const nul = r.data.length === r.bytes && r.bytes > 1 && r.data[r.bytes - 1] === 0;
        const s = sqlString(nul ? r.data.subarray(0, r.bytes - 1) : r.data);
        if (!s || r.data.length < r.bytes || !r.bytes) refuse(r, 'a query whose SQL the language cannot quote (empty, control or non-ASCII bytes, or not kept whole)');
        else lines.push(`${p} query ${s}${r.result < 0 ? `  # the kernel returned ${errName(r.result)}` : ''}`);
        break;
      }
      case 'savepoint':
      case 'release':
      case 'rollback_to': {
        const name = Buffer.from(r.data).toString('latin1');
        const verb = r.op === 'rollback_to' ? 'rollback to' : r.op;
        if (!SAVEPOINT_NAME.test(name) || r.data.length < r.bytes) refuse(r, `a savepoint name the language cannot write (letters, digits and _, at most 64): ${JSON.stringify(name)}`);
        // an unknown name fails the replay too (EINVAL)
        else if (r.result < 0 && r.result !== Err.EINVAL) refuse(r, `a ${verb} that failed with ${errName(r.result)}: a replay would not fail`);
        else lines.push(`${p} ${verb} ${name}${r.result < 0 ? ` == ${errName(r.result)}` : ''}`);
        break;
      }
    }
  }
  if (cloexec) notes.push('a pipe was made with O_CLOEXEC; the recording has no exec, so it changed nothing here');
  const header = [
    `# Recorded by \`sqliteos record\` on ${prog.host} (kernel ${prog.release}), ${prog.date}:`,
    `#   ${prog.command.map((a) => (/^[\w./:=@%+,-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`,
    `# ${names.size} process${names.size === 1 ? '' : 'es'}, ${records.length} calls, in the order the kernel's tables saw them. A recording keeps the`,
    '# calls on SQL pipes and the tables and their bytes; not timing, other syscalls, or control flow',
    '# that depended on what was read (a replay makes these calls whatever it reads).',
    ...notes.map((n) => `# Note: ${n}.`),
  ];
  const source = `${[...header, ...lines].join('\n')}\n`;
  // The scenario must read back as what was written: anything else is a fault of ours, named, not a file.
  const back = parseScenario(source, 'the recording');
  if (!back.ok && records.length) for (const e of back.errors) refusals.push({ record: records[0], why: `the scenario written from the recording does not parse (${e.message} at its line ${e.line}): a fault of sqliteos record` });
  return { source, processes: names.size, calls: records.length, notes, refusals };
}

/** Why a recording cannot be a scenario, one line each; empty when it can. */
export function recordingProblems(rec: Recording, s: RecordedScenario, exitCode: number): string[] {
  const only = rec.records.every((r) => r.op === 'exit');
  return [
    ...(rec.records.length ? [] : ['nothing was recorded (not even an exit): the recorder did not follow the program']),
    ...(exitCode >= 126 && only ? [`the program did not run (exit ${exitCode}: not found, not executable, or no loader for it there)`] : []),
    ...(rec.lost ? [`the recorder lost ${rec.lost} record${rec.lost === 1 ? '' : 's'} (past sqliteos.record_max records or 64 MiB of bytes): the scenario would miss calls`] : []),
    ...(rec.following ? [`${rec.following} process${rec.following === 1 ? ' was' : 'es were'} still running when the recording was read: their later calls are missing`] : []),
    ...s.refusals.map((x) => `record ${x.record.seq} (line ${x.record.line}: pid ${x.record.pid} ${x.record.op}): ${x.why}`),
  ];
}
