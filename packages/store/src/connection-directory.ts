import { LIVE_STATUSES, type ConnectionStatus } from '@evergreen/core';
import { and, asc, eq, gt, inArray, isNotNull, lte, sql, type SQL } from 'drizzle-orm';
import type { Database } from './database.ts';
import { toView, VIEW_COLUMNS, type ConnectionView } from './connection-view.ts';
import { connections as c } from './schema.ts';
import { throwsDatabaseErrors } from './database-error.ts';

/** Which connections: every given field must match. */
export interface ConnectionFilter {
  status?: ConnectionStatus | undefined;
  provider?: string | undefined;
  /** Any of these providers (an API key confined to them). */
  providers?: readonly string[] | undefined;
  ownerId?: string | undefined;
  /** An access token that lapses within this many seconds (or already did). */
  expiringWithinSeconds?: number | undefined;
}

export interface ConnectionPage {
  items: ConnectionView[];
  /** The cursor of the next page; null on the last. */
  nextCursor: string | null;
}

/**
 * Connections as apps and operators may see them, never a secret (only the view's columns are read): one by id,
 * filtered pages, and making the live matches of a filter due now.
 */
export class ConnectionDirectory {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async view(id: string): Promise<ConnectionView | null> {
    const [row] = await this.#db.select(VIEW_COLUMNS).from(c).where(eq(c.id, id));
    return row ? toView(row) : null;
  }

  /** One page in id order: keyset paging, so a page costs the same wherever it is. */
  async list(filter: ConnectionFilter, page: { limit: number; cursor?: string | undefined }): Promise<ConnectionPage> {
    const where = filterWhere(filter);
    if (page.cursor !== undefined) where.push(gt(c.id, page.cursor));
    const rows = await this.#db
      .select(VIEW_COLUMNS)
      .from(c)
      .where(and(...where))
      .orderBy(asc(c.id))
      .limit(page.limit + 1);
    const more = rows.length > page.limit;
    const items = rows.slice(0, page.limit).map(toView);
    return { items, nextCursor: more ? (items.at(-1)?.connectionId ?? null) : null };
  }

  /**
   * Marks up to `limit` matching live connections of the given providers as due now (refresh_at = now()), in one
   * statement, and returns them so their jobs can be moved. The version is left alone on purpose: refresh_at is
   * schedule state, and bumping the fencing token would make an in-flight refresh lose its compare-and-set and with it
   * the provider's rotated refresh token. updated_at moves so the scheduler's incremental reconcile also sees the
   * change.
   */
  async markDueNow(
    filter: ConnectionFilter,
    providers: readonly string[],
    limit: number,
  ): Promise<{ id: string; provider: string }[]> {
    if (providers.length === 0) return [];
    const where = [...filterWhere(filter), inArray(c.status, [...LIVE_STATUSES]), inArray(c.provider, [...providers])];
    const picked = this.#db
      .select({ id: c.id })
      .from(c)
      .where(and(...where))
      .orderBy(asc(c.id))
      .limit(limit);
    return this.#db
      .update(c)
      .set({ refreshAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(inArray(c.id, picked), inArray(c.status, [...LIVE_STATUSES])))
      .returning({ id: c.id, provider: c.provider });
  }
}

throwsDatabaseErrors(ConnectionDirectory);

function filterWhere(filter: ConnectionFilter): SQL[] {
  const where: SQL[] = [];
  if (filter.status !== undefined) where.push(eq(c.status, filter.status));
  if (filter.provider !== undefined) where.push(eq(c.provider, filter.provider));
  if (filter.providers !== undefined) {
    where.push(filter.providers.length === 0 ? sql`false` : inArray(c.provider, [...filter.providers]));
  }
  if (filter.ownerId !== undefined) where.push(eq(c.ownerId, filter.ownerId));
  if (filter.expiringWithinSeconds !== undefined) {
    where.push(isNotNull(c.expiresAt));
    where.push(lte(c.expiresAt, sql`now() + make_interval(secs => ${filter.expiringWithinSeconds})`));
  }
  return where;
}
