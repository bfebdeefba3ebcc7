import { hostname } from 'node:os';
import {
  ConfigError,
  EVENT_KINDS,
  parseWebhookEndpoints,
  type WebhookEndpoint,
  type BackoffPolicy,
  type BreakerPolicy,
  type ClassifyPolicy,
  type InputIssue,
  type ProviderDefinition,
  type RedisConnection,
} from '@evergreen/core';
import { Keyring } from '@evergreen/keyring';
import { boardAuthIssues, readBoardAuth, type BoardConfig } from './board-config.ts';
import { readConfigDocument, substituteEnv } from './config-document.ts';
import { readProvidersFile } from './providers-file.ts';
import { publishedSecretIssues } from './published-secrets.ts';
import { readVariables } from './read-variables.ts';
import { readRedisConnection } from './redis-connection-config.ts';

export interface HttpConfig {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  deadlineMs: number;
  maxResponseBytes: number;
}

export interface RefreshConfig {
  lockTtlMs: number;
  minIntervalMs: number;
  jitterMs: number;
  shortLifetimeFraction: number;
  backoff: BackoffPolicy;
  classify: ClassifyPolicy;
  /** Every provider's circuit breaker (docs/reliability.md). */
  breaker: BreakerPolicy;
}

export interface EvergreenConfig {
  databaseUrl: string;
  dbSchema: string;
  dbPoolSize: number;
  /** How DATABASE_URL pools server connections (`transaction`: behind PgBouncer's transaction pooling). */
  dbPoolMode: 'session' | 'transaction';
  /** Where session work goes (migrations, LISTEN): EVERGREEN_DATABASE_DIRECT_URL, else DATABASE_URL. */
  databaseDirectUrl: string;
  /** REDIS_URL; used only when `redis` is standalone. */
  redisUrl: string;
  /** The one Redis every client of this process connects to: one server, a Sentinel-watched primary, or a Cluster. */
  redis: RedisConnection;
  redisPrefix: string;
  /** EVERGREEN_QUEUE_SHARDS: queues per provider unless its entry says `queueShards`. */
  queueShards: number;
  keyring: Keyring;
  providers: ProviderDefinition[];
  providersFile: string | null;
  webhooks: WebhookEndpoint[];
  ops: { port: number; host: string };
  board: BoardConfig;
  /** The connect flow: the api role's public address and the allow-list of return URLs. */
  connect: { publicUrl: string | null; returnUrls: string[] };
  /** The api role: where it listens, and each key's request rate (0: unlimited). */
  api: { port: number; host: string; rateLimitPerMinute: number };
  otelExporterUrl: string | null;
  logLevel: string;
  processName: string;
  migrateOnStart: boolean;
  worker: { concurrency: number; jobLockMs: number; stalledIntervalMs: number; shutdownGraceMs: number };
  http: HttpConfig;
  refresh: RefreshConfig;
  scheduler: {
    intervalMs: number;
    lossCheckIntervalMs: number;
    graceMs: number;
    fullPassIntervalMs: number;
    /** How often a provider's backlog is put back in order of need (0: never). */
    backlogOrderIntervalMs: number;
  };
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PREFIX = /^[A-Za-z0-9_{}-]{1,64}$/;

export interface LoadOptions {
  /** This process runs the board: its credentials, when given, must be well-formed too (`boardAuthIssues`). */
  board?: boolean;
}

/**
 * The one place that reads the environment, once, at start. Every bad variable is named in one ConfigError, so an
 * operator fixes them all in one go; packages receive plain typed options and never read process.env.
 */
export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: LoadOptions = {},
): EvergreenConfig {
  const { values: v, issues } = readVariables(env);
  const boardAuth = readBoardAuth(env);
  if (options.board === true) issues.push(...boardAuthIssues(boardAuth));

  if (typeof v.EVERGREEN_DB_SCHEMA === 'string' && !SCHEMA_NAME.test(v.EVERGREEN_DB_SCHEMA)) {
    issues.push({ field: 'EVERGREEN_DB_SCHEMA', reason: 'must be a lower-case SQL identifier' });
  }
  issues.push(...poolModeIssues(v));
  if (typeof v.EVERGREEN_REDIS_PREFIX === 'string' && !PREFIX.test(v.EVERGREEN_REDIS_PREFIX)) {
    issues.push({
      field: 'EVERGREEN_REDIS_PREFIX',
      reason: 'must be 1-64 letters, digits, "_", "-" or braces (no ":")',
    });
  }
  if (
    typeof v.EVERGREEN_LOCK_TTL_MS === 'number' &&
    typeof v.EVERGREEN_HTTP_DEADLINE_MS === 'number' &&
    v.EVERGREEN_LOCK_TTL_MS < v.EVERGREEN_HTTP_DEADLINE_MS + 2_000
  ) {
    issues.push({
      field: 'EVERGREEN_LOCK_TTL_MS',
      reason: 'must exceed EVERGREEN_HTTP_DEADLINE_MS by at least 2000 so the lock outlives the request and the write',
    });
  }

  const redis = readRedisConnection(v, issues);

  let keyring: Keyring | null = null;
  let keyHint: string | undefined;
  try {
    keyring = Keyring.parse(env.EVERGREEN_ENCRYPTION_KEYS);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    issues.push(...error.issues);
    keyHint = error.message.split('\n').at(-1);
  }

  let providers: ProviderDefinition[] = [];
  const providersFile = typeof v.EVERGREEN_PROVIDERS === 'string' ? v.EVERGREEN_PROVIDERS : null;
  if (providersFile !== null) {
    const read = readProvidersFile(providersFile, env);
    providers = read.providers;
    issues.push(...read.issues);
  }

  // One issue per field: a published token that is also too short is named once, by the board's rule.
  const named = new Set(issues.map((i) => i.field));
  issues.push(...publishedSecretIssues(env).filter((i) => !named.has(i.field)));

  const connect = readConnect(v, issues);
  const webhooks = readWebhooks(typeof v.EVERGREEN_WEBHOOKS === 'string' ? v.EVERGREEN_WEBHOOKS : null, env, issues);

  if (issues.length > 0 || keyring === null) throw new ConfigError(issues, keyHint);

  const n = (value: unknown) => value as number;
  return {
    databaseUrl: v.DATABASE_URL as string,
    dbSchema: v.EVERGREEN_DB_SCHEMA as string,
    dbPoolSize: n(v.EVERGREEN_DB_POOL_SIZE),
    dbPoolMode: v.EVERGREEN_DATABASE_POOL_MODE as 'session' | 'transaction',
    databaseDirectUrl: (v.EVERGREEN_DATABASE_DIRECT_URL as string | null) ?? (v.DATABASE_URL as string),
    redisUrl: v.REDIS_URL as string,
    redis,
    redisPrefix: v.EVERGREEN_REDIS_PREFIX as string,
    queueShards: n(v.EVERGREEN_QUEUE_SHARDS),
    keyring,
    providers,
    providersFile,
    webhooks,
    ops: { port: n(v.EVERGREEN_OPS_PORT), host: v.EVERGREEN_OPS_HOST as string },
    board: {
      port: n(v.EVERGREEN_BOARD_PORT),
      host: v.EVERGREEN_BOARD_HOST as string,
      auth: boardAuth,
      readOnly: v.EVERGREEN_BOARD_READ_ONLY as boolean,
      dev: v.EVERGREEN_BOARD_DEV as boolean,
    },
    connect,
    api: {
      port: n(v.EVERGREEN_API_PORT),
      host: v.EVERGREEN_API_HOST as string,
      rateLimitPerMinute: n(v.EVERGREEN_API_RATE_LIMIT_PER_MINUTE),
    },
    otelExporterUrl: (v.EVERGREEN_OTEL_EXPORTER_URL as string | null) ?? null,
    logLevel: v.EVERGREEN_LOG_LEVEL as string,
    processName: (v.EVERGREEN_PROCESS_NAME as string | null) ?? `${hostname()}:${process.pid}`,
    migrateOnStart: v.EVERGREEN_MIGRATE_ON_START as boolean,
    worker: {
      concurrency: n(v.EVERGREEN_WORKER_CONCURRENCY),
      jobLockMs: n(v.EVERGREEN_JOB_LOCK_MS),
      stalledIntervalMs: n(v.EVERGREEN_STALLED_INTERVAL_MS),
      shutdownGraceMs: n(v.EVERGREEN_SHUTDOWN_GRACE_MS),
    },
    http: {
      connectTimeoutMs: n(v.EVERGREEN_HTTP_CONNECT_TIMEOUT_MS),
      headersTimeoutMs: n(v.EVERGREEN_HTTP_HEADERS_TIMEOUT_MS),
      bodyTimeoutMs: n(v.EVERGREEN_HTTP_BODY_TIMEOUT_MS),
      deadlineMs: n(v.EVERGREEN_HTTP_DEADLINE_MS),
      maxResponseBytes: n(v.EVERGREEN_HTTP_MAX_RESPONSE_BYTES),
    },
    refresh: {
      lockTtlMs: n(v.EVERGREEN_LOCK_TTL_MS),
      minIntervalMs: n(v.EVERGREEN_MIN_REFRESH_INTERVAL_MS),
      jitterMs: n(v.EVERGREEN_REFRESH_JITTER_MS),
      shortLifetimeFraction: n(v.EVERGREEN_SHORT_LIFETIME_FRACTION),
      backoff: {
        attempts: n(v.EVERGREEN_RETRY_ATTEMPTS),
        baseMs: n(v.EVERGREEN_RETRY_BASE_MS),
        capMs: n(v.EVERGREEN_RETRY_CAP_MS),
        cooldownMs: n(v.EVERGREEN_RETRY_COOLDOWN_MS),
      },
      classify: {
        defaultRetryAfterMs: n(v.EVERGREEN_RATE_LIMIT_DEFAULT_MS),
        maxRetryAfterMs: n(v.EVERGREEN_RATE_LIMIT_MAX_MS),
      },
      breaker: {
        failureRatio: n(v.EVERGREEN_BREAKER_FAILURE_RATIO),
        windowMs: n(v.EVERGREEN_BREAKER_WINDOW_MS),
        minRequests: n(v.EVERGREEN_BREAKER_MIN_REQUESTS),
        probeIntervalMs: n(v.EVERGREEN_BREAKER_PROBE_INTERVAL_MS),
        rampMs: n(v.EVERGREEN_BREAKER_RAMP_MS),
      },
    },
    scheduler: {
      intervalMs: n(v.EVERGREEN_RECONCILE_INTERVAL_MS),
      lossCheckIntervalMs: n(v.EVERGREEN_RECONCILE_CHECK_INTERVAL_MS),
      graceMs: n(v.EVERGREEN_RECONCILE_GRACE_MS),
      fullPassIntervalMs: n(v.EVERGREEN_FULL_RECONCILE_INTERVAL_MS),
      backlogOrderIntervalMs: n(v.EVERGREEN_BACKLOG_ORDER_INTERVAL_MS),
    },
  };
}

