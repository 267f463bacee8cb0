/*
 * The time one SSH connection attempt may take, stopped while the user is being asked something (a
 * host key, a passphrase, a password): ssh2's own handshake timer runs on behind a question, so a user
 * who compared a fingerprint carefully used to find the connection dead behind the dialog.
 */
import type { Prompts } from './auth';

/** Milliseconds left of an attempt, stopped while the user is being asked something. */
export class AttemptClock {
  private timer: NodeJS.Timeout | undefined;
  private left: number;
  private startedAt = 0;
  private open = 0;
  private idlers: (() => void)[] = [];

  constructor(
    ms: number,
    private readonly expire: () => void,
  ) {
    this.left = ms;
    this.run();
  }

  private run(): void {
    this.startedAt = Date.now();
    this.timer = setTimeout(this.expire, this.left);
  }

  /** Runs a question with the clock stopped; it goes on (with at least 5 s) once answered. */
  async asking<T>(q: () => Promise<T>): Promise<T> {
    if (this.open++ === 0 && this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.left -= Date.now() - this.startedAt;
    }
    try {
      return await q();
    } finally {
      if (--this.open === 0) {
        if (this.timer === undefined && this.left !== Infinity) {
          this.left = Math.max(this.left, 5000);
          this.run();
        }
        for (const f of this.idlers.splice(0)) f();
      }
    }
  }

  /** Resolves once no question is open (at once if none is). */
  idle(): Promise<void> {
    return this.open === 0 ? Promise.resolve() : new Promise((r) => this.idlers.push(r));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.left = Infinity;
  }
}

/** The prompts with the attempt's clock stopped while each is open. */
export function timedPrompts(p: Prompts, clock: AttemptClock): Prompts {
  return {
    trustHostKey: (q) => clock.asking(() => p.trustHostKey(q)),
    password: (q) => clock.asking(() => p.password(q)),
    passphrase: (q) => clock.asking(() => p.passphrase(q)),
    keyboardInteractive: (q) => clock.asking(() => p.keyboardInteractive(q)),
  };
}
