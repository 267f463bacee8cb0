/*
 * The read-only rendering of a syscall's algorithm that "step in" shows: one line per micro-step of the
 * program, in the paper's words where it has them, so the current step can be highlighted.
 */
import type { Program } from '../extension/core/sim/program';

export function renderAlgorithm(profile: string, locks: string, p: Program): string {
  const head = [`# ${p.name} — ${profile} profile, ${locks} lock policy`, `# one line per micro-step; the debugger highlights the step about to run`, ''];
  return head.concat(p.steps.map((s) => `${s.text.padEnd(72)} [${s.kind}: ${s.id}]`)).join('\n') + '\n';
}

/** The 1-based line of a step in renderAlgorithm's output. */
export function algorithmLine(p: Program, stepId: string): number {
  return p.steps.findIndex((s) => s.id === stepId) + 4;
}
