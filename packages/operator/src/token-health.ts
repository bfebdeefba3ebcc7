import { CONNECTION_STATUSES, type BreakerState, type ConnectionStatus } from '@evergreen/core';
import type { ConnectionCounts, RefreshAudit } from '@evergreen/store';

export const BUCKET_SECONDS = 300;
export const BUCKET_COUNT = 72; // 6 hours of 5-minute buckets
const EXPIRING_WINDOW_SECONDS = 3600;
const FAILURE_WINDOW_SECONDS = 24 * 3600;

export interface TokenHealth {
  generatedAt: Date;
  total: number;
  byStatus: Record<ConnectionStatus, number>;
  /** Per provider: its total and its count per status. */
  byProvider: Record<string, { total: number } & Record<ConnectionStatus, number>>;
  /** Live connections whose access token lapses within the next hour (or already has), per provider. */
  expiringWithinHour: Record<string, number>;
  /** Failed refresh attempts (every outcome but success) of the last 24 hours, by outcome and reason, most first. */
  failuresLast24h: { outcome: string; reason: string | null; count: number }[];
  /** Refresh attempts per 5-minute bucket over the last 6 hours, oldest first, empty buckets included. */
  refreshes: { bucketSeconds: number; buckets: { start: Date; success: number; failure: number }[] };
  /** Providers whose circuit breaker is open (token endpoint failing: refreshes held, probes only), by provider id. */
  openBreakers: OpenBreaker[];
}

export interface OpenBreaker {
  provider: string;
  openedAt: Date;
  /** The classified reason of the failure that opened it, and the window's counts then (null: unknown). */
  reason: string | null;
  failures: number | null;
  requests: number | null;
  nextProbeAt: Date;
}

/** Every provider's breaker, read at once (the Redis keyspace `ProviderBreakers`). */
export interface BreakerStates {
  states(providerIds: readonly string[]): Promise<Map<string, BreakerState>>;
}

const zeroStatuses = () =>
  Object.fromEntries(CONNECTION_STATUSES.map((s) => [s, 0])) as Record<ConnectionStatus, number>;

/**
 * The token-health summary, from the store's counts and audit (four queries side by side) and, when given, the
 * providers' breakers in Redis.
 */
export async function tokenHealth(
  store: { counts: ConnectionCounts; audit: RefreshAudit },
  breakers?: { states: BreakerStates; providers: readonly string[] },
): Promise<TokenHealth> {
  const [statusCounts, expiring, failures, buckets, openBreakers] = await Promise.all([
    store.counts.byStatus(),
    store.counts.expiring([EXPIRING_WINDOW_SECONDS]),
    store.audit.failuresWithin(FAILURE_WINDOW_SECONDS),
    store.audit.perBucket(BUCKET_SECONDS, BUCKET_COUNT),
    breakers ? openBreakersOf(breakers.states, breakers.providers) : Promise.resolve([]),
  ]);
  const byStatus = zeroStatuses();
  const byProvider: TokenHealth['byProvider'] = {};
  let total = 0;
  for (const row of statusCounts) {
    total += row.count;
    byStatus[row.status] = (byStatus[row.status] ?? 0) + row.count;
    const entry = (byProvider[row.provider] ??= { total: 0, ...zeroStatuses() });
    entry.total += row.count;
    entry[row.status] = (entry[row.status] ?? 0) + row.count;
  }
  return {
    generatedAt: new Date(),
    total,
    byStatus,
    byProvider,
    expiringWithinHour: Object.fromEntries(expiring.map((r) => [r.provider, r.counts[0] ?? 0])),
    failuresLast24h: failures,
    refreshes: { bucketSeconds: BUCKET_SECONDS, buckets },
    openBreakers,
  };
}

async function openBreakersOf(states: BreakerStates, providers: readonly string[]): Promise<OpenBreaker[]> {
  const open: OpenBreaker[] = [];
  for (const [provider, state] of await states.states(providers)) {
    if (state.kind !== 'open') continue;
    open.push({
      provider,
      openedAt: new Date(state.openedAt),
      reason: state.why?.reason ?? null,
      failures: state.why?.failures ?? null,
      requests: state.why?.requests ?? null,
      nextProbeAt: new Date(state.nextProbeAt),
    });
  }
  return open;
}
