import { LIVE_STATUSES } from '@evergreen/core';
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * Live rows as a literal predicate, `status in ('connected', 'token_expired')`: the partial indexes' WHERE, and the
 * condition of a query that must match it for the planner to use them (a bound parameter would not).
 */
export const LIVE = sql.raw(`status in (${LIVE_STATUSES.map((s) => `'${s}'`).join(', ')})`);

/**
 * One row per OAuth connection. Tables carry no schema name: the schema comes from the connection's search_path,
 * so one database can hold several isolated Evergreens (and each test file its own).
 */
export const connections = pgTable(
  'connections',
  {
    id: text('id').primaryKey(),
    ownerId: text('owner_id').notNull(),
    provider: text('provider').notNull(),
    /** True when the caller gave no id: then (owner_id, provider) is the connection's identity. */
    keyedByOwner: boolean('keyed_by_owner').notNull().default(false),
    /** Ciphertexts (keyring format); null once a connection is disconnected and its tokens wiped. */
    accessToken: text('access_token'),
    refreshToken: text('refresh_token'),
    /** The refresh token the last rotation replaced, for one retry inside the provider's grace period. */
    previousRefreshToken: text('previous_refresh_token'),
    refreshTokenRotatedAt: timestamp('refresh_token_rotated_at', { withTimezone: true, mode: 'date' }),
    /** When the refresh token itself lapses, when the provider says (GitHub's refresh_token_expires_in). */
    refreshTokenExpiresAt: timestamp('refresh_token_expires_at', { withTimezone: true, mode: 'date' }),
    /** Set once the approaching lapse has been announced; cleared when a new refresh token arrives. */
    refreshTokenWarnedAt: timestamp('refresh_token_warned_at', { withTimezone: true, mode: 'date' }),
    /** Ciphertext of the JSON credentials of a credential grant (username and password, or a client of its own). */
    credentials: text('credentials'),
    scopes: text('scopes')
      .array()
      .notNull()
      .default(sql`'{}'::text[]`),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    /** When the next job should run: the next refresh, or the next retry after a failure. */
    refreshAt: timestamp('refresh_at', { withTimezone: true, mode: 'date' }),
    status: text('status').notNull().default('connected'),
    lastRefreshOutcome: text('last_refresh_outcome'),
    lastRefreshReason: text('last_refresh_reason'),
    lastRefreshAt: timestamp('last_refresh_at', { withTimezone: true, mode: 'date' }),
    consecutiveFailures: integer('consecutive_failures').notNull().default(0),
    /** Fencing token: every write is a compare-and-set on it (DESIGN.md invariant 4). */
    version: bigint('version', { mode: 'number' }).notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    check(
      'connections_status_check',
      sql`${t.status} in ('connected', 'token_expired', 'needs_reauth', 'error', 'disconnected')`,
    ),
    uniqueIndex('connections_owner_provider_key')
      .on(t.ownerId, t.provider)
      .where(sql`keyed_by_owner`),
    // The scheduler's overdue sweep and the operators' "what is due soon" both walk live rows by refresh time.
    index('connections_live_refresh_at_idx').on(t.refreshAt).where(LIVE),
    index('connections_live_expires_at_idx').on(t.expiresAt).where(LIVE),
    index('connections_live_refresh_token_expires_at_idx').on(t.refreshTokenExpiresAt).where(LIVE),
    index('connections_status_provider_idx').on(t.status, t.provider),
    index('connections_owner_idx').on(t.ownerId),
    index('connections_updated_at_idx').on(t.updatedAt),
  ],
);

/** One row per refresh attempt: the audit trail. Never a token, never a response body. */
export const refreshEvents = pgTable(
  'refresh_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    connectionId: text('connection_id').notNull(),
    provider: text('provider').notNull(),
    /** success | transient | rate_limited | reauth | fatal */
    outcome: text('outcome').notNull(),
    reason: text('reason'),
    httpStatus: integer('http_status'),
    durationMs: integer('duration_ms').notNull(),
    /** Whether the attempt's write won the compare-and-set (false: a newer write got there first). */
    applied: boolean('applied').notNull(),
    trigger: text('trigger').notNull(),
    process: text('process').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('refresh_events_connection_idx').on(t.connectionId, t.createdAt),
    index('refresh_events_created_at_idx').on(t.createdAt),
    index('refresh_events_outcome_idx').on(t.outcome, t.reason, t.createdAt),
  ],
);

