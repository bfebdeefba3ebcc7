import { isLive, type ConnectionStatus } from './connection-status.ts';
import { renewsConnections } from './credential-type.ts';
import type { ProviderDefinition } from './provider-definition.ts';
import type { RefreshDecision } from './refresh-decision.ts';

/** A job that wakes a little early (clock differences between hosts) still counts as due. */
export const DUE_TOLERANCE_MS = 1_000;

/** What the gate reads of a connection's row, as the store returns it. */
export interface GateRow {
  provider: string;
  status: ConnectionStatus;
  accessToken: string | null;
  refreshToken: string | null;
  expiresAt: Date | null;
  refreshAt: Date | null;
}

export interface RefreshGateInput<Row extends GateRow> {
  /** The row as re-read under the connection's lock; null: there is no such connection (any more). */
  connection: Row | null;
  providers: ReadonlyMap<string, ProviderDefinition>;
  now: number;
  /** Refresh even if the row says it is not due (a forced or on-demand refresh). */
  force: boolean;
  /**
   * On-demand: refresh only if the stored access token has less than this left. Checked here, under the lock, so a
   * caller that waited for someone else's refresh does not start its own.
   */
  onlyIfExpiringWithinMs?: number | undefined;
  /** When a row names a provider this process does not know, look again this much later. */
  unknownProviderRetryMs: number;
}

/** Send a token request for this row to this provider, or skip it with the decision that says what happens next. */
export type RefreshGate<Row extends GateRow> =
  { kind: 'send'; connection: Row; provider: ProviderDefinition } | { kind: 'skip'; decision: RefreshDecision };

/**
 * Everything that decides, before a token request, whether one should be sent at all: the row is gone or no longer
 * live, another path already moved it on, its provider is unknown or never expires, an on-demand caller's token is
 * still fresh enough, or there is nothing to refresh with. Pure: the clock is an argument and every answer a value.
 */
export function checkBeforeRefresh<Row extends GateRow>(input: RefreshGateInput<Row>): RefreshGate<Row> {
  const { connection, now } = input;
  const skip = (decision: RefreshDecision): RefreshGate<Row> => ({ kind: 'skip', decision });

  if (!connection) return skip({ kind: 'done', why: 'not_found' });
  if (!isLive(connection.status)) return skip({ kind: 'done', why: `status_${connection.status}` });
  if (connection.refreshAt === null && !input.force) return skip({ kind: 'done', why: 'nothing_to_schedule' });
  // Another path (a forced refresh, a re-enqueue) already moved this connection on: just follow the row.
  if (!input.force && connection.refreshAt !== null && connection.refreshAt.getTime() > now + DUE_TOLERANCE_MS) {
    return skip({ kind: 'delay', runAt: connection.refreshAt.getTime(), why: 'not_due' });
  }

  const provider = input.providers.get(connection.provider);
  if (!provider) return skip({ kind: 'delay', runAt: now + input.unknownProviderRetryMs, why: 'unknown_provider' });
  if (!renewsConnections(provider)) return skip({ kind: 'done', why: 'never_expires' });
  if (input.onlyIfExpiringWithinMs !== undefined && connection.accessToken !== null) {
    const left = connection.expiresAt === null ? Infinity : connection.expiresAt.getTime() - now;
    if (left > input.onlyIfExpiringWithinMs) return skip({ kind: 'done', why: 'fresh' });
  }
  if (provider.grant === 'refresh_token' && connection.refreshToken === null) {
    return skip({ kind: 'done', why: 'no_refresh_token' });
  }
  return { kind: 'send', connection, provider };
}
