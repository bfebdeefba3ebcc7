import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import type { PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Database } from './database.ts';
import type { OutboxEvent } from './outbox.ts';
import { connectionEvents, webhookCursors, webhookDeliveries } from './schema.ts';
import { throwsDatabaseErrors } from './database-error.ts';

/** What the fan-out reads of an outbox row to decide how far the cursor may move. */
export interface OutboxEventRef {
  id: number;
  kind: string;
  /** now() − created_at by the database clock, in milliseconds. */
  ageMs: number;
}

/** The fan-out's decision over the events it read: the ones to deliver, and the id the cursor moves to. */
export interface FanOutPlan {
  deliver: readonly number[];
  /** null: the cursor stays where it is. */
  moveCursorTo: number | null;
}

export interface ClaimedDelivery {
  eventId: number;
  /** Tries before this one. */
  attempts: number;
}

/** How one try ended: delivered, given up for good, or due again after a pause. */
export type DeliveryOutcome =
  | { status: 'delivered'; httpStatus: number | null }
  | { status: 'failed'; httpStatus: number | null; error: string | null }
  | { status: 'pending'; httpStatus: number | null; error: string | null; retryInMs: number };

/**
 * The delivery state of webhooks: per endpoint, a cursor into the outbox (`webhook_cursors`) and a row per event to
 * deliver (`webhook_deliveries`). Safe with many replicas: the cursor row's lock lets one fan out at a time, and a
 * lease on each claimed delivery lets one POST it at a time.
 */
export class WebhookDeliveries {
  readonly #db: Database;
  /** Endpoints whose cursor row is known to exist. */
  readonly #cursors = new Set<string>();

  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Reads up to `batchSize` events after the endpoint's cursor, lets `plan` decide which to deliver and how far the
   * cursor moves, writes those delivery rows and moves the cursor: one transaction under the cursor row's lock. Null
   * when another replica holds that lock, since it is doing this very work.
   */
  async fanOut<P extends FanOutPlan>(
    endpoint: string,
    batchSize: number,
    plan: (lastEventId: number, events: OutboxEventRef[]) => P,
  ): Promise<{ read: number; enqueued: number; plan: P } | null> {
    const result = await this.#db.transaction(async (tx) => {
      if (!this.#cursors.has(endpoint)) {
        await tx.insert(webhookCursors).values({ endpoint }).onConflictDoNothing();
      }
      const [cursor] = await tx
        .select({ lastEventId: webhookCursors.lastEventId })
        .from(webhookCursors)
        .where(eq(webhookCursors.endpoint, endpoint))
        .for('update', { skipLocked: true });
      if (!cursor) return null;

      const read = await tx
        .select({
          id: connectionEvents.id,
          kind: connectionEvents.kind,
          ageMs: sql<number>`(extract(epoch from now() - ${connectionEvents.createdAt}) * 1000)::float8`.mapWith(
            Number,
          ),
        })
        .from(connectionEvents)
        .where(gt(connectionEvents.id, cursor.lastEventId))
        .orderBy(asc(connectionEvents.id))
        .limit(batchSize);
      const decided = plan(cursor.lastEventId, read);

      let enqueued = 0;
      if (decided.deliver.length > 0) {
        const inserted = await tx
          .insert(webhookDeliveries)
          .values(decided.deliver.map((eventId) => ({ eventId, endpoint })))
          .onConflictDoNothing()
          .returning({ eventId: webhookDeliveries.eventId });
        enqueued = inserted.length;
      }
      if (decided.moveCursorTo !== null) {
        await tx
          .update(webhookCursors)
          .set({ lastEventId: decided.moveCursorTo, updatedAt: sql`now()` })
          .where(eq(webhookCursors.endpoint, endpoint));
      }
      return { read: read.length, enqueued, plan: decided };
    });
    this.#cursors.add(endpoint);
    return result;
  }

  /**
   * Claims up to `limit` of the endpoint's due deliveries, oldest event first, for `leaseMs`: they are not due again
   * (to this replica or another) until the lease runs out, unless an outcome is recorded first.
   */
  async claimDue(endpoint: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    const due = this.#db
      .select({ eventId: webhookDeliveries.eventId })
      .from(webhookDeliveries)
      .where(
        and(
          eq(webhookDeliveries.endpoint, endpoint),
          eq(webhookDeliveries.status, 'pending'),
          lte(webhookDeliveries.nextAttemptAt, sql`now()`),
        ),
      )
      .orderBy(asc(webhookDeliveries.eventId))
      .limit(limit)
      .for('update', { skipLocked: true });
    const claimed = await this.#db
      .update(webhookDeliveries)
      .set({ nextAttemptAt: sql`now() + make_interval(secs => ${leaseMs / 1000})` })
      .where(and(eq(webhookDeliveries.endpoint, endpoint), inArray(webhookDeliveries.eventId, due)))
      .returning({ eventId: webhookDeliveries.eventId, attempts: webhookDeliveries.attempts });
    return claimed.sort((a, b) => a.eventId - b.eventId);
  }

  /** The outbox rows of these ids (fewer when retention deleted some). */
  events(ids: readonly number[]): Promise<OutboxEvent[]> {
    return this.#db
      .select({
        id: connectionEvents.id,
        kind: connectionEvents.kind,
        payload: connectionEvents.payload,
        createdAt: connectionEvents.createdAt,
      })
      .from(connectionEvents)
      .where(inArray(connectionEvents.id, [...ids]));
  }

  /**
   * Writes how one try ended, only over a row still pending: a replica that took over after our lease ran out may
   * have finished it already.
   */
  async record(endpoint: string, eventId: number, outcome: DeliveryOutcome): Promise<void> {
    const tried = {
      attempts: sql`${webhookDeliveries.attempts} + 1`,
      lastHttpStatus: outcome.httpStatus,
    } satisfies PgUpdateSetSource<typeof webhookDeliveries>;
    const set: PgUpdateSetSource<typeof webhookDeliveries> =
      outcome.status === 'delivered'
        ? { ...tried, status: 'delivered', lastError: null, deliveredAt: sql`now()` }
        : outcome.status === 'failed'
          ? { ...tried, status: 'failed', lastError: outcome.error }
          : {
              ...tried,
              lastError: outcome.error,
              nextAttemptAt: sql`now() + make_interval(secs => ${outcome.retryInMs / 1000})`,
            };
    await this.#db
      .update(webhookDeliveries)
      .set(set)
      .where(
        and(
          eq(webhookDeliveries.eventId, eventId),
          eq(webhookDeliveries.endpoint, endpoint),
          eq(webhookDeliveries.status, 'pending'),
        ),
      );
  }
}

throwsDatabaseErrors(WebhookDeliveries);
