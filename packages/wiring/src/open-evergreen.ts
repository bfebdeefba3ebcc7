import type { EvergreenConfig } from '@evergreen/config';
import type { ProviderDefinition } from '@evergreen/core';
import { safeError, type Logger } from '@evergreen/log';
import { completeFromDiscovery, OidcDiscovery, TokenClient } from '@evergreen/oauth';
import {
  ConnectionLock,
  createRedis,
  ProviderBreakers,
  RefreshQueues,
  SendSlots,
  type RedisClient,
} from '@evergreen/queue';
import { engineFromConfig, OutageRecovery, type RefreshEngine, type RefreshObserver } from '@evergreen/refresh';
import {
  checkSearchPath,
  closeDatabase,
  ConnectionStore,
  eventsChannel,
  migrateDatabase,
  openDatabase,
  type Database,
} from '@evergreen/store';
import { firstConnection } from './first-connection.ts';
import { PartsClosedError } from './parts-closed-error.ts';
import { queueLayout } from './queue-layout.ts';
import { keyUsageReports } from './key-usage-reports.ts';
import { retryWhileUnreachable } from './retry-while-unreachable.ts';

/** Longer than a producer client's connect timeout (2 s), so a slow but working Redis is waited for. */
const FIRST_CONNECTION_TIMEOUT_MS = 3_000;
/** How long a process waits at start for a Postgres that is not there yet (a pod starting while it restarts). */
const POSTGRES_START_WAIT_MS = 120_000;

export interface OpenOptions {
  log: Logger;
  /** Counts the refreshes the background engine runs (the roles' metrics). */
  observer?: RefreshObserver;
  /** Builds the store in place of the root's own, over the root's pool (tests inject one that fails on cue). */
  store?: (db: Database) => ConnectionStore;
}

/** One Redis client and what is built on it: the queues, the per-connection lock, the send slots and an engine. */
export interface RedisParts {
  readonly redis: RedisClient;
  readonly queues: RefreshQueues;
  readonly lock: ConnectionLock;
  readonly sendSlots: SendSlots;
  /** Every provider's circuit breaker, shared through Redis by every process. */
  readonly breakers: ProviderBreakers;
  /** The refresh engine over this client, the process's store and token client. */
  readonly engine: RefreshEngine;
  /** Settles (never rejects) when the client's first connection attempt does: true once it takes commands. */
  readonly firstConnection: Promise<boolean>;
}

/** The shared parts of one Evergreen process. Every role, the board and the SDK's direct mode use the same ones. */
export interface EvergreenParts {
  readonly config: EvergreenConfig;
  readonly log: Logger;
  /** The process's one Postgres pool (EVERGREEN_DB_POOL_SIZE connections, opened as queries need them). */
  readonly db: Database;
  readonly store: ConnectionStore;
  /** The Postgres channel the events outbox notifies on. */
  readonly eventsChannel: string;
  readonly providers: ReadonlyMap<string, ProviderDefinition>;
  /** Token endpoint requests (one undici agent). */
  readonly tokens: TokenClient;
  /**
   * Redis for background work (workers, the reconcile): a command waits out an outage. Connects on first use; its
   * engine reports to the `observer`.
   */
  readonly worker: RedisParts;
  /**
   * Redis for callers waiting on an answer (the SDK, the board): during an outage a command fails at once, so an
   * enqueue answers `scheduling: 'pending'` instead of hanging. Connects on first use.
   */
  readonly producer: RedisParts;
  /**
   * What a process does before its first query: applies pending migrations when EVERGREEN_MIGRATE_ON_START (once,
   * serialised with other processes by an advisory lock), waiting up to `waitForPostgresMs` (default 120 s) while
   * Postgres is unreachable; 0 fails at once. A failure lets the next call try again.
   */
  prepare(options?: { waitForPostgresMs?: number }): Promise<void>;
  /**
   * Closes what was opened, once: the queues, the token client, the Redis clients, then the pool. Stop taking work and
   * drain it first (workers, servers): this only disconnects.
   */
  close(): Promise<void>;
}

/**
 * The composition root: builds the shared parts of one Evergreen process from its config. Nothing connects here;
 * the pool and each Redis client connect when first used, so a process opens only what its roles need, and each at
 * most once (one pool, at most one Redis client of each kind, whatever roles the process runs).
 */
