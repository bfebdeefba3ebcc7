import {
  InvalidInputError,
  parseConnectionInput,
  planRefresh,
  resolveTokenUrl,
  type ConnectionInput,
  type ConnectionStatus,
  type InputIssue,
  type ProviderDefinition,
} from '@evergreen/core';
import { loadConfig, type EvergreenConfig } from '@evergreen/config';
import { createLogger, safeError, type Logger } from '@evergreen/log';
import { createRedis, RefreshQueues } from '@evergreen/queue';
import { timingPolicyFor } from '@evergreen/refresh';
import { closeDatabase, ConnectionStore, migrateDatabase, openDatabase, type Database } from '@evergreen/store';
import type { Redis } from 'ioredis';

export interface EvergreenOptions {
  /** A parsed configuration; by default it is read from the environment (DATABASE_URL, REDIS_URL, EVERGREEN_*). */
  config?: EvergreenConfig;
  /** Where the client logs; a silent-by-default child of a new root logger otherwise. */
  logger?: Logger;
}

/** What a producer hands over: see DESIGN.md's contract. */
export interface EnqueueConnectionInput {
  connectionId?: string;
  ownerId: string;
  provider: string;
  /** Required, except for credential grants (client credentials, password), which log in on their own. */
  accessToken?: string;
  refreshToken?: string;
  /** When the access token dies: a Date or an ISO-8601 string. */
  expiresAt?: Date | string;
  /** Seconds from now until the access token dies (a token response's expires_in). */
  expiresIn?: number;
  /** Seconds until the refresh token itself lapses, when the provider said (`refresh_token_expires_in`). */
  refreshTokenExpiresIn?: number;
  /** Credential grants: a login (`username`, `password`) or a client of the connection's own. Stored encrypted. */
  credentials?: { username?: string; password?: string; clientId?: string; clientSecret?: string };
  scopes?: string[];
  /** Free-form; also fills provider token-URL placeholders (`instance_url`, `subdomain`, `tenant`). */
  metadata?: Record<string, unknown>;
}

export interface EnqueueConnectionResult {
  connectionId: string;
  status: ConnectionStatus;
  /** null when nobody knows (no expiry given, none in the token, no provider default). */
  expiresAt: Date | null;
  /** When Evergreen will refresh it; null when it never needs to (no refresh token, or no known expiry). */
  refreshAt: Date | null;
  /**
   * `scheduled`: the refresh job is in Redis. `pending`: Redis did not answer; the row is stored and the scheduler
   * will create the job. `not_needed`: nothing to refresh.
   */
  scheduling: 'scheduled' | 'pending' | 'not_needed';
}

export interface Evergreen {
  enqueueConnection(input: EnqueueConnectionInput): Promise<EnqueueConnectionResult>;
  close(): Promise<void>;
}

/**
 * The producer's client. Options default from the environment; the database schema is migrated on first use (once,
 * and safely alongside other processes) unless EVERGREEN_MIGRATE_ON_START=false.
 */