/** EVERGREEN_PUBLIC_URL and EVERGREEN_CONNECT_RETURN_URLS: http(s) URLs without query or fragment. */
function readConnect(v: Record<string, unknown>, issues: InputIssue[]): EvergreenConfig['connect'] {
  const httpUrlProblem = (text: string): string | null => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return 'must be a URL';
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an http or https URL';
    if (url.search !== '' || url.hash !== '') return 'must have no query or fragment';
    if (url.username !== '' || url.password !== '') return 'must not carry credentials';
    return null;
  };
  const publicUrl = typeof v.EVERGREEN_PUBLIC_URL === 'string' ? v.EVERGREEN_PUBLIC_URL : null;
  if (publicUrl !== null) {
    const problem = httpUrlProblem(publicUrl);
    if (problem) issues.push({ field: 'EVERGREEN_PUBLIC_URL', reason: problem });
  }
  const list = typeof v.EVERGREEN_CONNECT_RETURN_URLS === 'string' ? v.EVERGREEN_CONNECT_RETURN_URLS : '';
  const returnUrls = list
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  returnUrls.forEach((entry, index) => {
    const problem = httpUrlProblem(entry);
    if (problem) issues.push({ field: `EVERGREEN_CONNECT_RETURN_URLS[${index}]`, reason: problem });
  });
  return { publicUrl, returnUrls };
}

