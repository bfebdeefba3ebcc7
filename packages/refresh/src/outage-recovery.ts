import type { BackoffPolicy } from '@evergreen/core';
import type { RefreshQueues } from '@evergreen/queue';
import type { ConnectionStore } from '@evergreen/store';

/** What the breaker's close asks for: the connections the outage left in backoff, due now. */
export interface OutageCatchUp {
  /** `openedAt`: when the breaker opened; `windowMs`: how far before it the failures that opened it go. */
  dueNow(provider: string, openedAt: number, windowMs: number): Promise<number>;
}

/**
 * After an outage, the connections whose last attempts failed just before the breaker opened (or as its probes) may
 * hold a retry time, even a cooldown, written while the provider was down: their rows and jobs are made due at once,
 * so they join the recovery in order of need instead of waiting minutes with lapsing tokens. Connections held while
 * open never had their row touched: they are due already.
 */
export class OutageRecovery implements OutageCatchUp {
  readonly #store: Pick<ConnectionStore, 'dueNowAfterOutage'>;
  readonly #queues: Pick<RefreshQueues, 'scheduleMany'>;
  readonly #backoff: BackoffPolicy;

  constructor(
    store: Pick<ConnectionStore, 'dueNowAfterOutage'>,
    queues: Pick<RefreshQueues, 'scheduleMany'>,
    backoff: BackoffPolicy,
  ) {
    this.#store = store;
    this.#queues = queues;
    this.#backoff = backoff;
  }

  async dueNow(provider: string, openedAt: number, windowMs: number): Promise<number> {
    const now = Date.now();
    // The longest retry time a failure can write: the cooldown at the top of its ±50 %, or the quick retries' cap.
    const horizon = now + Math.max(this.#backoff.cooldownMs * 1.5, this.#backoff.capMs) + 1_000;
    const rows = await this.#store.dueNowAfterOutage(provider, new Date(openedAt - windowMs), new Date(horizon));
    if (rows.length === 0) return 0;
    await this.#queues.scheduleMany(
      rows.map((row) => ({ provider: row.provider, connectionId: row.id, runAt: now })),
      { concurrency: 8 },
    );
    return rows.length;
  }
}