/**
 * The outbox: one row per event, written in the same statement as the change it reports, so an event exists exactly
 * when its change does. Never a token.
 */
export const connectionEvents = pgTable(
  'connection_events',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    connectionId: text('connection_id').notNull(),
    /** connection.refreshed, connection.refresh_failed, connection.needs_reauth, ... (docs/events.md) */
    kind: text('kind').notNull(),
    payload: jsonb('payload').$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    index('connection_events_connection_idx').on(t.connectionId, t.id),
    index('connection_events_created_at_idx').on(t.createdAt),
  ],
);

/** How far each webhook endpoint has taken the outbox; the row lock makes one dispatcher per endpoint at a time. */
export const webhookCursors = pgTable('webhook_cursors', {
  endpoint: text('endpoint').primaryKey(),
  lastEventId: bigint('last_event_id', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/** One row per (event, endpoint): the delivery state of at-least-once webhooks. */
export const webhookDeliveries = pgTable(
  'webhook_deliveries',
  {
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    endpoint: text('endpoint').notNull(),
    /** pending | delivered | failed (gave up after the last attempt) */
    status: text('status').notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
    lastHttpStatus: integer('last_http_status'),
    lastError: text('last_error'),
    deliveredAt: timestamp('delivered_at', { withTimezone: true, mode: 'date' }),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.eventId, t.endpoint] }),
    index('webhook_deliveries_due_idx')
      .on(t.nextAttemptAt)
      .where(sql`status = 'pending'`),
  ],
);

/**
 * How many values each encryption key has sealed, summed over every process (each adds its count in batches): AES-GCM
 * with random IVs allows 2^32 per key (NIST SP 800-38D §8.3), so the count says when to put a new key first.
 */
export const keyUsage = pgTable('key_usage', {
  keyId: text('key_id').primaryKey(),
  encryptions: bigint('encryptions', { mode: 'number' }).notNull().default(0),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * API keys of the api role (docs/api.md). The key itself is never stored: `secret_hash` is the SHA-256 of the whole
 * key, enough for a 256-bit random secret. Revocation sets `revoked_at`; the row stays, for the list and the audit.
 */
export const apiKeys = pgTable('api_keys', {
  /** The public part of the key (`evg_<id>_…`): lookup and display. */
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  secretHash: text('secret_hash').notNull(),
  scopes: text('scopes').array().notNull(),
  /** The providers whose connections the key sees; null: every provider. */
  providers: text('providers').array(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  /** Written at most once a minute per key, not per request. */
  lastUsedAt: timestamp('last_used_at', { withTimezone: true, mode: 'date' }),
  revokedAt: timestamp('revoked_at', { withTimezone: true, mode: 'date' }),
});

/**
 * Connect sessions (docs/connect.md): one per authorization started, consumed once by the provider's redirect. The
 * state itself is never stored, only its SHA-256 (the state is the callback's credential, so a database reader must not
 * be able to use it); the PKCE verifier and the OpenID Connect nonce are sealed with the keyring, bound to the session.
 */
export const connectSessions = pgTable(
  'connect_sessions',
  {
    id: text('id').primaryKey(),
    stateHash: text('state_hash').notNull(),
    ownerId: text('owner_id').notNull(),
    provider: text('provider').notNull(),
    /** The connection to create under this id, or to reconnect in place. */
    connectionId: text('connection_id'),
    scopes: text('scopes').array().notNull(),
    metadata: jsonb('metadata').$type<Record<string, unknown>>().notNull().default({}),
    returnTo: text('return_to').notNull(),
    redirectUri: text('redirect_uri').notNull(),
    /** Ciphertext (keyring format) of the JSON `{ codeVerifier, nonce }`. */
    secrets: text('secrets').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }).notNull(),
    /** Set by the one callback that consumed the state; a second one finds it set and changes nothing. */
    consumedAt: timestamp('consumed_at', { withTimezone: true, mode: 'date' }),
    /** `connected`, or the error_code the callback answered. */
    outcome: text('outcome'),
    createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('connect_sessions_state_hash_key').on(t.stateHash),
    index('connect_sessions_expires_at_idx').on(t.expiresAt),
  ],
);
