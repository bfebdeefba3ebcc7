import type { ConnectionStatus } from '@evergreen/core';
import type { connections } from './schema.ts';

/** What may be shown of a connection: everything but its tokens and credentials. */
export interface ConnectionView {
  connectionId: string;
  ownerId: string;
  provider: string;
  status: ConnectionStatus;
  scopes: string[];
  metadata: Record<string, unknown>;
  expiresAt: Date | null;
  refreshAt: Date | null;
  refreshTokenExpiresAt: Date | null;
  lastRefreshAt: Date | null;
  lastRefreshOutcome: string | null;
  lastRefreshReason: string | null;
  consecutiveFailures: number;
  version: number;
  createdAt: Date;
  updatedAt: Date;
}

export function toView(row: typeof connections.$inferSelect): ConnectionView {
  return {
    connectionId: row.id,
    ownerId: row.ownerId,
    provider: row.provider,
    status: row.status as ConnectionStatus,
    scopes: row.scopes,
    metadata: row.metadata,
    expiresAt: row.expiresAt,
    refreshAt: row.refreshAt,
    refreshTokenExpiresAt: row.refreshTokenExpiresAt,
    lastRefreshAt: row.lastRefreshAt,
    lastRefreshOutcome: row.lastRefreshOutcome,
    lastRefreshReason: row.lastRefreshReason,
    consecutiveFailures: row.consecutiveFailures,
    version: row.version,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}
