/*
 * An exploration's result as a person reads it, in the CLI and in the document the extension keeps open:
 * what was searched (profile, locks, states, transitions, time, whether every interleaving was seen), the
 * whether the search was reduced, the violation with its (shortest, or shortened) schedule, and what a failed expectation under another order means.
 */
import type { ExploreResult, ScheduleStep } from './explorer';

/** What each kind of violation means, in a sentence a person can act on. */
const MEANING: Record<string, string> = {
  'lost-wakeup': 'A process sleeps for ever although what it waits for is there: the wake-up that should have woken it came before it slept.',
  deadlock: 'Every process left is asleep, each waiting for something only another sleeper could do.',
  invariant: 'The lock state broke one of the rules the lock algorithm promises.',
  expectation: 'A read got other bytes than the scenario expects.',
};

export function exploreReport(file: string, res: ExploreResult, lineText?: (line: number) => string, steps?: ScheduleStep[]): string {
  const out = [
    `${file}: every interleaving, profile ${res.profile}, locks ${res.locks}`,
    '',
    `states       ${res.states}`,
    `transitions  ${res.transitions}`,
    `runs ending without a violation  ${res.complete}`,
    `time         ${(res.ms / 1000).toFixed(2)} s (${(res.states / Math.max(res.ms / 1000, 1e-9)).toFixed(0)} states/s)`,
    `searched     ${res.exhausted ? 'every reachable state' : res.violation ? 'until the first violation' : 'until the state limit (not every interleaving)'}`,
    `reduction    ${res.reduction ? `on: ${res.pruned} choices left out where another process's steps commute with them, ${res.slept} asleep (tried already in an order they commute with)` : 'off: every process tried at every state'}`,
    '',
  ];
  const v = res.violation;
  if (!v) {
    out.push(res.exhausted ? 'No violation in any interleaving.' : 'No violation in the states visited; the search stopped at its limit.');
    return `${out.join('\n')}\n`;
  }
  const text = lineText?.(v.line)?.trim();
  out.push(`${v.kind.toUpperCase()} at line ${v.line}${text ? `: ${text}` : ''}`, `  ${v.message}`);
  if (MEANING[v.kind]) out.push(`  ${MEANING[v.kind]}`);
  out.push('');
  if (v.kind === 'expectation') {
    out.push(
      'An order-dependent expectation: the default schedule passes it, but under this order of the processes the',
      'read gets other bytes. Either the expectation should not depend on who runs first, or the scenario should',
      'force the order (for example, make the reader wait for the writer through a second pipe).',
      '',
    );
  }
  const found = v.shortest === false ? 'schedule found and shortened' : 'shortest schedule found';
  if (steps?.length) {
    out.push(`${found} (${v.schedule.length} micro-steps), in order:`);
    steps.forEach((st, i) => {
      const stmt = lineText?.(st.line)?.trim() || st.statement;
      out.push(`  ${String(i + 1).padStart(2)}. P${st.pid}  line ${st.line}: ${stmt}${st.microSteps > 1 ? `  (${st.microSteps} micro-steps)` : ''}`);
    });
    out.push(`  as pids: ${JSON.stringify(v.schedule)}`, '');
  } else {
    out.push(`${found} (${v.schedule.length} micro-steps, the pid that runs each):`, `  ${JSON.stringify(v.schedule)}`, '');
  }
  out.push('Replay it in the debugger (the lens above, or a launch configuration with this "schedule").');
  return `${out.join('\n')}\n`;
}