export function createEvergreen(options: EvergreenOptions = {}): Evergreen {
  const config = options.config ?? loadConfig();
  const log = (options.logger ?? createLogger({ level: config.logLevel })).child({ component: 'sdk' });
  const db: Database = openDatabase({ url: config.databaseUrl, schema: config.dbSchema });
  const redis: Redis = createRedis(config.redisUrl, 'producer');
  redis.on('error', () => {}); // outages are reported per call ("scheduling pending"), not as crashes
  const store = new ConnectionStore(db, config.keyring, config.processName);
  const queues = new RefreshQueues(redis, config.redisPrefix);
  const providers = new Map(config.providers.map((p) => [p.id, p]));
  let migrated: Promise<void> | undefined;
  const ready = () => {
    if (!config.migrateOnStart) return Promise.resolve();
    migrated ??= migrateDatabase({ url: config.databaseUrl, schema: config.dbSchema }).catch((error: unknown) => {
      migrated = undefined; // let the next call try again
      throw error;
    });
    return migrated;
  };

  async function enqueueConnection(raw: EnqueueConnectionInput): Promise<EnqueueConnectionResult> {
    const input = parseConnectionInput(raw);
    const provider = providers.get(input.provider);
    if (!provider) throw unknownProvider(input.provider, providers);
    await ready();

    checkRenewal(provider, input);

    const now = Date.now();
    const renewable = provider.grant === 'refresh_token' ? input.refreshToken !== undefined : provider.grant !== 'none';
    const plan = input.accessToken === undefined ? firstLogin(now) : planRefresh({
      now,
      issuedFrom: now,
      tokens: {
        accessToken: input.accessToken as string,
        ...(input.refreshToken !== undefined && { refreshToken: input.refreshToken }),
        ...(input.expiresIn !== undefined && { expiresInSeconds: input.expiresIn }),
        ...(input.expiresAt !== undefined && { expiresAt: input.expiresAt }),
        ...(input.refreshTokenExpiresIn !== undefined && { refreshTokenExpiresInSeconds: input.refreshTokenExpiresIn }),
      },
      provider,
      renewable,
      current: { refreshToken: null, refreshTokenExpiresAt: null, refreshTokenWarned: false },
      timing: timingPolicyFor(provider, config.refresh),
      minIntervalMs: 0,
      random: Math.random,
    });
    const { expiresAt, refreshAt } = plan;

    const stored = await store.upsert({
      ...(input.connectionId !== undefined && { connectionId: input.connectionId }),
      ownerId: input.ownerId,
      provider: input.provider,
      ...(input.accessToken !== undefined && { accessToken: input.accessToken }),
      ...(input.refreshToken !== undefined && { refreshToken: input.refreshToken }),
      refreshTokenExpiresAt: plan.refreshTokenExpiresAt == null ? null : new Date(plan.refreshTokenExpiresAt),
      ...(input.credentials !== undefined && { credentials: input.credentials }),
      scopes: input.scopes,
      metadata: input.metadata,
      expiresAt: expiresAt === null ? null : new Date(expiresAt),
      refreshAt: refreshAt === null ? null : new Date(refreshAt),
    });

    let scheduling: EnqueueConnectionResult['scheduling'] = 'not_needed';
    try {
      if (refreshAt !== null) {
        await queues.schedule(provider.id, stored.connectionId, refreshAt);
        scheduling = 'scheduled';
      } else {
        await queues.unschedule(provider.id, stored.connectionId);
      }
    } catch (error) {
      // Postgres has the row; the scheduler's reconcile creates the job once Redis is back (invariant 1).
      scheduling = refreshAt === null ? 'not_needed' : 'pending';
      log.warn(
        { connection: stored.connectionId, provider: provider.id, err: safeError(error) },
        'scheduling deferred to the reconcile',
      );
    }
    return {
      connectionId: stored.connectionId,
      status: 'connected',
      expiresAt: expiresAt === null ? null : new Date(expiresAt),
      refreshAt: refreshAt === null ? null : new Date(refreshAt),
      scheduling,
    };
  }

  async function close(): Promise<void> {
    await queues.close().catch(() => {});
    redis.disconnect();
    await closeDatabase(db);
  }

  return { enqueueConnection, close };
}

/**
 * What this provider needs to renew the connection, checked before anything is stored: the metadata its token URL
 * is made from, and the credentials of a credential grant.
 */
function checkRenewal(provider: ProviderDefinition, input: ConnectionInput): void {
  const issues: InputIssue[] = [];
  const credentialGrant = provider.grant === 'client_credentials' || provider.grant === 'password';
  if (input.accessToken === undefined && !credentialGrant) {
    issues.push({ field: 'accessToken', reason: `is required (only credential grants can log in on their own; ${provider.id} uses ${provider.grant})` });
  }
  if (provider.grant !== 'none') {
    const target = resolveTokenUrl(provider, input.metadata);
    if (!target.ok) issues.push({ field: target.field === 'tokenUrl' ? 'metadata' : target.field, reason: target.reason });
  }
  if (provider.grant === 'password') {
    if (!input.credentials?.username) issues.push({ field: 'credentials.username', reason: `is required by ${provider.id} (password grant)` });
    if (!input.credentials?.password) issues.push({ field: 'credentials.password', reason: `is required by ${provider.id} (password grant)` });
  }
  if (provider.grant === 'client_credentials' && provider.clientId === null && !input.credentials?.clientId) {
    issues.push({ field: 'credentials.clientId', reason: `is required: ${provider.id} has no client of its own` });
  }
  if (issues.length > 0) throw new InvalidInputError('enqueueConnection', issues);
}

/** A credential-grant connection handed over without a token: log in now. */
function firstLogin(now: number) {
  return { expiresAt: null, refreshAt: now, refreshTokenExpiresAt: undefined, warnRefreshTokenExpiry: false };
}

function unknownProvider(id: string, providers: ReadonlyMap<string, ProviderDefinition>): InvalidInputError {
  const known = [...providers.keys()];
  return new InvalidInputError('enqueueConnection', [
    {
      field: 'provider',
      reason: `'${id}' is not configured (configured: ${known.length ? known.join(', ') : 'none'}); add it to the file named by EVERGREEN_PROVIDERS`,
    },
  ]);
}
