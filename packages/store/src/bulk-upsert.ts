import { randomUUID } from 'node:crypto';
import { tokenAad, type Keyring } from '@evergreen/keyring';
import { sql } from 'drizzle-orm';
import type { UpsertConnection } from './connection-store.ts';
import type { Database } from './database.ts';
import type { EventFeed } from './event-feed.ts';
import { EVENTS_WRITTEN } from './outbox.ts';

export type BulkUpsertResult =
  | { index: number; ok: true; connectionId: string; version: number; created: boolean }
  | ({ index: number; ok: true; connectionId: string; version: number; created: false } & KeptRow)
  | { index: number; ok: false; field: string; reason: string };

/** A row `keepCurrent` left alone because it already holds the item's secrets: what it stores. */
export interface KeptRow {
  unchanged: true;
  status: string;
  expiresAt: Date | null;
  refreshAt: Date | null;
}

export interface UpsertManyOptions {
  /**
   * An import's rule (resumable, never going back in time): a row that already holds the item's exact tokens and
   * credentials is left alone (no write, no version bump, no event: `unchanged`), and a row Evergreen has refreshed
   * since it was stored is not overwritten (its tokens are newer than the item's; a per-item error says so).
   */
  keepCurrent?: boolean;
}

/**
 * Many connections in one statement: every row upserted from a single JSON parameter, with `connection.connected`
 * events for the rows whose status changed, and `connection.reconnected` for existing rows marked `reconnect`
 * (published on `feed` once committed). Items without an id first have their (owner, provider) identities looked up in one query, since the id is bound into each ciphertext. Items whose id names
 * another owner's connection come back as per-item errors. `ConnectionStore.upsertMany` is its public face.
 */