export function openEvergreen(config: EvergreenConfig, options: OpenOptions): EvergreenParts {
  const { log } = options;
  const db = openDatabase({
    url: config.databaseUrl,
    schema: config.dbSchema,
    max: config.dbPoolSize,
    poolMode: config.dbPoolMode,
    directUrl: config.databaseDirectUrl,
  });
  const channel = eventsChannel(config.dbSchema);
  const store =
    options.store?.(db) ??
    new ConnectionStore(db, config.keyring, config.processName, channel, { keyUsage: keyUsageReports(log) });
  const tokens = new TokenClient(config.http);
  const providers: ReadonlyMap<string, ProviderDefinition> = new Map(config.providers.map((p) => [p.id, p]));
  const layout = queueLayout(config);
  let worker: RedisParts | undefined;
  let producer: RedisParts | undefined;
  let prepared: Promise<void> | undefined;
  let discovered: Promise<void> | undefined;

  /** OpenID Connect entries that name their issuer alone get their endpoints before the first refresh (never throws). */
  async function discoverEndpoints(): Promise<void> {
    const failures = await completeFromDiscovery(
      providers.values(),
      new OidcDiscovery({ timeoutMs: config.http.deadlineMs }),
    );
    for (const failure of failures) log.warn(failure, 'openid connect discovery failed');
  }
  let closing: Promise<void> | undefined;

  function openRedisParts(kind: 'worker' | 'producer'): RedisParts {
    if (closing) throw new PartsClosedError(`the ${kind} Redis client`);
    const redis = createRedis(config.redis, kind);
    if (kind === 'worker') {
      redis.on('error', (error) => log.warn({ err: safeError(error) }, 'redis connection problem'));
    } else {
      // A caller hears of an outage from its own call (`scheduling: 'pending'`, a failed request), not from a warning
      // per reconnect attempt; a process that wants those (the board) listens itself.
      redis.on('error', () => {});
    }
    const lock = new ConnectionLock(redis, config.redisPrefix);
    const sendSlots = new SendSlots(redis, config.redisPrefix);
    const breakers = new ProviderBreakers(redis, config.redisPrefix);
    const queues = new RefreshQueues(redis, config.redisPrefix, layout);
    const engine = engineFromConfig(config, {
      store,
      lock,
      sendSlots,
      pauses: queues,
      breakers,
      outageEvents: store,
      outageRecovery: new OutageRecovery(store, queues, config.refresh.backoff),
      tokens,
      // The producer's engine serves the SDK's on-demand and forced refreshes; the roles' metrics count the workers'.
      log: log.child({ component: kind === 'worker' ? 'refresh' : 'sdk' }),
      ...(kind === 'worker' && options.observer && { observer: options.observer }),
    });
    return {
      redis,
      queues,
      lock,
      sendSlots,
      breakers,
      engine,
      firstConnection: firstConnection(redis, FIRST_CONNECTION_TIMEOUT_MS),
    };
  }

  return {
    config,
    log,
    db,
    store,
    eventsChannel: channel,
    providers,
    tokens,
    get worker() {
      return (worker ??= openRedisParts('worker'));
    },
    get producer() {
      return (producer ??= openRedisParts('producer'));
    },
    async prepare({ waitForPostgresMs = POSTGRES_START_WAIT_MS } = {}) {
      discovered ??= discoverEndpoints();
      await discovered;
      const transactionPooled = config.dbPoolMode === 'transaction';
      if (!config.migrateOnStart && !transactionPooled) return;
      prepared ??= retryWhileUnreachable(
        'Postgres',
        async () => {
          // The advisory lock that serialises migrations lives in a session: over the direct URL.
          if (config.migrateOnStart) await migrateDatabase({ url: config.databaseDirectUrl, schema: config.dbSchema });
          if (transactionPooled) await checkSearchPath(db, config.dbSchema);
        },
        { log, giveUpAfterMs: waitForPostgresMs },
      ).catch((error: unknown) => {
        prepared = undefined; // let the next call try again
        throw error;
      });
      return prepared;
    },
    close() {
      return (closing ??= (async () => {
        // Before the clients go: the engines' breaker batching timers stop (their pending counts only dilute).
        for (const side of [producer, worker]) side?.engine.close();
        for (const side of [producer, worker]) await side?.queues.close().catch(() => {});
        await tokens.close();
        producer?.redis.disconnect();
        worker?.redis.disconnect();
        // The encryptions of the last minute, which no later write will carry (failures are logged by the reports).
        await store.flushKeyUsage().catch(() => {});
        await closeDatabase(db);
      })());
    },
  };
}
