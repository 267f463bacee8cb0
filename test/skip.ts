/*
 * A suite that cannot run here (not root, no sshd, no warm kernel build) says why and is skipped — except
 * under CI (CI set, as .ci/run sets it), where that is a failure: a skipped suite must never read as
 * a pass there.
 */
import { test } from 'node:test';

/** The `skip` option of describe(SUITE): false when it can run; the reason, printed as a skip, when not. */
export function skipUnlessRunnable(suite: string, reason: string | false | undefined): string | false {
  if (!reason) return false;
  if (process.env.CI) {
    test(`${suite}: can run under CI`, () => {
      throw new Error(`${reason} (under CI a suite may not skip)`);
    });
  }
  return reason;
}
