import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type EvergreenConfig } from '@evergreen/config';
import { Keyring } from '@evergreen/keyring';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { inject } from 'vitest';

/** Timings shrunk so a test sees many refresh cycles in seconds; every value still passes the config's own rules. */
export const FAST_TIMINGS: Record<string, string> = {
  EVERGREEN_LOG_LEVEL: 'info',
  // Many role processes share this machine in the tests: each takes any free ops port.
  EVERGREEN_OPS_PORT: '0',
  EVERGREEN_WORKER_CONCURRENCY: '8',
  EVERGREEN_JOB_LOCK_MS: '2000',
  EVERGREEN_STALLED_INTERVAL_MS: '1000',
  EVERGREEN_SHUTDOWN_GRACE_MS: '5000',
  EVERGREEN_HTTP_DEADLINE_MS: '1500',
  EVERGREEN_HTTP_HEADERS_TIMEOUT_MS: '1000',
  EVERGREEN_HTTP_BODY_TIMEOUT_MS: '1000',
  EVERGREEN_HTTP_CONNECT_TIMEOUT_MS: '1000',
  EVERGREEN_LOCK_TTL_MS: '3500',
  EVERGREEN_RETRY_BASE_MS: '100',
  EVERGREEN_RETRY_CAP_MS: '1000',
  EVERGREEN_RETRY_COOLDOWN_MS: '2000',
  EVERGREEN_MIN_REFRESH_INTERVAL_MS: '500',
  EVERGREEN_REFRESH_JITTER_MS: '200',
  EVERGREEN_RECONCILE_INTERVAL_MS: '500',
  EVERGREEN_RECONCILE_GRACE_MS: '1000',
};

/** A providers-file entry as a test writes it: any field of docs/providers.md. */
export type ProviderEntry = { id: string } & Record<string, unknown>;

/**
 * One test file's private Evergreen: its own Postgres schema and Redis key prefix (so files run in parallel), an
 * encryption key, a providers file, and admin clients to look behind the product's back.
 */
export class Sandbox {
  readonly id = `t${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly schema = `evg_${this.id}`;
  readonly prefix = `evg-${this.id}`;
  readonly encryptionKeys = Keyring.generateEntry('test1');
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly redis: Redis;
  /** Bound to the sandbox schema. */
  readonly sql: postgres.Sql;
  readonly #dir = mkdtempSync(join(tmpdir(), 'evergreen-test-'));
  #providersFile: string | null = null;

  constructor(options: { redisDb?: number } = {}) {
    this.databaseUrl = inject('databaseUrl');
    const redisUrl = new URL(inject('redisUrl'));
    if (options.redisDb !== undefined) redisUrl.pathname = `/${options.redisDb}`;
    this.redisUrl = redisUrl.toString();
    this.redis = new Redis(this.redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', () => {});
    this.sql = postgres(this.databaseUrl, { max: 2, connection: { search_path: this.schema }, onnotice: () => {} });
  }

  /** Writes the providers file (JSON) that EVERGREEN_PROVIDERS will name. */
  useProviders(entries: readonly ProviderEntry[]): void {
    this.#providersFile = join(this.#dir, `providers-${randomBytes(3).toString('hex')}.json`);
    const full = entries.map((e) => ({
      clientId: 'client-id',
      clientSecret: 'client-secret',
      refreshBufferSeconds: 300,
      ...e,
    }));
    writeFileSync(this.#providersFile, JSON.stringify(full, null, 2));
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      EVERGREEN_ENV_FILE: 'none',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      EVERGREEN_DB_SCHEMA: this.schema,
      EVERGREEN_REDIS_PREFIX: this.prefix,
      EVERGREEN_ENCRYPTION_KEYS: this.encryptionKeys,
      ...FAST_TIMINGS,
    };
    if (this.#providersFile) base.EVERGREEN_PROVIDERS = this.#providersFile;
    return { ...base, ...extra };
  }

  config(extra: Record<string, string> = {}): EvergreenConfig {
    return loadConfig(this.env(extra));
  }

  /** Every Redis key this sandbox owns, with its type. */
  async redisKeys(): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}:*`, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }

  /** Every key and value under the prefix rendered as text, for secret scans. */
  async dumpRedis(): Promise<string> {
    const parts: string[] = [];
    for (const key of await this.redisKeys()) {
      parts.push(key);
      const type = await this.redis.type(key);
      if (type === 'string') parts.push((await this.redis.get(key)) ?? '');
      else if (type === 'hash') parts.push(JSON.stringify(await this.redis.hgetall(key)));
      else if (type === 'list') parts.push(JSON.stringify(await this.redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(JSON.stringify(await this.redis.smembers(key)));
      else if (type === 'zset') parts.push(JSON.stringify(await this.redis.zrange(key, 0, -1, 'WITHSCORES')));
      else if (type === 'stream') parts.push(JSON.stringify(await this.redis.xrange(key, '-', '+')));
    }
    return parts.join('\n');
  }

  /** Deletes every key under the prefix: what a FLUSHALL does to this Evergreen, without touching other files. */
  async dropRedisKeys(): Promise<void> {
    const keys = await this.redisKeys();
    for (let i = 0; i < keys.length; i += 500) await this.redis.del(...keys.slice(i, i + 500));
  }

  async cleanup(): Promise<void> {
    await this.dropRedisKeys().catch(() => {});
    this.redis.disconnect();
    await this.sql.unsafe(`drop schema if exists "${this.schema}" cascade`).catch(() => {});
    await this.sql.end({ timeout: 2 });
  }
}
