/*
 * The guest checks' console output read as test results: "ok N - what", "not ok N - what (why)", the
 * closing "P passed, F failed", and any kernel report (BUG, WARNING, KASAN, panic, hung task) that fails
 * the run whatever the checks said. No VS Code here: the Testing API and the CLI both read this.
 */
export interface CheckResult {
  n: number;
  name: string;
  ok: boolean;
  why?: string;
}

export interface GuestRun {
  /** The checks the guest said it would run (TAP's "1..N", printed first). */
  plan?: number;
  checks: CheckResult[];
  summary?: { passed: number; failed: number };
  /** Kernel reports with the lines after them. */
  reports: string[];
}

const CHECK = /^(not )?ok (\d+) - (.*)$/;
const PLAN = /^1\.\.(\d+)$/;
const SUMMARY = /^(\d+) passed, (\d+) failed$/;
/** A kernel report in a console or dmesg line: BUG, WARNING (lockdep's reports start so), panic, hung task, KASAN, a leak kmemleak found (the guest checks print its report). */
export const KERNEL_REPORT = /BUG:|WARNING:|Kernel panic|INFO: task .* blocked|general protection|KASAN:|kmemleak: unreferenced object/;

export class GuestChecks {
  readonly run: GuestRun = { checks: [], reports: [] };
  private reportLines = 0;

  /** Reads one console line; returns the check it finished, if any. */
  line(text: string): CheckResult | undefined {
    if (this.reportLines > 0) {
      this.run.reports[this.run.reports.length - 1] += `\n${text}`;
      this.reportLines--;
    }
    if (KERNEL_REPORT.test(text)) {
      this.run.reports.push(text);
      this.reportLines = 12;
      return undefined;
    }
    const p = PLAN.exec(text);
    if (p) {
      this.run.plan = Number(p[1]);
      return undefined;
    }
    const s = SUMMARY.exec(text);
    if (s) {
      this.run.summary = { passed: Number(s[1]), failed: Number(s[2]) };
      return undefined;
    }
    const c = CHECK.exec(text);
    if (!c) return undefined;
    let name = c[3];
    let why: string | undefined;
    if (c[1] && name.endsWith(')')) {
      // "what (why)": the reason is the last balanced parenthesised part (it may hold parentheses).
      let depth = 0;
      for (let i = name.length - 1; i > 0; i--) {
        depth += name[i] === ')' ? 1 : name[i] === '(' ? -1 : 0;
        if (depth === 0) {
          if (name[i - 1] === ' ') [name, why] = [name.slice(0, i - 1), name.slice(i + 1, -1)];
          break;
        }
      }
    }
    const r: CheckResult = { n: Number(c[2]), name, ok: !c[1], why };
    this.run.checks.push(r);
    return r;
  }

  /**
   * Passed only with a plan, a closing line, every planned check seen and counted in it, no failure,
   * and no kernel report: a check that silently did not run fails the run.
   */
  verdict(): { ok: boolean; message: string } {
    const r = this.run;
    const seen = r.checks.length;
    if (r.reports.length) return { ok: false, message: `the kernel logged ${r.reports.length} report(s): ${r.reports[0].split('\n')[0]}` };
    if (r.plan === undefined) return { ok: false, message: `the guest printed no plan line (1..N) before its ${seen} checks` };
    if (!r.summary) return { ok: false, message: `the guest printed no result line after ${seen} of ${r.plan} checks (it crashed or timed out)` };
    if (seen !== r.plan) return { ok: false, message: `${seen} checks ran, ${r.plan} were planned` };
    if (r.summary.passed + r.summary.failed !== seen) return { ok: false, message: `the result line counts ${r.summary.passed + r.summary.failed} checks, ${seen} were printed` };
    const failed = r.checks.filter((c) => !c.ok).length;
    if (r.summary.failed || failed) return { ok: false, message: `${r.summary.passed} passed, ${r.summary.failed} failed` };
    return { ok: true, message: `${r.summary.passed} passed, 0 failed` };
  }
}
