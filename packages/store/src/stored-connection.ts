import type { ConnectionCredentials, ConnectionStatus } from '@evergreen/core';
import { tokenAad, type Keyring } from '@evergreen/keyring';

/** A connection as the engine sees it: tokens decrypted, in memory only. */
export interface StoredConnection {
  id: string;
  ownerId: string;
  provider: string;
  accessToken: string | null;
  refreshToken: string | null;
  previousRefreshToken: string | null;
  refreshTokenRotatedAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  refreshTokenWarnedAt: Date | null;
  credentials: ConnectionCredentials | null;
  scopes: string[];
  metadata: Record<string, unknown>;
  expiresAt: Date | null;
  refreshAt: Date | null;
  status: ConnectionStatus;
  consecutiveFailures: number;
  version: number;
  lastRefreshAt: Date | null;
  lastRefreshReason: string | null;
}

/** What a token read needs: the access token alone decrypted, the refresh token and credentials left sealed. */
export type AccessRow = Pick<
  StoredConnection,
  'id' | 'ownerId' | 'provider' | 'accessToken' | 'scopes' | 'expiresAt' | 'status' | 'lastRefreshReason'
>;

export type AccessColumns = Pick<
  ConnectionRow,
  'id' | 'owner_id' | 'provider' | 'access_token' | 'scopes' | 'expires_at' | 'status' | 'last_refresh_reason'
>;

/**
 * The columns `find` reads, as postgres.js returns them under drizzle: drizzle turns off postgres.js's timestamp
 * parsing (it maps them itself), so timestamps arrive as Postgres's text; jsonb is parsed; int8 is read as text.
 */
export interface ConnectionRow {
  id: string;
  owner_id: string;
  provider: string;
  access_token: string | null;
  refresh_token: string | null;
  previous_refresh_token: string | null;
  refresh_token_rotated_at: string | null;
  refresh_token_expires_at: string | null;
  refresh_token_warned_at: string | null;
  credentials: string | null;
  scopes: string[];
  metadata: Record<string, unknown>;
  expires_at: string | null;
  refresh_at: string | null;
  status: string;
  consecutive_failures: number;
  version: string;
  last_refresh_at: string | null;
  last_refresh_reason: string | null;
}

function toDate(text: string | null): Date | null {
  return text === null ? null : new Date(text);
}

/** A row `find` read, its secrets decrypted (each bound to its row and column). */
export function openRow(row: ConnectionRow, keyring: Keyring): StoredConnection {
  const open = (value: string | null, column: Parameters<typeof tokenAad>[1]) =>
    value === null ? null : keyring.decrypt(value, tokenAad(row.id, column));
  const credentials = open(row.credentials, 'credentials');
  return {
    id: row.id,
    ownerId: row.owner_id,
    provider: row.provider,
    accessToken: open(row.access_token, 'access_token'),
    refreshToken: open(row.refresh_token, 'refresh_token'),
    previousRefreshToken: open(row.previous_refresh_token, 'previous_refresh_token'),
    refreshTokenRotatedAt: toDate(row.refresh_token_rotated_at),
    refreshTokenExpiresAt: toDate(row.refresh_token_expires_at),
    refreshTokenWarnedAt: toDate(row.refresh_token_warned_at),
    credentials: credentials === null ? null : (JSON.parse(credentials) as ConnectionCredentials),
    scopes: row.scopes,
    metadata: row.metadata,
    expiresAt: toDate(row.expires_at),
    refreshAt: toDate(row.refresh_at),
    status: row.status as ConnectionStatus,
    consecutiveFailures: row.consecutive_failures,
    version: Number(row.version),
    lastRefreshAt: toDate(row.last_refresh_at),
    lastRefreshReason: row.last_refresh_reason,
  };
}

/** A row `findAccess` read, its access token decrypted. */
export function openAccess(row: AccessColumns, keyring: Keyring): AccessRow {
  return {
    id: row.id,
    ownerId: row.owner_id,
    provider: row.provider,
    accessToken: row.access_token === null ? null : keyring.decrypt(row.access_token, tokenAad(row.id, 'access_token')),
    scopes: row.scopes,
    expiresAt: toDate(row.expires_at),
    status: row.status as ConnectionStatus,
    lastRefreshReason: row.last_refresh_reason,
  };
}
