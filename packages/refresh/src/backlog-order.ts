import { safeError, type Logger } from '@evergreen/log';
import type { RefreshQueues } from '@evergreen/queue';
import type { WaitOrder } from './wait-order.ts';

/** Fewer jobs waiting than this is no backlog: they all run within a moment, whatever their order. */
export const MIN_BACKLOG = 20;

export interface BacklogOrderOptions {
  order: Pick<WaitOrder, 'orderByNeed'>;
  queues: Pick<RefreshQueues, 'waitingCount'>;
  providers: readonly string[];
  intervalMs: number;
  log: Logger;
}

/**
 * Keeps each provider's backlog in order of need while it lasts. BullMQ's wait list is in due-time order only while
 * nothing disturbs it, and a provider answering 429s builds a backlog that everything disturbs: a rebuild after Redis
 * lost its data adds the overdue jobs page by page in id order, a job back from a database outage or from another
 * holder's lock waits out a short delay and then joins the end of the list, however near its expiry. So every
 * interval, each provider with a backlog has its wait list rewritten nearest expiry first (the same step as the
 * breaker's recovery). One LLEN per provider when there is none; the rewrite is atomic, so two schedulers doing it at
 * once cost work, not order.
 */
export class BacklogOrder {
  readonly #o: BacklogOrderOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(options: BacklogOrderOptions) {
    this.#o = options;
  }

  start(): void {
    if (this.#o.intervalMs <= 0) return;
    const loop = async () => {
      if (this.#stopped) return;
      this.#running = this.pass();
      await this.#running;
      if (!this.#stopped) this.#timer = setTimeout(() => void loop(), this.#o.intervalMs);
    };
    this.#timer = setTimeout(() => void loop(), this.#o.intervalMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass over every provider; answers how many jobs it placed per provider that had a backlog. */
  async pass(): Promise<Map<string, number>> {
    const placed = new Map<string, number>();
    for (const provider of this.#o.providers) {
      try {
        const waiting = await this.#o.queues.waitingCount(provider);
        if (waiting < MIN_BACKLOG) continue;
        const started = Date.now();
        const n = await this.#o.order.orderByNeed(provider);
        placed.set(provider, n);
        this.#o.log.info({ provider, waiting, ordered: n, ms: Date.now() - started }, 'backlog put in order of need');
      } catch (error) {
        // Redis or Postgres away: the order waits for the next pass; nothing is lost by skipping one.
        this.#o.log.warn({ provider, err: safeError(error) }, 'backlog ordering failed; next pass retries');
      }
    }
    return placed;
  }
}
