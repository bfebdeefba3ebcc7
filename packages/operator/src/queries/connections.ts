import { LIVE_STATUSES } from '@evergreen/core';
import { tables, type ConnectionView, type Database } from '@evergreen/store';
import { and, asc, eq, gt, inArray, isNotNull, lte, sql, type SQL } from 'drizzle-orm';
import type { ConnectionFilter } from '../inputs.ts';
import { rowToView, VIEW_COLUMNS } from './connection-columns.ts';

const c = tables.connections;

/** The WHERE of a filter; `expiringWithinSeconds` means an access token that lapses within that many seconds (or did). */
export function filterWhere(filter: ConnectionFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.status !== undefined) where.push(eq(c.status, filter.status));
  if (filter.provider !== undefined) where.push(eq(c.provider, filter.provider));
  if (filter.ownerId !== undefined) where.push(eq(c.ownerId, filter.ownerId));
  if (filter.expiringWithinSeconds !== undefined) {
    where.push(isNotNull(c.expiresAt));
    where.push(lte(c.expiresAt, sql`now() + make_interval(secs => ${filter.expiringWithinSeconds})`));
  }
  return where;
}

/** One page in id order: keyset paging, so a page costs the same wherever it is. */
export async function listConnections(
  db: Database,
  filter: ConnectionFilter,
  page: { limit: number; cursor?: string | undefined },
): Promise<{ items: ConnectionView[]; nextCursor: string | null }> {
  const where = filterWhere(filter);
  if (page.cursor !== undefined) where.push(gt(c.id, page.cursor));
  const rows = await db
    .select(VIEW_COLUMNS)
    .from(c)
    .where(and(...where))
    .orderBy(asc(c.id))
    .limit(page.limit + 1);
  const more = rows.length > page.limit;
  const items = rows.slice(0, page.limit).map(rowToView);
  return { items, nextCursor: more ? (items.at(-1)?.connectionId ?? null) : null };
}

export async function findConnection(db: Database, id: string): Promise<ConnectionView | null> {
  const [row] = await db.select(VIEW_COLUMNS).from(c).where(eq(c.id, id));
  return row ? rowToView(row) : null;
}

/**
 * Marks up to `limit` matching live connections of the given providers as due now (refresh_at = now()), in one
 * statement, and returns them so their jobs can be moved. The version is left alone on purpose: refresh_at is schedule
 * state, and bumping the fencing token would make an in-flight refresh lose its compare-and-set and with it the
 * provider's rotated refresh token. updated_at moves so the scheduler's incremental reconcile also sees the change.
 */
export async function markDueNow(
  db: Database,
  filter: ConnectionFilter,
  providers: readonly string[],
  limit: number,
): Promise<{ id: string; provider: string }[]> {
  if (providers.length === 0) return [];
  const where = [...filterWhere(filter), inArray(c.status, [...LIVE_STATUSES]), inArray(c.provider, [...providers])];
  const picked = db
    .select({ id: c.id })
    .from(c)
    .where(and(...where))
    .orderBy(asc(c.id))
    .limit(limit);
  return db
    .update(c)
    .set({ refreshAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(inArray(c.id, picked), inArray(c.status, [...LIVE_STATUSES])))
    .returning({ id: c.id, provider: c.provider });
}
