/*
 * A real kernel as a Target: an SSH host or this machine, read one snapshot per poll. All views read the
 * same snapshot; polls run only while a view is visible, never two at once; only what changed between two
 * snapshots is announced. When the connection drops, the last good snapshot stays on show marked stale
 * (with its time) while reconnecting with backoff; it never turns into an empty view.
 */
import { Snapshot } from '../core/model/model';
import { diffSnapshots, holdBusyTables } from '../core/model/diff';
import { HostFacts, KernelHost, Shell } from '../machines/kernel-host';
import type { Helper } from '../machines/kernel-host';
import { Change, Disposer, NotShown, QueryRows, TablePage, Target, TargetError, TargetInfo, ChangeListeners } from './target';
import { locksOf, processesOf, queuesOf, rowOf, tablePageOf } from './snapshot-reads';

/** Where the shell comes from: an SSH connection (reopened after a drop) or this machine. */

/** How often the published kernel's tables are read, and why not more often. */
export const UPSTREAM_POLL_MS = 60000;
export const UPSTREAM_POLL_WHY = "read once a minute: every query the published kernel runs (syscall 549) leaks its connection (about 200 KiB), and a snapshot takes five to seven; Refresh reads it now";

export interface ShellSource {
  kind: 'ssh' | 'local';
  label: string;
  /** Opens (or reopens) the shell; `onDrop` is called once if it goes away. */
  open(onDrop: (why: string) => void): Promise<Shell>;
  close(): void;
}

export interface RemoteOptions {
  pollIntervalMs: () => number;
  /** Read the kernel through 549 only, as the published kernel is read. */
  upstream?: boolean;
  /** Backoff between reconnect attempts: first, and the cap. */
  backoffMs?: [number, number];
  now?: () => number;
}

function empty(c: Change): boolean {
  return !c.tables && !c.locks && !c.waitQueues && !c.processes && !c.target;
}

export class RemoteTarget implements Target {
  private host: KernelHost | undefined;
  private facts: HostFacts | undefined;
  private snap: Snapshot | undefined;
  private state: 'connecting' | 'connected' | 'disconnected' | 'closed' = 'connecting';
  private stale: { since: number; reason: string } | undefined;
  private readonly listeners = new ChangeListeners();
  private active = false;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private backoff: number;

  constructor(
    private readonly source: ShellSource,
    private readonly helper: Helper,
    private readonly opts: RemoteOptions,
  ) {
    this.backoff = opts.backoffMs?.[0] ?? 1000;
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** Connects, probes the host and takes the first snapshot; a connection or auth failure is thrown. */
  async start(): Promise<HostFacts> {
    await this.connect();
    if (!this.facts!.problem && !this.snap) await this.poll();
    return this.facts!;
  }

  private async connect(): Promise<void> {
    this.state = 'connecting';
    const shell = await this.source.open((why) => this.dropped(why));
    this.host = new KernelHost(shell, this.helper, undefined, this.opts.upstream);
    this.facts = await this.host.probe();
    this.state = 'connected';
    // A host with nothing to show has nothing old on show either; otherwise the next poll clears it.
    if (this.facts.problem) this.stale = undefined;
    this.backoff = this.opts.backoffMs?.[0] ?? 1000;
    // The probe read the whole kernel to learn its kind: that is the first snapshot, not thrown away.
    const first = this.host.takeProbedSnapshot();
    if (first) this.accept(first);
    this.fire({ target: true });
  }

  private dropped(why: string): void {
    if (this.state === 'closed') return;
    this.state = 'disconnected';
    this.stale = { since: this.snap?.takenAt ?? this.now(), reason: why };
    this.fire({ target: true });
    this.schedule(this.backoff);
  }

  /** Polling runs only while a SQLiteOS view is visible. */
  setVisible(visible: boolean): void {
    this.active = visible;
    if (visible) this.schedule(0);
    else if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private schedule(ms: number): void {
    if (this.timer || this.state === 'closed') return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.tick();
    }, ms);
  }

  private async tick(): Promise<void> {
    if (this.state === 'closed') return;
    if (this.state === 'disconnected') {
      try {
        await this.connect();
      } catch (e) {
        this.stale = { since: this.stale?.since ?? this.now(), reason: (e as Error).message };
        const cap = this.opts.backoffMs?.[1] ?? 30000;
        this.backoff = Math.min(this.backoff * 2, cap);
        this.fire({ target: true });
        this.schedule(this.backoff);
        return;
      }
    }
    if (this.active && !this.facts?.problem) {
      await this.poll().catch(() => undefined);
      if (this.active) this.schedule(this.pollEvery());
    }
  }

