import type { BackoffPolicy } from '@evergreen/core';
import type { RefreshQueues } from '@evergreen/queue';
import type { ConnectionStore } from '@evergreen/store';
import { WaitOrder } from './wait-order.ts';

/** What the breaker's close asks for: the provider's waiting refreshes put in order of need. */
export interface OutageCatchUp {
  /**
   * `openedAt`: when the breaker opened; `windowMs`: how far before it the failures that opened it go. Answers how
   * many connections the outage had left in backoff (made due) and how many waiting jobs were put in order.
   */
  recover(provider: string, openedAt: number, windowMs: number): Promise<{ madeDue: number; ordered: number }>;
}

/**
 * The provider's queues are paused this long at a time, renewed every second, while its wait list is put in order: a
 * worker that finds it paused sleeps that long, so a short pause lets the workers go as soon as the order stands.
 */
const ORDERING_PAUSE_MS = 2_000;

/**
 * The recovery after an outage, in order of need. While the breaker was open, held jobs went back to the head of the
 * wait list in whatever order the workers that had fetched them finished, so the list's head is shuffled; and the
 * connections whose last attempts failed around the opening (or as failed probes before this change) may hold a
 * retry time written while the provider was down. On close: the provider's queue pauses, those connections are made
 * due and their jobs waiting, the wait list is sorted by access-token expiry (Postgres has it; Redis never holds a
 * token or its expiry) in one atomic step, and the queue resumes. Jobs promoted meanwhile wait behind the sorted ones:
 * they fell due later.
 */
export class OutageRecovery implements OutageCatchUp {
  readonly #store: Pick<ConnectionStore, 'dueNowAfterOutage' | 'orderByExpiry'>;
  readonly #queues: Pick<
    RefreshQueues,
    'rateLimit' | 'removeRateLimit' | 'waiting' | 'orderWaiting' | 'promote' | 'scheduleMany'
  >;
  readonly #backoff: BackoffPolicy;
  readonly #order: WaitOrder;

  constructor(
    store: Pick<ConnectionStore, 'dueNowAfterOutage' | 'orderByExpiry'>,
    queues: Pick<
      RefreshQueues,
      'rateLimit' | 'removeRateLimit' | 'waiting' | 'orderWaiting' | 'promote' | 'scheduleMany'
    >,
    backoff: BackoffPolicy,
  ) {
    this.#store = store;
    this.#queues = queues;
    this.#backoff = backoff;
    this.#order = new WaitOrder(store, queues);
  }

  async recover(provider: string, openedAt: number, windowMs: number): Promise<{ madeDue: number; ordered: number }> {
    const pause = () => this.#queues.rateLimit(provider, ORDERING_PAUSE_MS);
    await pause();
    const renew = setInterval(() => void pause().catch(() => {}), ORDERING_PAUSE_MS / 2);
    try {
      const madeDue = await this.#dueNow(provider, openedAt, windowMs);
      return { madeDue, ordered: await this.#order.orderByNeed(provider) };
    } finally {
      clearInterval(renew);
      await this.#queues.removeRateLimit(provider);
    }
  }

  async #dueNow(provider: string, openedAt: number, windowMs: number): Promise<number> {
    const now = Date.now();
    // The longest retry time a failure can write: the cooldown at the top of its ±50 %, or the quick retries' cap.
    const horizon = now + Math.max(this.#backoff.cooldownMs * 1.5, this.#backoff.capMs) + 1_000;
    const rows = await this.#store.dueNowAfterOutage(provider, new Date(openedAt - windowMs), new Date(horizon));
    if (rows.length === 0) return 0;
    await this.#queues.scheduleMany(
      rows.map((row) => ({ provider: row.provider, connectionId: row.id, runAt: now })),
      { concurrency: 8 },
    );
    await this.#queues.promote(
      provider,
      rows.map((row) => row.id),
    );
    return rows.length;
  }
}
