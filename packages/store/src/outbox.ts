import type { EventSpec } from '@evergreen/core';
import { sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.ts';
import { executePrepared } from './prepared.ts';

/** The NOTIFY channel of one Evergreen (one schema): in-process subscribers LISTEN on it. */
export function eventsChannel(schema: string): string {
  return `evergreen_events_${schema}`;
}

/**
 * A CTE member that writes `events` for the connection a preceding CTE named `source` returned (`returning id`); none
 * when `source` returned nothing (a compare-and-set that lost). Read what it wrote with `EVENTS_WRITTEN` in the final
 * SELECT and hand that to `notifyCommitted` once the statement has committed.
 */
export function eventsCte(source: string, events: readonly EventSpec[]): SQL {
  return sql`evented as (
        insert into connection_events (connection_id, kind, payload)
        select s.id, e.kind, e.payload
        from ${sql.raw(source)} s, jsonb_to_recordset(${JSON.stringify(events)}::jsonb) as e(kind text, payload jsonb)
        returning id, kind, payload, created_at
      )`;
}

/**
 * The NOTIFY payloads of the rows the `evented` member wrote, built where the rows are at hand: Postgres's text of a
 * text[] (null for none), handed back unparsed to the NOTIFY statement. A select-list expression.
 */
export const EVENTS_WRITTEN = sql`(select array_agg(json_build_object('id', id, 'kind', kind, 'data', payload,
  'createdAt', created_at)::text order by id)::text from evented)`;

/**
 * NOTIFYs events after the statement that wrote them committed, batched per database pool.
 *
 * Not inside the writing statement: a transaction that NOTIFYs takes a database-wide lock at commit (Postgres keeps
 * the notification queue in commit order) and holds it through its WAL flush, so every notifying commit in the
 * database runs one after another. With the NOTIFY in the refresh write, 16 concurrent writers committed 480 times a
 * second where plain updates reached 3,500 (docs/benchmarks/README.md). Here the NOTIFY is its own transaction with
 * synchronous_commit off (a notification is never durable anyway), so the lock lasts microseconds, and the events of
 * every write that commits while one batch is on its way go out together in the next. The payloads come from the
 * writing statement, as text, and go back unparsed: reading the new rows again to build them cost more than the rest
 * of the NOTIFY.
 *
 * Subscribers hear events while subscribed, best effort: a process that dies between the commit and the NOTIFY loses
 * the notification, never the event (the outbox row committed with the change; webhooks deliver from it).
 */
export function notifyCommitted(db: Database, channel: string, payloads: string | null | undefined): Promise<void> {
  const elements = payloads?.slice(1, -1); // an array literal's elements: '{"a","b"}' → '"a","b"'
  if (!elements) return Promise.resolve();
  let byChannel = notifiers.get(db);
  if (!byChannel) {
    byChannel = new Map();
    notifiers.set(db, byChannel);
  }
  let notifier = byChannel.get(channel);
  if (!notifier) {
    notifier = new Notifier(db, channel);
    byChannel.set(channel, notifier);
  }
  return notifier.publish(elements);
}

const notifiers = new WeakMap<Database, Map<string, Notifier>>();

class Notifier {
  readonly #db: Database;
  readonly #channel: string;
  #pending: string[] = [];
  #waiters: (() => void)[] = [];
  #draining = false;

  constructor(db: Database, channel: string) {
    this.#db = db;
    this.#channel = channel;
  }

  /** Resolves once the batch holding these events was sent (or failed: it never rejects). */
  publish(elements: string): Promise<void> {
    this.#pending.push(elements);
    const sent = new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (!this.#draining) void this.#drain();
    return sent;
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
