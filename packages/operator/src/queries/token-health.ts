import { CONNECTION_STATUSES, type ConnectionStatus } from '@evergreen/core';
import { ConnectionCounts, tables, type Database } from '@evergreen/store';
import { and, count, gt, ne, sql } from 'drizzle-orm';

const e = tables.refreshEvents;

export const BUCKET_SECONDS = 300;
export const BUCKET_COUNT = 72; // 6 hours of 5-minute buckets

export interface TokenHealth {
  generatedAt: Date;
  total: number;
  byStatus: Record<ConnectionStatus, number>;
  /** Per provider: its total and its count per status. */
  byProvider: Record<string, { total: number } & Record<ConnectionStatus, number>>;
  /** Live connections whose access token lapses within the next hour (or already has), per provider. */
  expiringWithinHour: Record<string, number>;
  /** Failed refresh attempts (every outcome but success) of the last 24 hours, by outcome and reason, most first. */
  failuresLast24h: { outcome: string; reason: string | null; count: number }[];
  /** Refresh attempts per 5-minute bucket over the last 6 hours, oldest first, empty buckets included. */
  refreshes: { bucketSeconds: number; buckets: { start: Date; success: number; failure: number }[] };
}

const zeroStatuses = () =>
  Object.fromEntries(CONNECTION_STATUSES.map((s) => [s, 0])) as Record<ConnectionStatus, number>;

export async function connectionCounts(db: Database): Promise<Pick<TokenHealth, 'total' | 'byStatus' | 'byProvider'>> {
  const rows = await new ConnectionCounts(db).byStatus();
  const byStatus = zeroStatuses();
  const byProvider: TokenHealth['byProvider'] = {};
  let total = 0;
  for (const row of rows) {
    total += row.count;
    byStatus[row.status] = (byStatus[row.status] ?? 0) + row.count;
    const entry = (byProvider[row.provider] ??= { total: 0, ...zeroStatuses() });
    entry.total += row.count;
    entry[row.status] = (entry[row.status] ?? 0) + row.count;
  }
  return { total, byStatus, byProvider };
}

export async function expiringWithinHour(db: Database): Promise<Record<string, number>> {
  const rows = await new ConnectionCounts(db).expiring([3600]);
  return Object.fromEntries(rows.map((r) => [r.provider, r.counts[0] ?? 0]));
}

export async function failuresLast24h(db: Database): Promise<TokenHealth['failuresLast24h']> {
  const n = count();
  return db
    .select({ outcome: e.outcome, reason: e.reason, count: n })
    .from(e)
    .where(and(ne(e.outcome, 'success'), gt(e.createdAt, sql`now() - interval '24 hours'`)))
    .groupBy(e.outcome, e.reason)
    .orderBy(sql`count(*) desc`, e.outcome, e.reason);
}

/** Buckets are aligned to the database clock, so every process draws the same chart. */
export async function refreshesPerBucket(db: Database): Promise<TokenHealth['refreshes']> {
  const rows = await db.execute<{ start: Date | string; success: number; failure: number }>(sql`
    with last as (
      select to_timestamp(floor(extract(epoch from now()) / ${BUCKET_SECONDS}) * ${BUCKET_SECONDS}) as bucket
    ),
    series as (
      select generate_series(
        last.bucket - make_interval(secs => ${(BUCKET_COUNT - 1) * BUCKET_SECONDS}),
        last.bucket,
        make_interval(secs => ${BUCKET_SECONDS})
      ) as bucket
      from last
    )
    select s.bucket as start,
      (count(e.id) filter (where e.outcome = 'success'))::int as success,
      (count(e.id) filter (where e.outcome <> 'success'))::int as failure
    from series s
    left join ${e} e on e.created_at >= s.bucket and e.created_at < s.bucket + make_interval(secs => ${BUCKET_SECONDS})
    group by s.bucket
    order by s.bucket`);
  return {
    bucketSeconds: BUCKET_SECONDS,
    buckets: [...rows].map((r) => ({ start: new Date(r.start), success: r.success, failure: r.failure })),
  };
}

export async function tokenHealth(db: Database): Promise<TokenHealth> {
  const [counts, expiring, failures, refreshes] = await Promise.all([
    connectionCounts(db),
    expiringWithinHour(db),
    failuresLast24h(db),
    refreshesPerBucket(db),
  ]);
  return {
    generatedAt: new Date(),
    ...counts,
    expiringWithinHour: expiring,
    failuresLast24h: failures,
    refreshes,
  };
}
