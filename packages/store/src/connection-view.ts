import type { ConnectionStatus } from '@evergreen/core';
import { connections } from './schema.ts';

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

/**
 * The only columns read when a connection is shown: everything a ConnectionView holds, and no token, previous token or
 * credential column, so those are not even read into memory.
 */
export const VIEW_COLUMNS = {
  id: connections.id,
  ownerId: connections.ownerId,
  provider: connections.provider,
  status: connections.status,
  scopes: connections.scopes,
  metadata: connections.metadata,
  expiresAt: connections.expiresAt,
  refreshAt: connections.refreshAt,
  refreshTokenExpiresAt: connections.refreshTokenExpiresAt,
  lastRefreshAt: connections.lastRefreshAt,
  lastRefreshOutcome: connections.lastRefreshOutcome,
  lastRefreshReason: connections.lastRefreshReason,
  consecutiveFailures: connections.consecutiveFailures,
  version: connections.version,
  createdAt: connections.createdAt,
  updatedAt: connections.updatedAt,
};

export type ViewRow = Omit<ConnectionView, 'connectionId' | 'status'> & { id: string; status: string };

export function toView(row: ViewRow): ConnectionView {
  const { id, status, ...rest } = row;
  return { connectionId: id, status: status as ConnectionStatus, ...rest };
}