/** EVERGREEN_WEBHOOKS: inline JSON, or a YAML/JSON file; `${VAR}` substituted; every entry checked. */
function readWebhooks(
  value: string | null,
  env: Readonly<Record<string, string | undefined>>,
  issues: InputIssue[],
): WebhookEndpoint[] {
  if (value === null) return [];
  let document: unknown;
  if (/^\s*[[{]/.test(value)) {
    try {
      document = JSON.parse(value);
    } catch {
      // Never echo the text: it holds secrets.
      issues.push({ field: 'EVERGREEN_WEBHOOKS', reason: 'is not valid JSON' });
      return [];
    }
  } else {
    const read = readConfigDocument(value, 'EVERGREEN_WEBHOOKS');
    if ('issue' in read) {
      issues.push(read.issue);
      return [];
    }
    document = read.document;
  }
  const substituted = substituteEnv(document, env, 'EVERGREEN_WEBHOOKS', issues);
  const parsed = parseWebhookEndpoints(substituted, 'EVERGREEN_WEBHOOKS', { knownKinds: EVENT_KINDS });
  issues.push(...parsed.issues);
  return parsed.endpoints;
}

const DATABASE_FIELDS = new Set([
  'DATABASE_URL',
  'EVERGREEN_DB_SCHEMA',
  'EVERGREEN_DATABASE_POOL_MODE',
  'EVERGREEN_DATABASE_DIRECT_URL',
]);

/**
 * Just what migrations need: no keys, no providers, so `pnpm db:migrate` runs before anything else is set up.
 * `directUrl` is where migrations go (their advisory lock needs a session): EVERGREEN_DATABASE_DIRECT_URL, else
 * DATABASE_URL.
 */
export function loadDatabaseConfig(env: Readonly<Record<string, string | undefined>> = process.env): {
  databaseUrl: string;
  directUrl: string;
  dbSchema: string;
} {
  const { values, issues } = readVariables(env);
  const relevant = issues.filter((i) => DATABASE_FIELDS.has(i.field));
  if (typeof values.EVERGREEN_DB_SCHEMA === 'string' && !SCHEMA_NAME.test(values.EVERGREEN_DB_SCHEMA)) {
    relevant.push({ field: 'EVERGREEN_DB_SCHEMA', reason: 'must be a lower-case SQL identifier' });
  }
  relevant.push(...poolModeIssues(values));
  if (relevant.length > 0) throw new ConfigError(relevant);
  const databaseUrl = values.DATABASE_URL as string;
  return {
    databaseUrl,
    directUrl: (values.EVERGREEN_DATABASE_DIRECT_URL as string | null) ?? databaseUrl,
    dbSchema: values.EVERGREEN_DB_SCHEMA as string,
  };
}

/** A transaction pooler carries no session, so what needs one (migrations, LISTEN) must have a direct URL. */
function poolModeIssues(v: Readonly<Record<string, unknown>>): InputIssue[] {
  const mode = v.EVERGREEN_DATABASE_POOL_MODE;
  if (typeof mode !== 'string') return [];
  if (mode !== 'session' && mode !== 'transaction') {
    return [{ field: 'EVERGREEN_DATABASE_POOL_MODE', reason: "must be 'session' or 'transaction'" }];
  }
  if (mode === 'transaction' && (v.EVERGREEN_DATABASE_DIRECT_URL ?? null) === null) {
    return [
      {
        field: 'EVERGREEN_DATABASE_DIRECT_URL',
        reason:
          'is required with EVERGREEN_DATABASE_POOL_MODE=transaction: migrations and subscribe need a session, which a transaction pooler cannot give',
      },
    ];
  }
  return [];
}
