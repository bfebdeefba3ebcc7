import type { UpsertConnection } from '@evergreen/store';
import type postgres from 'postgres';

/**
 * An `acme` connection as `ConnectionStore.upsert` takes it, its tokens `at-<tag>` and `rt-<tag>`, with no scopes,
 * metadata or expiry; without a `connectionId` the store picks one.
 */
export function acmeUpsert(tag: string, ids: { ownerId: string; connectionId?: string }): UpsertConnection {
  return {
    ...ids,
    provider: 'acme',
    accessToken: `at-${tag}`,
    refreshToken: `rt-${tag}`,
    scopes: [],
    metadata: {},
    expiresAt: null,
    refreshAt: null,
  };
}

/** `acmeUpsert` of connection `id`, owned by `owner-<id>`, its tokens `at-<id>` and `rt-<id>`. */
export const acmeConnection = (id: string): UpsertConnection =>
  acmeUpsert(id, { connectionId: id, ownerId: `owner-${id}` });

/** A connection row written straight to the table, for tests that read counts and pages back. */
export interface ConnectionSeed {
  id: string;
  /** `owner-<id>` when not given. */
  ownerId?: string;
  provider: string;
  status: string;
  /** A Postgres interval from now (`'2 minutes'`, `'-1 minute'`), or null for a token with no known expiry. */
  expiresIn: string | null;
  accessToken?: string;
  refreshToken?: string;
}

export async function insertConnections(sql: postgres.Sql, rows: readonly ConnectionSeed[]): Promise<void> {
  for (const row of rows) {
    await sql`
      insert into connections (id, owner_id, provider, status, access_token, refresh_token, expires_at)
      values (${row.id}, ${row.ownerId ?? `owner-${row.id}`}, ${row.provider}, ${row.status},
        ${row.accessToken ?? null}, ${row.refreshToken ?? null},
        case when ${row.expiresIn}::text is null then null else now() + ${row.expiresIn}::interval end)`;
  }
}

/** `count` scheduled refresh attempts of one `acme` connection, each answered 200 in 5 ms, all `age` ago. */
export interface RefreshEventSeed {
  connectionId: string;
  outcome: string;
  reason: string | null;
  count: number;
  /** A Postgres interval before now. */
  age: string;
}

export async function insertRefreshEvents(sql: postgres.Sql, rows: readonly RefreshEventSeed[]): Promise<void> {
  for (const e of rows) {
    await sql`
      insert into refresh_events (connection_id, provider, outcome, reason, http_status, duration_ms, applied, trigger, process, created_at)
      select ${e.connectionId}, 'acme', ${e.outcome}, ${e.reason}, 200, 5, true, 'schedule', 'test', now() - ${e.age}::interval
      from generate_series(1, ${e.count}::int)`;
  }
}