export async function upsertMany(
  db: Database,
  keyring: Keyring,
  feed: EventFeed,
  items: readonly UpsertConnection[],
  options: UpsertManyOptions = {},
): Promise<BulkUpsertResult[]> {
  if (items.length === 0) return [];
  // Identity first: one query for every (owner, provider) pair without an id.
  const pairs = items.filter((i) => i.connectionId === undefined).map((i) => ({ o: i.ownerId, p: i.provider }));
  const known = new Map<string, string>();
  if (pairs.length > 0) {
    const rows = await db.execute<{ id: string; owner_id: string; provider: string }>(sql`
      select c.id, c.owner_id, c.provider from connections c
      join jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as x(o text, p text) on c.owner_id = x.o and c.provider = x.p
      where c.keyed_by_owner`);
    for (const row of rows) known.set(`${row.owner_id}\u0000${row.provider}`, row.id);
  }
  const ids = items.map((item) => {
    const pairKey = `${item.ownerId}\u0000${item.provider}`;
    const id = item.connectionId ?? known.get(pairKey) ?? randomUUID();
    if (item.connectionId === undefined) known.set(pairKey, id);
    return id;
  });
  const current = options.keepCurrent ? await currentRows(db, ids) : new Map<string, CurrentRow>();
  const results: BulkUpsertResult[] = [];
  const seen = new Map<string, number>();
  const records: Record<string, unknown>[] = [];
  const indexById = new Map<string, number>();
  items.forEach((item, index) => {
    const id = ids[index]!;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      results.push({
        index,
        ok: false,
        field: item.connectionId ? 'connectionId' : 'ownerId',
        reason: `the same connection as item ${earlier}`,
      });
      return;
    }
    seen.set(id, index);
    const row = current.get(id);
    if (row && row.owner_id === item.ownerId && row.provider === item.provider) {
      if (holdsSecretsOf(row, item, keyring)) {
        results.push({
          index,
          ok: true,
          connectionId: id,
          version: Number(row.version),
          created: false,
          unchanged: true,
          status: row.status,
          expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
          refreshAt: row.refresh_at === null ? null : new Date(row.refresh_at),
        });
        return;
      }
      if (row.last_refresh_at !== null) {
        results.push({
          index,
          ok: false,
          field: 'connectionId',
          reason:
            'Evergreen has refreshed this connection since it was stored, so its tokens are newer than these: kept',
        });
        return;
      }
    }
    indexById.set(id, index);
    const seal = (value: string, column: Parameters<typeof tokenAad>[1]) =>
      keyring.encrypt(value, tokenAad(id, column));
    records.push({
      id,
      owner_id: item.ownerId,
      provider: item.provider,
      keyed_by_owner: item.connectionId === undefined,
      access_token: item.accessToken === undefined ? null : seal(item.accessToken, 'access_token'),
      refresh_token: item.refreshToken === undefined ? null : seal(item.refreshToken, 'refresh_token'),
      credentials: item.credentials === undefined ? null : seal(JSON.stringify(item.credentials), 'credentials'),
      refresh_token_expires_at: item.refreshTokenExpiresAt?.toISOString() ?? null,
      scopes: item.scopes,
      metadata: item.metadata,
      expires_at: item.expiresAt?.toISOString() ?? null,
      refresh_at: item.refreshAt?.toISOString() ?? null,
      reconnect: item.reconnect === true,
    });
  });

  if (records.length === 0) return results.sort((a, b) => a.index - b.index);
  // One statement, so one round trip and atomic on its own: rows and their status-change events together.
  const rows = await db.execute<{
    id: string | null;
    version: string | number | null;
    created: boolean | null;
    events: string | null;
  }>(sql`
      with input as (
        select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb) as x(
          id text, owner_id text, provider text, keyed_by_owner boolean, access_token text, refresh_token text,
          credentials text, refresh_token_expires_at timestamptz, scopes text[], metadata jsonb, expires_at timestamptz,
          refresh_at timestamptz, reconnect boolean)
      ), before as (
        -- The statement's snapshot, which every part of it shares: each row as it was before this upsert. No FOR
        -- UPDATE: the plan may read this after the upsert has changed the row, and a lock then skips a row the same
        -- command modified (it would come back as created, with a second connection.connected). The upsert itself
        -- locks each row it writes.
        select c.id, c.status from connections c join input i on i.id = c.id
      ), upserted as (
        insert into connections (id, owner_id, provider, keyed_by_owner, access_token, refresh_token, credentials,
          refresh_token_expires_at, scopes, metadata, expires_at, refresh_at, status, consecutive_failures)
        select id, owner_id, provider, keyed_by_owner, access_token, refresh_token, credentials,
          refresh_token_expires_at, coalesce(scopes, '{}'), coalesce(metadata, '{}'), expires_at, refresh_at, 'connected', 0
        from input
        on conflict (id) do update set
          access_token = excluded.access_token, refresh_token = excluded.refresh_token,
          previous_refresh_token = null, refresh_token_rotated_at = null, refresh_token_warned_at = null,
          credentials = excluded.credentials, refresh_token_expires_at = excluded.refresh_token_expires_at,
          scopes = excluded.scopes, metadata = excluded.metadata, expires_at = excluded.expires_at,
          refresh_at = excluded.refresh_at, status = 'connected', consecutive_failures = 0,
          version = connections.version + 1, updated_at = now()
        where connections.owner_id = excluded.owner_id and connections.provider = excluded.provider
        returning id, owner_id, provider, expires_at, version
      ), evented as (
        insert into connection_events (connection_id, kind, payload)
        -- A connection that did not exist before this statement (docs/events.md); first, since Postgres runs a
        -- UNION ALL's branches in order and the ids follow.
        select u.id, 'connection.created', jsonb_build_object('connectionId', u.id, 'ownerId', u.owner_id,
          'provider', u.provider, 'status', 'connected', 'expiresAt', u.expires_at)
        from upserted u left join before b on b.id = u.id
        where b.id is null
        union all
        select u.id, 'connection.connected', jsonb_build_object('connectionId', u.id, 'ownerId', u.owner_id,
          'provider', u.provider, 'status', 'connected', 'expiresAt', u.expires_at)
        from upserted u left join before b on b.id = u.id
        where b.status is distinct from 'connected'
        union all
        -- The connect flow replaced an existing connection's tokens in place (docs/connect.md).
        select u.id, 'connection.reconnected', jsonb_build_object('connectionId', u.id, 'ownerId', u.owner_id,
          'provider', u.provider, 'status', 'connected', 'expiresAt', u.expires_at, 'previousStatus', b.status)
        from upserted u join before b on b.id = u.id join input i on i.id = u.id
        where i.reconnect
        returning id, kind, payload, created_at
      )
      select u.id, u.version, (b.id is null) as created, null::text as events
      from upserted u left join before b on b.id = u.id
      union all
      select null, null, null, ${EVENTS_WRITTEN}`);
  // After the commit, never inside it (see EventFeed), and not waited for.
  void feed.publishCommitted(rows.find((r) => r.id === null)?.events);
  const written = new Map(
    rows.filter((r) => r.id !== null).map((r) => [r.id, { created: r.created === true, version: Number(r.version) }]),
  );
  for (const [id, index] of indexById) {
    const row = written.get(id);
    results.push(
      row === undefined
        ? { index, ok: false, field: 'connectionId', reason: 'already names a connection of another owner or provider' }
        : { index, ok: true, connectionId: id, ...row },
    );
  }
  return results.sort((a, b) => a.index - b.index);
}

// A type alias, not an interface: drizzle's execute wants a Record (an interface has no index signature).
type CurrentRow = {
  id: string;
  owner_id: string;
  provider: string;
  access_token: string | null;
  refresh_token: string | null;
  credentials: string | null;
  version: string | number;
  status: string;
  expires_at: string | null;
  refresh_at: string | null;
  last_refresh_at: string | null;
};

async function currentRows(db: Database, ids: readonly string[]): Promise<Map<string, CurrentRow>> {
  const rows = await db.execute<CurrentRow>(sql`
    select c.id, c.owner_id, c.provider, c.access_token, c.refresh_token, c.credentials, c.version, c.status,
      c.expires_at, c.refresh_at, c.last_refresh_at
    from connections c join jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb) as x(id) on c.id = x.id`);
  return new Map(rows.map((r) => [r.id, r]));
}

/** True when the row's ciphertexts open to exactly the item's secrets (a row that does not decrypt is not the same). */
function holdsSecretsOf(row: CurrentRow, item: UpsertConnection, keyring: Keyring): boolean {
  const open = (value: string | null, column: Parameters<typeof tokenAad>[1]): string | undefined | null => {
    if (value === null) return undefined;
    try {
      return keyring.decrypt(value, tokenAad(row.id, column));
    } catch {
      return null; // never equal to an item's value
    }
  };
  const credentials = item.credentials === undefined ? undefined : JSON.stringify(item.credentials);
  return (
    open(row.access_token, 'access_token') === item.accessToken &&
    open(row.refresh_token, 'refresh_token') === item.refreshToken &&
    open(row.credentials, 'credentials') === credentials
  );
}
