import { CONNECTION_STATUSES } from '@evergreen/core';
import { safeError, type Logger } from '@evergreen/log';
import type { ProviderBreakers, RefreshQueues } from '@evergreen/queue';
import { ConnectionCounts, KeyUsage, type Database } from '@evergreen/store';
import { Gauge, type Registry } from 'prom-client';
import { withTimeout } from './with-timeout.ts';

/** The BullMQ states the queue gauge reports. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'] as const;
/** The expiring-tokens gauge's windows: its `within` label, and how far ahead that looks. */
const EXPIRING_WINDOWS = [
  { within: '5m', seconds: 5 * 60 },
  { within: '1h', seconds: 60 * 60 },
] as const;

export interface StateCollectorsOptions {
  registry: Registry;
  /** Evergreen's database: the store counts its rows. */
  db: Database;
  /** Producer side of the per-provider queues. */
  queues: RefreshQueues;
  /** Every provider's circuit breaker (absent: no breaker gauge). */
  breakers?: Pick<ProviderBreakers, 'states'>;
  /** Configured provider ids: the queues to count, and the providers reported as 0 when they have no rows. */
  providers: readonly string[];
  log: Logger;
  /** How long a query's answer serves scrapes before it is asked again. Default 5 s. */
  cacheMs?: number;
  /** A query that takes longer than this keeps the last values for this scrape. Default 2 s. */
  queryTimeoutMs?: number;
  now?: () => number;
}

export interface StateCollectors {
  connections: Gauge<'provider' | 'status'>;
  tokensExpiring: Gauge<'provider' | 'within'>;
  queueJobs: Gauge<'provider' | 'state'>;
  keyEncryptions: Gauge<'key_id'>;
  breakerOpen: Gauge<'provider'> | null;
}

type Sample<L extends string> = { labels: Record<L, string>; value: number };

/**
 * One query's last answer, shared by every scrape inside `ttlMs`. A failure (or a query slower than the timeout) is
 * logged and keeps the previous answer, so a scrape never fails and never waits long for a sick dependency. At most
 * one query per source is ever in flight: a slow one is awaited again rather than piled on.
 */
class CachedSource<T> {
  #value: T | null = null;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<T> | null = null;
  #refreshing: Promise<void> | null = null;

  constructor(
    readonly name: string,
    private readonly fetch: () => Promise<T>,
    private readonly o: { ttlMs: number; timeoutMs: number; log: Logger; now: () => number },
  ) {}

  async get(): Promise<T | null> {
    if (this.o.now() - this.#fetchedAt >= this.o.ttlMs) {
      this.#refreshing ??= this.#refresh().finally(() => {
        this.#refreshing = null;
      });
      await this.#refreshing;
    }
    return this.#value;
  }

  async #refresh(): Promise<void> {
    try {
      this.#pending ??= this.fetch().finally(() => {
        this.#pending = null;
      });
      this.#value = await withTimeout(this.#pending, this.o.timeoutMs, `${this.name} query`);
    } catch (error) {
      this.o.log.warn({ gauge: this.name, err: safeError(error) }, 'metrics query failed; keeping the last values');
    } finally {
      this.#fetchedAt = this.o.now();
    }
  }
}

function gaugeFrom<L extends string>(
  registry: Registry,
  config: { name: string; help: string; labelNames: readonly L[] },
  source: CachedSource<Sample<L>[]>,
): Gauge<L> {
  return new Gauge<L>({
    ...config,
    registers: [registry],
    async collect() {
      const samples = await source.get();
      if (samples === null) return; // never answered yet: report nothing rather than false zeros
      this.reset();
      for (const s of samples) this.set(s.labels, s.value);
    },
  });
}

/**
 * Gauges of state computed when Prometheus scrapes: connections by provider and status, live connections whose
 * access token expires within 5 minutes and within an hour, each provider queue's BullMQ job counts, and the values
 * each encryption key has sealed. Each comes from one cheap query (index-backed group-bys, one Lua call per queue, a
 * table of a row per key id), cached for a few seconds.
 */
