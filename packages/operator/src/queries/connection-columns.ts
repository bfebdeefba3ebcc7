import type { ConnectionStatus } from '@evergreen/core';
import type { ConnectionView } from '@evergreen/store';
import { tables } from '@evergreen/store';

const c = tables.connections;

/**
 * The only columns the operator API ever selects from `connections`: everything a ConnectionView shows, and no token,
 * previous token or credential column (they are not even read into memory).
 */
export const VIEW_COLUMNS = {
  id: c.id,
  ownerId: c.ownerId,
  provider: c.provider,
  status: c.status,
  scopes: c.scopes,
  metadata: c.metadata,
  expiresAt: c.expiresAt,
  refreshAt: c.refreshAt,
  refreshTokenExpiresAt: c.refreshTokenExpiresAt,
  lastRefreshAt: c.lastRefreshAt,
  lastRefreshOutcome: c.lastRefreshOutcome,
  lastRefreshReason: c.lastRefreshReason,
  consecutiveFailures: c.consecutiveFailures,
  version: c.version,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
};

export interface ViewRow {
  id: string;
  ownerId: string;
  provider: string;
  status: string;
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

export function rowToView(row: ViewRow): ConnectionView {
  const { id, status, ...rest } = row;
  return { connectionId: id, status: status as ConnectionStatus, ...rest };
}
