import type { ConnectionEvent } from '@evergreen/core';
import { sql } from 'drizzle-orm';
import { sessionClient, type Database } from './database.ts';
import { executePrepared } from './prepared.ts';

/** The NOTIFY channel of one Evergreen (one schema): in-process subscribers LISTEN on it. */
export function eventsChannel(schema: string): string {
  return `evergreen_events_${schema}`;
}

/**
 * The live side of the outbox on one pool: events NOTIFYed once their change committed, and subscriptions to them.
 *
 * Not inside the writing statement: a transaction that NOTIFYs takes a database-wide lock at commit (Postgres keeps
 * the notification queue in commit order) and holds it through its WAL flush, so every notifying commit in the
 * database would run one after another (docs/benchmarks/README.md has the figures). Here the NOTIFY is its own
 * transaction with synchronous_commit off (a notification is never durable anyway), so the lock lasts microseconds,
 * and the events of every write that commits while one batch is on its way go out together in the next.
 *
 * Subscribers hear events while subscribed, best effort: a process that dies between the commit and the NOTIFY loses
 * the notification, never the event (the outbox row committed with the change; webhooks deliver from it).
 */
export class EventFeed {
  readonly #db: Database;
  readonly #channel: string;
  #pending: string[] = [];
  #waiters: (() => void)[] = [];
  #draining = false;
  #coalescing: NodeJS.Timeout | null = null;

  constructor(db: Database, channel: string) {
    this.#db = db;
    this.#channel = channel;
  }

  /**
   * NOTIFYs what `EVENTS_WRITTEN` returned, after the statement that wrote it committed. Resolves once the batch
   * holding these events was sent (or failed: it never rejects). With `coalesceMs`, an idle feed waits that long
   * before sending, so that the writes committing meanwhile share one NOTIFY transaction (the refresh path's many
   * small writes); without it, an idle feed sends at once.
   */
  publishCommitted(payloads: string | null | undefined, options: { coalesceMs?: number } = {}): Promise<void> {
    const elements = payloads?.slice(1, -1); // an array literal's elements: '{"a","b"}' → '"a","b"'
    if (!elements) return Promise.resolve();
    this.#pending.push(elements);
    const sent = new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (this.#draining || this.#coalescing) return sent;
    if (options.coalesceMs) {
      // The events of the writes that commit meanwhile go out in the same NOTIFY transaction.
      this.#coalescing = setTimeout(() => {
        this.#coalescing = null;
        if (!this.#draining) void this.#drain();
      }, options.coalesceMs);
    } else {
      void this.#drain();
    }
    return sent;
  }

  /** Hears every event NOTIFYed on this channel, from every process on the database, until the returned stop. */
  async subscribe(onEvent: (event: ConnectionEvent) => void): Promise<() => Promise<void>> {
    // LISTEN holds a session: behind a transaction pooler it goes over the direct connection.
    const listener = await sessionClient(this.#db).listen(this.#channel, (payload) => {
      onEvent(JSON.parse(payload) as ConnectionEvent);
    });
    return () => listener.unlisten();
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#pending.length > 0) {
        const payloads = `{${this.#pending.splice(0).join(',')}}`;
        const waiters = this.#waiters.splice(0);
        try {
          await executePrepared(
            this.#db,
            sql`
            with settings as materialized (select set_config('synchronous_commit', 'off', true))
            select count(pg_notify(${this.#channel}, payload)) from settings, unnest(${payloads}::text[]) as payload`,
          );
        } catch {
          // A lost notification (Postgres away, pool closed): subscribers are best effort, the outbox row stays.
        } finally {
          for (const resolve of waiters) resolve();
        }
      }
    } finally {
      this.#draining = false;
    }
  }
}
