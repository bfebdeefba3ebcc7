import type { ProviderDefinition } from '@evergreen/core';
import { safeError, type Logger } from '@evergreen/log';
import type { RefreshQueues, SchedulerKeys } from '@evergreen/queue';
import type { ConnectionStore, ScheduleRow } from '@evergreen/store';

export interface ReconcilerOptions {
  store: ConnectionStore;
  queues: RefreshQueues;
  keys: SchedulerKeys;
  providers: ReadonlyMap<string, ProviderDefinition>;
  intervalMs: number;
  /**
   * How often the sentinel is looked at between ticks (one GET): when it is gone, Redis lost its data and a tick, a
   * full pass, runs at once rather than at the next interval. 0: only at ticks.
   */
  lossCheckIntervalMs?: number;
  graceMs: number;
  fullPassIntervalMs: number;
  processName: string;
  log: Logger;
  pageSize?: number;
  now?: () => number;
}

export interface ReconcileReport {
  led: boolean;
  fullPass: boolean;
  /** Rows looked at by the full pass. */
  scanned: number;
  /** Live rows late beyond the grace period. */
  overdue: number;
  /** Jobs created or moved. */
  scheduled: number;
  ms: number;
}

/**
 * Postgres → Redis (invariant 1). Incremental by design: each tick looks only at live rows already late by more than
 * the grace period (a job that went missing shows up there, whatever lost it), and a full pass over every row, in
 * pages, runs only when Redis has lost its data (the sentinel is gone) or rarely on a timer.
 */
export class Reconciler {
  readonly #o: ReconcilerOptions;
  readonly #now: () => number;
  readonly #pageSize: number;
  #timer: NodeJS.Timeout | undefined;
  #checkTimer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(options: ReconcilerOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#pageSize = options.pageSize ?? 1_000;
  }

  /**
   * Runs a tick now and then every interval, never two at once in this process; between ticks, looks for the
   * sentinel every `lossCheckIntervalMs` and runs a tick at once when it is gone. A FLUSHALL or a failover that lost
   * the last writes then costs seconds of schedule, not a minute: with 60-second tokens and a 30-second buffer, a
   * minute's wait let every access token lapse.
   */
  start(): void {
    const loop = async () => {
      if (this.#stopped) return;
      await this.#runTick();
      if (!this.#stopped) this.#timer = setTimeout(() => void loop(), this.#o.intervalMs);
    };
    void loop();
    const checkMs = this.#o.lossCheckIntervalMs ?? 0;
    if (checkMs > 0) {
      const check = async () => {
        if (this.#stopped) return;
        await this.#checkForLoss();
        if (!this.#stopped) this.#checkTimer = setTimeout(() => void check(), checkMs);
      };
      this.#checkTimer = setTimeout(() => void check(), checkMs);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#checkTimer);
    await this.#running;
  }

  /** The tick in progress, or a new one: the interval and the loss check share it, so passes never overlap here. */
  #runTick(): Promise<unknown> {
    this.#running ??= this.tick()
      .catch((error: unknown) => this.#o.log.error({ err: safeError(error) }, 'reconcile failed; will retry next tick'))
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  async #checkForLoss(): Promise<void> {
    // A tick under way sets the sentinel itself, or finds it gone and starts over at its own next turn.
    if (this.#running) return;
    let last: number | null;
    try {
      last = await this.#o.keys.lastFullPass();
    } catch {
      return; // Redis unreachable: nothing to rebuild into yet; the next check looks again.
    }
    if (last !== null || this.#stopped) return;
    this.#o.log.warn('scheduler sentinel gone: Redis lost its data; full reconcile now');
    await this.#runTick();
  }

  async tick(): Promise<ReconcileReport> {
    const started = this.#now();
    const report: ReconcileReport = { led: false, fullPass: false, scanned: 0, overdue: 0, scheduled: 0, ms: 0 };
    // Replicas take turns; a pass that outlives the lease only means two idempotent passes overlap.
    const release = await this.#o.keys.lead(this.#o.processName, Math.max(this.#o.intervalMs * 2, 30_000));
    if (!release) return report;
    report.led = true;
    try {
      const last = await this.#o.keys.lastFullPass();
      if (last === null || started - last >= this.#o.fullPassIntervalMs) {
        report.fullPass = true;
        // The sentinel goes in before the pass: if Redis is flushed mid-pass, it disappears again and the next tick
        // starts over, instead of a finished pass claiming jobs that no longer exist.
        await this.#o.keys.setSentinel(started);
        await this.#fullPass(report);
      }
      await this.#sweepOverdue(report, started);
    } finally {
      await release().catch(() => {});
      report.ms = this.#now() - started;
      const level = report.scheduled > 0 || report.fullPass ? 'info' : 'debug';
      this.#o.log[level]({ ...report }, 'reconcile');
    }
    return report;
  }

  async #fullPass(report: ReconcileReport): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const page = await this.#o.store.pageScheduled(after, this.#pageSize);
      if (page.length === 0) return;
      report.scanned += page.length;
      const known = page.filter((row) => this.#o.providers.has(row.provider));
      const exists = await this.#o.queues.existing(known);
      const missing = known.filter((_row, i) => !exists[i]);
      report.scheduled += await this.#schedule(missing);
      after = page[page.length - 1]!.id;
    }
  }

  async #sweepOverdue(report: ReconcileReport, now: number): Promise<void> {
    const overdue = await this.#o.store.findOverdue(new Date(now - this.#o.graceMs), this.#pageSize);
    report.overdue = overdue.length;
    const known = overdue.filter((row) => this.#o.providers.has(row.provider));
    if (known.length < overdue.length) {
      this.#o.log.warn(
        { count: overdue.length - known.length },
        'overdue connections of providers not configured here',
      );
    }
    report.scheduled += await this.#schedule(known);
  }

  async #schedule(rows: readonly ScheduleRow[]): Promise<number> {
    // Bounded parallelism: fast on a big flush, without opening thousands of Redis calls at once.
    const results = await this.#o.queues.scheduleMany(
      rows.map((row) => ({ provider: row.provider, connectionId: row.id, runAt: row.refreshAt.getTime() })),
      { concurrency: 50, now: this.#now },
    );
    // A failure fails the tick (the next one tries again); the rows already scheduled stay scheduled.
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.filter((r) => r.status === 'fulfilled' && r.value !== 'in_flight').length;
  }
}
