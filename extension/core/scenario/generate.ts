/*
 * Seeded scenarios for differential runs and fuzzing: 2-5 processes made by forks and threads, 1-3
 * pipes, writes and reads of assorted sizes (one byte up to past the capacity), closes, read
 * transactions, queries and exits, in an order that parses (every process and label exists where it is
 * used) but is otherwise free: a label may name an fd the process never had or has closed, a read may
 * wait for ever. The same seed gives the same text, so a failure is reproduced from its seed alone.
 * Choices added to the language later (O_NONBLOCK pipes, write transactions, rollback, savepoints)
 * draw from a second stream.
 *
 * For the upstream profile (the published kernel, which many scenarios run on one after another
 * without a reboot): no capacity (it has none), writes of at most 100 bytes (its store is one 4 MiB
 * buffer, never emptied: bytes left unread stay), queries whose rows do not depend on what ran before
 * (it keeps every row of every process), and a read transaction holds only queries and ends in a
 * commit (554 without a transaction oopses that kernel, and a process in one does not exit here); no
 * write transaction (there the holder's own pipe call or fork sleeps for ever on the mutex it holds,
 * and the guest with it).
 */

/** mulberry32: a small, fast PRNG; enough for test inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Queries whose answer depends on the scenario only (not on the machine's other processes). */
const QUERIES = ['SELECT count(*) FROM pipe_data', 'SELECT count(*), sum(length(data)) FROM pipe_chunk', 'SELECT fd FROM pid_pipe WHERE dataId = (SELECT max(dataId) FROM pipe_data) ORDER BY fd LIMIT 3'];

/** Queries for the published kernel: true of every machine once the scenario has made a pipe. */
const UPSTREAM_QUERIES = ['SELECT count(*) > 0 AS any FROM pipe_data', 'SELECT 1 AS one', 'SELECT count(*) >= 2 AS both_ends FROM pid_pipe'];

export function generateScenario(seed: number, profile: 'companion' | 'upstream' = 'companion'): string {
  const rnd = prng(seed);
  const later = prng(seed ^ 0x5bd1e995);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const chance = (p: number) => rnd() < p;
  const up = profile === 'upstream';
  const capacity = pick([0, 0, 16, 100, 4096]);
  const cap = up ? 65536 : capacity || 65536;
  const sizes = up ? [1, 3, 8, 17, 100] : [1, 3, 8, 17, 100, 4096, cap, cap + 5].filter((n) => n <= 70000);
  const small = sizes.filter((n) => n <= Math.min(cap / 2, 100));
  const queries = up ? UPSTREAM_QUERIES : QUERIES;
  const out = [`# generated: seed ${seed}`];
  if (up) out.push('@profile upstream');
  else if (capacity) out.push(`@capacity ${capacity}`);
  const alive = [1];
  const inTxn = new Set<number>();
  /** Those in a write transaction (553(8)): their pipe calls go through, everyone else's wait. */
  const writing = new Set<number>();
  const end = (p: number) => {
    inTxn.delete(p);
    writing.delete(p);
    return `P${p} ${!up && later() < 0.3 ? 'rollback' : 'commit'}`;
  };
  /** Each pipe's labels and the bytes written to it less those asked for, as the file reads (a guess: the order may differ). */
  const ends: { r: string; w: string; balance: number }[] = [];
  let nextPid = 2;
  let written = 0;
  const maxProcs = 2 + Math.floor(rnd() * 4);
  const pipe = (p: number) => {
    const n = ends.length;
    ends.push({ r: `r${n}`, w: `w${n}`, balance: 0 });
    // a third of the companion's pipes are O_NONBLOCK (the published kernel has no 558)
    out.push(`P${p} pipe r${n} w${n}${!up && later() < 0.33 ? ' nonblock' : ''}`);
  };
  pipe(1);
  const steps = 8 + Math.floor(rnd() * 18);
  for (let i = 0; i < steps && alive.length; i++) {
    const p = pick(alive);
    const e = pick(ends);
    const r = rnd();
    const fed = ends.filter((x) => x.balance > 0);
    if (inTxn.has(p) && !up && later() < 0.3) {
      // a savepoint, or a release or rollback to one of two names (it may not exist: EINVAL)
      const name = `s${Math.floor(later() * 2)}`;
      out.push(`P${p} ${['savepoint', 'savepoint', 'release', 'rollback to'][Math.floor(later() * 4)]} ${name}`);
      continue;
    }
    if (inTxn.has(p) && !writing.has(p) && (up || chance(0.6))) {
      // Inside its read transaction a process's pipe calls fail (EDEADLK): mostly it queries or commits.
      out.push(chance(0.5) ? end(p) : `P${p} query "${pick(queries)}"`);
      continue;
    }
    if (r < 0.16 && nextPid <= maxProcs) {
      out.push(`P${p} ${chance(0.7) ? 'fork' : 'thread'} P${nextPid}`);
      alive.push(nextPid++);
    } else if (r < 0.22 && ends.length < 3) pipe(p);
    else if (r < 0.5) {
      const n = chance(0.85) ? pick(small) : pick(sizes);
      const data = n < 20 && chance(0.7) ? `"${String.fromCharCode(65 + (written++ % 26)).repeat(n)}"` : String(n);
      out.push(`P${p} write ${e.w} ${data}`);
      e.balance += n;
    } else if (r < 0.72 && (fed.length > 0 || chance(0.15))) {
      // Mostly reads of a pipe with bytes due, at most that many; sometimes any read (it may wait for ever).
      const f = fed.length && chance(0.9) ? pick(fed) : e;
      const n = f.balance > 0 ? Math.min(pick(sizes), f.balance) : pick(sizes);
      out.push(`P${p} read ${f.r} ${n}`);
      f.balance -= n;
    }
    else if (r < 0.72) {
      out.push(`P${p} write ${e.w} "${String.fromCharCode(65 + (written++ % 26))}"`);
      e.balance += 1;
    } else if (r < 0.77) out.push(`P${p} close ${chance(0.5) ? e.r : e.w}`);
    else if (r < 0.86) {
      if (inTxn.has(p)) out.push(end(p));
      else {
        inTxn.add(p);
        if (!up && later() < 0.3) writing.add(p);
        out.push(`P${p} begin${writing.has(p) ? ' write' : ''}`);
      }
    } else if (r < 0.9) out.push(`P${p} query "${pick(queries)}"`);
    else if (r < 0.95 && alive.length > 1 && p !== 1) {
      out.push(`P${p} exit`);
      alive.splice(alive.indexOf(p), 1);
    }
  }
  for (const p of [...inTxn]) if (alive.includes(p) && (up || chance(0.8))) out.push(end(p));
  // Mostly, what was written is read and what was asked for is written before the exits (else most
  // scenarios would end with someone waiting for ever, and the statements after it never run).
  for (const e of ends) {
    if (!alive.length || chance(0.2)) continue;
    if (e.balance > 0) out.push(`P${pick(alive)} read ${e.r} ${e.balance}`);
    else if (e.balance < 0) out.push(`P${pick(alive)} write ${e.w} ${-e.balance}`);
  }
  for (const p of [...alive].reverse()) if (chance(0.7)) out.push(`P${p} exit`);
  return `${out.join('\n')}\n`;
}