export function registerStateCollectors(options: StateCollectorsOptions): StateCollectors {
  const { queues, log } = options;
  const counts = new ConnectionCounts(options.db);
  const keyUsage = new KeyUsage(options.db);
  const cache = {
    ttlMs: options.cacheMs ?? 5_000,
    timeoutMs: options.queryTimeoutMs ?? 2_000,
    log,
    now: options.now ?? Date.now,
  };
  const providersWith = (seen: Iterable<string>) => [...new Set([...options.providers, ...seen])];

  const connectionCounts = new CachedSource(
    'evergreen_connections',
    async (): Promise<Sample<'provider' | 'status'>[]> => {
      const rows = await counts.byStatus();
      const byPair = new Map(rows.map((r) => [`${r.provider}\u0000${r.status}`, r.count]));
      const statuses = new Set<string>([...CONNECTION_STATUSES, ...rows.map((r) => r.status)]);
      return providersWith(rows.map((r) => r.provider)).flatMap((provider) =>
        [...statuses].map((status) => ({
          labels: { provider, status },
          value: byPair.get(`${provider}\u0000${status}`) ?? 0,
        })),
      );
    },
    cache,
  );

  const expiringCounts = new CachedSource(
    'evergreen_tokens_expiring',
    async (): Promise<Sample<'provider' | 'within'>[]> => {
      const rows = await counts.expiring(EXPIRING_WINDOWS.map((w) => w.seconds));
      const byProvider = new Map(rows.map((r) => [r.provider, r.counts]));
      return providersWith(byProvider.keys()).flatMap((provider) =>
        EXPIRING_WINDOWS.map(({ within }, i) => ({
          labels: { provider, within },
          value: byProvider.get(provider)?.[i] ?? 0,
        })),
      );
    },
    cache,
  );

  const queueCounts = new CachedSource(
    'evergreen_queue_jobs',
    async (): Promise<Sample<'provider' | 'state'>[]> => {
      const perProvider = await Promise.all(
        options.providers.map(async (provider) => {
          const shards = await Promise.all(
            queues.queuesOf(provider).map((queue) => queue.getJobCounts(...QUEUE_STATES)),
          );
          return QUEUE_STATES.map((state) => ({
            labels: { provider, state },
            value: shards.reduce((sum, counts) => sum + (counts[state] ?? 0), 0),
          }));
        }),
      );
      return perProvider.flat();
    },
    cache,
  );

  const keyCounts = new CachedSource(
    'evergreen_key_encryptions',
    async (): Promise<Sample<'key_id'>[]> =>
      (await keyUsage.totals()).map((t) => ({ labels: { key_id: t.keyId }, value: t.encryptions })),
    cache,
  );

  const { breakers } = options;
  const breakerStates = breakers
    ? new CachedSource(
        'evergreen_provider_breaker_open',
        async (): Promise<Sample<'provider'>[]> =>
          [...(await breakers.states(options.providers))].map(([provider, state]) => ({
            labels: { provider },
            value: state.kind === 'open' ? 1 : 0,
          })),
        // A breaker's state changes in seconds; a scrape should see it.
        { ...cache, ttlMs: Math.min(cache.ttlMs, 1_000) },
      )
    : null;

  return {
    breakerOpen: breakerStates
      ? gaugeFrom(
          options.registry,
          {
            name: 'evergreen_provider_breaker_open',
            help: "1 while a provider's circuit breaker is open (its token endpoint failing: refreshes held, probes only), else 0.",
            labelNames: ['provider'] as const,
          },
          breakerStates,
        )
      : null,
    connections: gaugeFrom(
      options.registry,
      {
        name: 'evergreen_connections',
        help: 'Stored connections by provider and status.',
        labelNames: ['provider', 'status'] as const,
      },
      connectionCounts,
    ),
    tokensExpiring: gaugeFrom(
      options.registry,
      {
        name: 'evergreen_tokens_expiring',
        help: 'Live connections (connected, token_expired) whose access token expires within the window (or has expired).',
        labelNames: ['provider', 'within'] as const,
      },
      expiringCounts,
    ),
    queueJobs: gaugeFrom(
      options.registry,
      {
        name: 'evergreen_queue_jobs',
        help: "Jobs in each provider's refresh queue by BullMQ state.",
        labelNames: ['provider', 'state'] as const,
      },
      queueCounts,
    ),
    keyEncryptions: gaugeFrom(
      options.registry,
      {
        name: 'evergreen_key_encryptions',
        // Key ids are not secret; the keys are never near this code.
        help: 'Values sealed with each encryption key id, by every process (written once a minute). AES-GCM with random IVs allows 2^32 per key (NIST SP 800-38D §8.3): rotate well before.',
        labelNames: ['key_id'] as const,
      },
      keyCounts,
    ),
  };
}
