/*
 * Where each process of a scenario run stands, for the editor to mark like a debugger's current line:
 * the statement each live process runs or will run next, whether it is the one the default schedule runs
 * next, and what a blocked process sleeps on. Pure, so what the editor shows is tested without VS Code.
 */
import { queueName } from '../model/model';
import type { ScenarioRun } from './runner';

export interface Mark {
  line: number;
  pid: number;
  kind: 'next' | 'waiting' | 'blocked';
  /** The text after the line: "◀ P1 next", "◀ P2 waits its turn", "◀ P3 blocked on read_q". */
  text: string;
}

export function marksOf(run: ScenarioRun): Mark[] {
  const next = run.nextRunnable();
  const out: Mark[] = [];
  for (const p of Object.values(run.kernel.state.procs)) {
    const s = run.nextStatement(p.pid);
    if (!s) continue;
    if (p.status === 'blocked') out.push({ line: s.line, pid: p.pid, kind: 'blocked', text: `◀ P${p.pid} blocked${p.waitingOn ? ` on ${queueName(p.waitingOn)}` : ''}` });
    else out.push({ line: s.line, pid: p.pid, kind: p.pid === next ? 'next' : 'waiting', text: p.pid === next ? `◀ P${p.pid} runs next` : `◀ P${p.pid} waits its turn` });
  }
  return out.sort((a, b) => a.line - b.line || a.pid - b.pid);
}
