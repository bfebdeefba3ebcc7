import { count, desc, eq, gt, and, ne, sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { refreshEvents as e } from './schema.ts';
import { throwsDatabaseErrors } from './database-error.ts';

/** One refresh attempt as the audit keeps it: never a token, never a response body. */
export interface RefreshEventRow {
  outcome: string;
  reason: string | null;
  httpStatus: number | null;
  durationMs: number;
  applied: boolean;
  trigger: string;
  process: string;
  createdAt: Date;
}

export interface FailureCount {
  outcome: string;
  reason: string | null;
  count: number;
}

export interface AttemptBucket {
  start: Date;
  success: number;
  failure: number;
}

/** Reads of the audit table (`refresh_events`, one row per attempt, written with the attempt's own write). */
export class RefreshAudit {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** A connection's most recent attempts, newest first. */
  recent(connectionId: string, limit = 50): Promise<RefreshEventRow[]> {
    return this.#db
      .select({
        outcome: e.outcome,
        reason: e.reason,
        httpStatus: e.httpStatus,
        durationMs: e.durationMs,
        applied: e.applied,
        trigger: e.trigger,
        process: e.process,
        createdAt: e.createdAt,
      })
      .from(e)
      .where(eq(e.connectionId, connectionId))
      .orderBy(desc(e.createdAt), desc(e.id))
      .limit(limit);
  }

  /** Failed attempts (every outcome but success) of the last `seconds`, by outcome and reason, most first. */
  failuresWithin(seconds: number): Promise<FailureCount[]> {
    return this.#db
      .select({ outcome: e.outcome, reason: e.reason, count: count() })
      .from(e)
      .where(and(ne(e.outcome, 'success'), gt(e.createdAt, sql`now() - make_interval(secs => ${seconds})`)))
      .groupBy(e.outcome, e.reason)
      .orderBy(sql`count(*) desc`, e.outcome, e.reason);
  }

  /**
   * Attempts per bucket of `bucketSeconds`, successes apart from failures, over the last `buckets` buckets, oldest
   * first, empty ones included. Buckets are aligned to the database clock, so every process draws the same chart.
   */
  async perBucket(bucketSeconds: number, buckets: number): Promise<AttemptBucket[]> {
    const rows = await this.#db.execute<{ start: Date | string; success: number; failure: number }>(sql`
      with last as (
        select to_timestamp(floor(extract(epoch from now()) / ${bucketSeconds}) * ${bucketSeconds}) as bucket
      ),
      series as (
        select generate_series(
          last.bucket - make_interval(secs => ${(buckets - 1) * bucketSeconds}),
          last.bucket,
          make_interval(secs => ${bucketSeconds})
        ) as bucket
        from last
      )
      select s.bucket as start,
        (count(e.id) filter (where e.outcome = 'success'))::int as success,
        (count(e.id) filter (where e.outcome <> 'success'))::int as failure
      from series s
      left join ${e} e on e.created_at >= s.bucket and e.created_at < s.bucket + make_interval(secs => ${bucketSeconds})
      group by s.bucket
      order by s.bucket`);
    return [...rows].map((r) => ({ start: new Date(r.start), success: r.success, failure: r.failure }));
  }
}

throwsDatabaseErrors(RefreshAudit);
