import {
  InvalidInputError,
  LIVE_STATUSES,
  type ConnectionCredentials,
  type ConnectionEvent,
  type ConnectionStatus,
  type EventSpec,
  type ProviderEventKind,
  type ProviderOutagePayload,
  type RefreshOutcomeKind,
} from '@evergreen/core';
import { tokenAad, type Keyring } from '@evergreen/keyring';
import { and, asc, eq, gt, inArray, lte, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import type { Database } from './database.ts';
import { toView, VIEW_COLUMNS, type ConnectionView } from './connection-view.ts';
import { upsertMany, type BulkUpsertResult, type UpsertManyOptions } from './bulk-upsert.ts';
import { ConnectionDirectory } from './connection-directory.ts';
import { DatabaseError, throwsDatabaseErrors } from './database-error.ts';
import { EventFeed } from './event-feed.ts';
import { EVENTS_WRITTEN, eventsCte } from './outbox.ts';
import { KeyUsage, KeyUsageRecorder, type KeyUsageFlush, type KeyUsageReports } from './key-usage.ts';
import { executePrepared } from './prepared.ts';
import { providerOutageEventSql } from './provider-outage-events.ts';
import {
  openAccess,
  openRow,
  type AccessColumns,
  type AccessRow,
  type ConnectionRow,
  type StoredConnection,
} from './stored-connection.ts';
import { connections, LIVE } from './schema.ts';

export interface UpsertConnection {
  connectionId?: string;
  ownerId: string;
  provider: string;
  accessToken?: string;
  refreshToken?: string;
  refreshTokenExpiresAt?: Date | null;
  credentials?: ConnectionCredentials;
  scopes: string[];
  metadata: Record<string, unknown>;
  expiresAt: Date | null;
  refreshAt: Date | null;
  /** The connect flow's write: an existing row's tokens replaced in place also writes `connection.reconnected`. */
  reconnect?: boolean;
}

/** What every attempt leaves in the audit table. */
export interface AttemptAudit {
  outcome: RefreshOutcomeKind;
  reason: string | null;
  httpStatus: number | null;
  durationMs: number;
  trigger: 'schedule' | 'on_demand' | 'forced';
}

export interface SuccessWrite {
  accessToken: string;
  /** undefined: the provider returned none, keep the stored one (DESIGN.md invariant 5). */
  refreshToken: string | undefined;
  /** The refresh token this answer replaces: kept for one retry inside the provider's grace period. */
  replacedRefreshToken: string | undefined;
  expiresAt: Date | null;
  refreshAt: Date | null;
  /** undefined: unchanged. */
  refreshTokenExpiresAt: Date | null | undefined;
  /** Record that the refresh token's approaching lapse was announced. */
  refreshTokenWarned: boolean;
  /** Metadata the provider sent along, merged into the row's. */
  metadata: Record<string, string> | undefined;
}

export interface FailureWrite {
  status: ConnectionStatus;
  refreshAt: Date | null;
  /** Adds one to the streak for transient failures; rate limits leave it alone. */
  countsAsFailure: boolean;
}

export type WriteResult = { applied: true; version: number } | { applied: false };

export interface ScheduleRow {
  id: string;
  provider: string;
  refreshAt: Date;
}

const UNIQUE_VIOLATION = '23505';
/**
 * How long a refresh's NOTIFY waits for others to share its transaction. Sent at once, nearly every refresh paid a
 * NOTIFY transaction of its own (0.8 per refresh at concurrency 16); subscribers hear of a refresh this much later.
 */
const REFRESH_NOTIFY_COALESCE_MS = 10;
const dialect = new PgDialect();

/**
 * Postgres, the durable truth. Tokens are encrypted here and nowhere else, bound to their row and column; every
 * refresh write is a compare-and-set on `version` and carries its audit row in the same statement.
 */
export class ConnectionStore {
  readonly #db: Database;
  readonly #keyring: Keyring;
  readonly #processName: string;
  readonly #events: EventFeed;
  readonly #directory: ConnectionDirectory;
  readonly #keyUsage: KeyUsageRecorder;

  /**
   * `channel`: where events are NOTIFYed for in-process subscribers (`eventsChannel(schema)`). `keyUsage`: hears the
   * writes of the keyring's encryption count (to warn as a key nears its limit) and their failures.
   */
  constructor(
    db: Database,
    keyring: Keyring,
    processName: string,
    channel = 'evergreen_events',
    options: { keyUsage?: KeyUsageReports } = {},
  ) {
    this.#db = db;
    this.#keyring = keyring;
    this.#processName = processName;
    this.#events = new EventFeed(db, channel);
    this.#directory = new ConnectionDirectory(db);
    this.#keyUsage = new KeyUsageRecorder(new KeyUsage(db), keyring, options.keyUsage);
  }

  /**
   * Inserts or replaces a connection's tokens and resets it to `connected`, in one statement (the bulk path with one
   * item). Without an id, (ownerId, provider) is the identity; a concurrent first insert of the same pair loses the
   * unique race and is retried once as an update.
   */
  async upsert(input: UpsertConnection): Promise<{ connectionId: string; version: number; created: boolean }> {
    for (let attempt = 0; ; attempt++) {
      try {
        const [result] = await this.upsertMany([input]);
        if (!result?.ok) {
          throw new InvalidInputError('enqueueConnection', [
            { field: result?.field ?? 'connectionId', reason: result?.reason ?? 'was not written' },
          ]);
        }
        return { connectionId: result.connectionId, version: result.version, created: result.created };
      } catch (error) {
        if (attempt === 0 && input.connectionId === undefined && pgCode(error) === UNIQUE_VIOLATION) {
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * Many connections in one statement (see bulk-upsert.ts); per-item results, in the items' order. `keepCurrent`:
   * an import's rule (an unchanged row is left alone, a row refreshed since is not overwritten).
   */
  async upsertMany(items: readonly UpsertConnection[], options: UpsertManyOptions = {}): Promise<BulkUpsertResult[]> {
    const results = await upsertMany(this.#db, this.#keyring, this.#events, items, options);
    this.#keyUsage.afterWrite();
    return results;
  }

  /**
   * Adds the encryptions this store's keyring made since the last flush to `key_usage` (done on its own at most once
   * a minute after writes): call it on close so the last minute is counted too.
   */
  flushKeyUsage(): Promise<KeyUsageFlush | null> {
    return this.#keyUsage.flush();
  }

  /** Every event of this Evergreen (every process on the database), as it commits, until the returned stop. */
  subscribe(onEvent: (event: ConnectionEvent) => void): Promise<() => Promise<void>> {
    return this.#events.subscribe(onEvent);
  }

  /**
   * Writes a provider's outage event (its breaker opened or closed) to the outbox, so it reaches webhooks and
   * subscribers like the others; nothing when the provider's last outage event is already of this kind. True when
   * written.
   */
  async recordProviderOutage(kind: ProviderEventKind, payload: ProviderOutagePayload): Promise<boolean> {
    const rows = await executePrepared<{ events: string | null }>(this.#db, providerOutageEventSql(kind, payload));
    const events = rows[0]?.events ?? null;
    await this.#events.publishCommitted(events);
    return events !== null;
  }

  /**
   * Ends a connection: its job is the caller's to remove; here its tokens and credentials are wiped, its status is
   * `disconnected`, its history (refresh_events, connection_events) stays. Null when there is no such connection.
   */
  async disconnect(id: string): Promise<ConnectionView | null> {
    const done = await this.#db.transaction(async (tx) => {
      const [row] = await tx
        .update(connections)
        .set({
          status: 'disconnected',
          accessToken: null,
          refreshToken: null,
          previousRefreshToken: null,
          credentials: null,
          refreshAt: null,
          consecutiveFailures: 0,
          version: sql`${connections.version} + 1`,
          updatedAt: sql`now()`,
        })
        .where(eq(connections.id, id))
        .returning(VIEW_COLUMNS);
      if (!row) return null;
      const event: EventSpec = {
        kind: 'connection.disconnected',
        payload: { connectionId: id, ownerId: row.ownerId, provider: row.provider, status: 'disconnected' },
      };
      const [written] = await tx.execute<{ events: string | null }>(
        sql`with source as (select ${id}::text as id), ${eventsCte('source', [event])} select ${EVENTS_WRITTEN} as events`,
      );
      return { view: toView(row), events: written?.events ?? null };
    });
    if (!done) return null;
    await this.#events.publishCommitted(done.events);
    return done.view;
  }

  /**
   * Merges `set` into a connection's metadata and drops the `remove` keys, in one statement (so a refresh's own merge
   * of provider metadata is never lost). The version stays: metadata is not what the refresh fences on, and bumping it
   * would make an in-flight refresh lose its compare-and-set, and with it a rotated refresh token. Null when there is
   * no such connection.
   */
  async updateMetadata(
    id: string,
    set: Record<string, unknown>,
    remove: readonly string[],
  ): Promise<ConnectionView | null> {
    const [row] = await this.#db
      .update(connections)
      .set({
        // The keys travel as one JSON parameter (drizzle would spread an array into a list of parameters).
        metadata: sql`(${connections.metadata} || ${JSON.stringify(set)}::jsonb)
          - array(select jsonb_array_elements_text(${JSON.stringify(remove)}::jsonb))`,
        updatedAt: sql`now()`,
      })
      .where(eq(connections.id, id))
      .returning(VIEW_COLUMNS);
    return row ? toView(row) : null;
  }

  /** A connection as apps and operators may see it: no token, no credential. */
  view(id: string): Promise<ConnectionView | null> {
    return this.#directory.view(id);
  }

  /**
   * The row as the engine needs it, tokens decrypted. The hottest read (every refresh re-reads its row under the lock,
   * every on-demand token starts here): a prepared statement with its columns named, straight through postgres.js.
   */
  async find(id: string): Promise<StoredConnection | null> {
    const [row] = await this.#db.$client<ConnectionRow[]>`
      select id, owner_id, provider, access_token, refresh_token, previous_refresh_token, refresh_token_rotated_at,
        refresh_token_expires_at, refresh_token_warned_at, credentials, array_to_json(scopes) as scopes, metadata,
        expires_at, refresh_at, status, consecutive_failures, version::text as version, last_refresh_at,
        last_refresh_reason
      from connections where id = ${id}`;
    return row ? openRow(row, this.#keyring) : null;
  }

  /**
   * The access token and what judges it, for a token read: one decryption instead of up to four, and the refresh
   * token never leaves its ciphertext on the read path.
   */
  async findAccess(id: string): Promise<AccessRow | null> {
    const [row] = await this.#db.$client<AccessColumns[]>`
      select id, owner_id, provider, access_token, array_to_json(scopes) as scopes, expires_at, status,
        last_refresh_reason
      from connections where id = ${id}`;
    return row ? openAccess(row, this.#keyring) : null;
  }

  /** Persists a provider's answer: one statement, compare-and-set on version, audit row included. */
  async recordSuccess(
    connection: StoredConnection,
    write: SuccessWrite,
    audit: AttemptAudit,
    events: readonly EventSpec[] = [],
  ): Promise<WriteResult> {
    const seal = (value: string, column: Parameters<typeof tokenAad>[1]) =>
      this.#keyring.encrypt(value, tokenAad(connection.id, column));
    const accessToken = seal(write.accessToken, 'access_token');
    const rotated = write.refreshToken !== undefined && write.refreshToken !== write.replacedRefreshToken;
    const refreshToken = rotated ? seal(write.refreshToken as string, 'refresh_token') : null;
    const previous =
      rotated && write.replacedRefreshToken !== undefined
        ? seal(write.replacedRefreshToken, 'previous_refresh_token')
        : null;
    const rtExpiresAt =
      write.refreshTokenExpiresAt === undefined ? null : (write.refreshTokenExpiresAt?.toISOString() ?? null);
    const result = await this.#casWithAudit(
      connection,
      audit,
      sql`
      access_token = ${accessToken},
      refresh_token = coalesce(${refreshToken}::text, refresh_token),
      previous_refresh_token = case when ${rotated} then ${previous}::text else previous_refresh_token end,
      refresh_token_rotated_at = case when ${rotated} then now() else refresh_token_rotated_at end,
      refresh_token_expires_at = case when ${write.refreshTokenExpiresAt !== undefined} then ${rtExpiresAt}::timestamptz
                                       else refresh_token_expires_at end,
      refresh_token_warned_at = case when ${write.refreshTokenWarned} then now()
                                     when ${rotated} then null else refresh_token_warned_at end,
      metadata = metadata || ${JSON.stringify(write.metadata ?? {})}::jsonb,
      expires_at = ${write.expiresAt?.toISOString() ?? null}::timestamptz,
      refresh_at = ${write.refreshAt?.toISOString() ?? null}::timestamptz,
      status = 'connected',
      consecutive_failures = 0`,
      events,
    );
    this.#keyUsage.afterWrite();
    return result;
  }

  async recordFailure(
    connection: StoredConnection,
    write: FailureWrite,
    audit: AttemptAudit,
    events: readonly EventSpec[] = [],
  ): Promise<WriteResult> {
    return this.#casWithAudit(
      connection,
      audit,
      sql`
      refresh_at = ${write.refreshAt?.toISOString() ?? null}::timestamptz,
      status = ${write.status},
      consecutive_failures = consecutive_failures + ${write.countsAsFailure ? 1 : 0}`,
      events,
    );
  }

  async #casWithAudit(
    connection: StoredConnection,
    audit: AttemptAudit,
    set: ReturnType<typeof sql>,
    events: readonly EventSpec[],
  ): Promise<WriteResult> {
    // Data-modifying CTEs all run, whatever the outer query reads: the audit row is written whether or not the
    // compare-and-set won, and records which. Events (the outbox) are written only when it won: same statement,
    // same transaction as the change they report.
    const rows = await executePrepared<{ version: string | number | null; events: string | null }>(
      this.#db,
      sql`
      with updated as (
        update connections set ${set},
          last_refresh_outcome = ${audit.outcome},
          last_refresh_reason = ${audit.reason},
          last_refresh_at = now(),
          version = version + 1,
          updated_at = now()
        where id = ${connection.id} and version = ${connection.version}
        returning id, version
      ), audited as (
        insert into refresh_events (connection_id, provider, outcome, reason, http_status, duration_ms, applied, trigger, process)
        select ${connection.id}, ${connection.provider}, ${audit.outcome}, ${audit.reason}, ${audit.httpStatus}::int,
               ${Math.round(audit.durationMs)}::int, exists (select 1 from updated), ${audit.trigger}, ${this.#processName}
      ), ${eventsCte('updated', events)}
      select (select version from updated) as version, ${EVENTS_WRITTEN} as events`,
    );
    // After the commit, never inside it (see EventFeed), and not waited for: the refresh goes on to reschedule while
    // the notification rides in the next batch, which gathers what commits in the next few milliseconds.
    void this.#events.publishCommitted(rows[0]?.events, { coalesceMs: REFRESH_NOTIFY_COALESCE_MS });
    const version = rows[0]?.version;
    return version === undefined || version === null ? { applied: false } : { applied: true, version: Number(version) };
  }

  /**
   * Live connections whose job should have run before `before`: the scheduler's incremental sweep, every minute. LIVE
   * is the partial index's own predicate, literally, so the plan walks `connections_live_refresh_at_idx` up to
   * `before` and reads the overdue rows only, whatever the population.
   */
  async findOverdue(before: Date, limit: number): Promise<ScheduleRow[]> {
    const rows = await executePrepared<RawScheduleRow>(
      this.#db,
      sql`select id, provider, (extract(epoch from refresh_at) * 1000)::float8 as "refreshMs" from connections
        where ${LIVE} and refresh_at <= ${before.toISOString()}::timestamptz order by refresh_at limit ${limit}`,
    );
    return rows.map(scheduleRow);
  }

  /**
   * A provider's breaker closed: the live connections of that provider that failed since `since` (the opening, less
   * the breaker's window) and still wait out a retry time written during the outage (up to `horizon`, the longest
   * backoff) are due now instead, so none waits out a cooldown after the provider came back. Returns them, for their
   * jobs. The version stays: only the schedule moves, and a refresh in flight must not be fenced by it.
   */
  async dueNowAfterOutage(provider: string, since: Date, horizon: Date): Promise<ScheduleRow[]> {
    const rows = await this.#db
      .update(connections)
      .set({ refreshAt: sql`now()`, updatedAt: sql`now()` })
      .where(
        and(
          inArray(connections.status, [...LIVE_STATUSES]),
          eq(connections.provider, provider),
          gt(connections.consecutiveFailures, 0),
          gt(connections.refreshAt, sql`now()`),
          lte(connections.refreshAt, horizon),
          sql`${connections.lastRefreshAt} >= ${since.toISOString()}::timestamptz`,
        ),
      )
      .returning({ id: connections.id, provider: connections.provider, refreshAt: connections.refreshAt });
    return rows as ScheduleRow[];
  }

  /**
   * These connections in order of need: the access token that expires first comes first (none known: last), then by
   * id. Connections that no longer exist are left out. One query per call: the caller pages.
   */
  async orderByExpiry(ids: readonly string[]): Promise<{ id: string; expiresAt: Date | null }[]> {
    if (ids.length === 0) return [];
    const rows = await this.#db
      .select({ id: connections.id, expiresAt: connections.expiresAt })
      .from(connections)
      .where(inArray(connections.id, [...ids]))
      .orderBy(sql`${connections.expiresAt} asc nulls last`, asc(connections.id));
    return rows;
  }

  /**
   * Live, scheduled connections in id order after `afterId`: one page of the scheduler's full pass, read along the
   * primary key from `afterId`. Sorting is turned off for the statement because the planner, on a table not analyzed
   * since a bulk import (autovacuum not yet run, or off), estimated a few dozen live rows and chose to collect every
   * live row and sort them, per page: a full pass over 20,000 rows read 451,000, quadratic in the rows. Without a sort
   * the only plan is the walk along the key, which reads the page.
   */
  async pageScheduled(afterId: string | null, limit: number): Promise<ScheduleRow[]> {
    const after = afterId === null ? sql`` : sql`and id > ${afterId}`;
    const { sql: text, params } = dialect.sqlToQuery(
      sql`select id, provider, (extract(epoch from refresh_at) * 1000)::float8 as "refreshMs" from connections
        where ${LIVE} and refresh_at is not null ${after} order by id limit ${limit}`,
    );
    // One transaction, its statements pipelined: one round trip more than the select alone, none held open.
    const [, rows] = await this.#db.$client.begin((tx) => [
      tx`set local enable_sort = off`,
      tx.unsafe<RawScheduleRow[]>(text, params as never[]),
    ]);
    return rows.map(scheduleRow);
  }
}

/** A schedule row as read: drizzle's client leaves timestamps as text for its own mapping, so the time is a number. */
type RawScheduleRow = { id: string; provider: string; refreshMs: number };

function scheduleRow(row: RawScheduleRow): ScheduleRow {
  return { id: row.id, provider: row.provider, refreshAt: new Date(row.refreshMs) };
}

/** The SQLSTATE of a failed store call (its methods throw `DatabaseError`s). */
function pgCode(error: unknown): string | undefined {
  return error instanceof DatabaseError ? error.sqlState : undefined;
}

throwsDatabaseErrors(ConnectionStore);
