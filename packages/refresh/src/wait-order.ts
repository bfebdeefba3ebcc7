import type { RefreshQueues } from '@evergreen/queue';
import type { ConnectionStore } from '@evergreen/store';

/** Expiries read per query while ordering a wait list. */
const PAGE = 5_000;

/**
 * Order of need: a provider's waiting refreshes rewritten nearest access-token expiry first. Expiries come from
 * Postgres (Redis never holds a token or its expiry), the rewrite is one atomic script per queue
 * (`commands/order-wait-list.lua`): jobs taken meanwhile are skipped, jobs that arrived meanwhile wait behind. Used
 * when a breaker closes (the outage's backlog) and while a provider's backlog lasts (429s, a rebuild after a flush,
 * jobs that came back from a kill or a database outage behind the others).
 */
export class WaitOrder {
  readonly #store: Pick<ConnectionStore, 'orderByExpiry'>;
  readonly #queues: Pick<RefreshQueues, 'waiting' | 'orderWaiting'>;

  constructor(store: Pick<ConnectionStore, 'orderByExpiry'>, queues: Pick<RefreshQueues, 'waiting' | 'orderWaiting'>) {
    this.#store = store;
    this.#queues = queues;
  }

  /** Puts the provider's waiting jobs in order of need; answers how many it placed. */
  async orderByNeed(provider: string): Promise<number> {
    const waiting = await this.#queues.waiting(provider);
    return this.order(provider, waiting);
  }

  /** The same for these waiting jobs (connection ids), already read. */
  async order(provider: string, waiting: readonly string[]): Promise<number> {
    if (waiting.length === 0) return 0;
    const rows: { id: string; expiresAt: Date | null }[] = [];
    for (let i = 0; i < waiting.length; i += PAGE) {
      rows.push(...(await this.#store.orderByExpiry(waiting.slice(i, i + PAGE))));
    }
    // Each page comes sorted; the pages are sorted together here, by the same key.
    if (waiting.length > PAGE) rows.sort(byExpiry);
    return this.#queues.orderWaiting(
      provider,
      rows.map((row) => row.id),
    );
  }
}

function byExpiry(a: { id: string; expiresAt: Date | null }, b: { id: string; expiresAt: Date | null }): number {
  const at = (d: Date | null) => (d === null ? Number.POSITIVE_INFINITY : d.getTime());
  return at(a.expiresAt) - at(b.expiresAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