  /**
   * The published kernel's 549 never closes the connection it opens, and a snapshot of its tables takes
   * five to seven calls: polled every second, the views alone would eat the guest's memory (about 200
   * KiB a call) in minutes. Its tables are read once a minute; Refresh reads them now.
   */
  private pollEvery(): number {
    return this.facts?.kernel === 'upstream' ? Math.max(this.opts.pollIntervalMs(), UPSTREAM_POLL_MS) : this.opts.pollIntervalMs();
  }

  /** One poll; a second call while one runs waits for it instead of starting another. */
  poll(): Promise<void> {
    this.polling ??= this.pollOnce().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async pollOnce(): Promise<void> {
    if (!this.host || this.state !== 'connected') throw new TargetError(`${this.source.label}: not connected`);
    let next: Snapshot;
    try {
      next = await this.host.snapshot();
    } catch (e) {
      if (this.state === 'connected') {
        this.stale = { since: this.snap?.takenAt ?? this.now(), reason: (e as Error).message };
        this.fire({ target: true });
      }
      throw e;
    }
    this.accept(next);
  }

  /** A new snapshot: busy tables keep their last rows, only what changed is announced, stale ends. */
  private accept(next: Snapshot): void {
    if (this.snap) holdBusyTables(this.snap, next);
    const change = diffSnapshots(this.snap, next);
    const wasStale = this.stale !== undefined;
    this.stale = undefined;
    this.snap = next;
    if (wasStale) change.target = true;
    if (!empty(change)) this.fire(change);
  }

  get snapshot(): Snapshot | undefined {
    return this.snap;
  }

  /** The kernel host behind this target (the bench times its polls against a bare round trip). */
  get kernelHost(): KernelHost | undefined {
    return this.host;
  }

  info(): TargetInfo {
    const f = this.facts;
    const details: Record<string, string> = { host: this.source.label };
    if (f) {
      details.kernel = f.release;
      details.architecture = f.arch;
      details.privilege = f.privilege === 'root' ? 'root' : f.privilege === 'sudo' ? 'sudo -n (passwordless)' : 'none (not root, no passwordless sudo)';
      details.sqliteos = { companion: 'companion kernel (debugfs sqliteos/, format 1)', upstream: 'published kernel (tables through 549)', none: 'none', unknown: 'not known' }[f.kernel];
    }
    if (this.snap) details['last snapshot'] = new Date(this.snap.takenAt).toLocaleTimeString();
    const kind = f?.kernel === 'companion' ? 'companion kernel' : f?.kernel === 'upstream' ? 'published kernel' : 'Linux';
    let state: string;
    if (this.state === 'connecting') state = 'connecting…';
    else if (this.state === 'closed') state = 'closed';
    else if (this.state === 'disconnected') state = `disconnected, reconnecting: ${this.stale?.reason ?? ''}`;
    else state = `connected: ${kind} ${f?.release ?? ''}`.trim();
    return {
      kind: this.source.kind,
      label: this.source.label,
      details,
      state,
      stale: this.stale,
      warnings: f?.problem ? [f.problem] : f?.kernel === 'upstream' ? [UPSTREAM_POLL_WHY] : undefined,
    };
  }

  /** The current snapshot, waiting for the first one; what a kernel cannot show is NotShown with why. */
  private async current(): Promise<Snapshot> {
    // The Target view carries the whole explanation; the other views point there in a few words.
    if (this.facts?.problem) throw new NotShown(`${this.facts.headline ?? this.facts.problem} (the Target view says more)`);
    if (!this.snap) await this.poll();
    return this.snap!;
  }

  async processes() {
    return processesOf(await this.current());
  }
  async pipes() {
    return (await this.current()).pipes;
  }
  async locks() {
    return locksOf(await this.current());
  }
  async waitQueues() {
    return queuesOf(await this.current());
  }
  async tableNames() {
    return Object.keys((await this.current()).tables);
  }
  async tablePage(table: string, offset: number, limit: number): Promise<TablePage> {
    return tablePageOf(await this.current(), this.source.label, table, offset, limit);
  }
  async row(table: string, key: number) {
    return rowOf(await this.current(), this.source.label, table, key);
  }

  async query(sql: string): Promise<QueryRows> {
    if (!this.host || this.state !== 'connected') throw new TargetError(`${this.source.label}: not connected`);
    return this.host.query(sql);
  }

  onDidChange(listener: (c: Change) => void): Disposer {
    return this.listeners.add(listener);
  }

  private fire(c: Change): void {
    this.listeners.fire(c);
  }

  dispose(): void {
    this.state = 'closed';
    if (this.timer) clearTimeout(this.timer);
    this.listeners.clear();
    this.source.close();
  }
}
