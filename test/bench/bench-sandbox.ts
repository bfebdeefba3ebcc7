import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type EvergreenConfig } from '@evergreen/config';
import { Keyring } from '@evergreen/keyring';
import { migrateDatabase } from '@evergreen/store';
import { Redis } from 'ioredis';
import postgres from 'postgres';
// Type-only: the tests' Sandbox module imports vitest, which the benchmark process does not run under.
import type { ProviderEntry } from '@evergreen/test-support/sandbox';

/**
 * The settings every benchmark process runs with: production defaults, except what a benchmark must change (no .env,
 * any free ops port, quiet logs unless asked). Scenarios add their own (concurrency, jitter).
 */
export const BENCH_ENV: Record<string, string> = {
  EVERGREEN_ENV_FILE: 'none',
  EVERGREEN_OPS_PORT: '0',
  EVERGREEN_OPS_HOST: '127.0.0.1',
  EVERGREEN_LOG_LEVEL: 'info',
};

/**
 * One benchmark's private Evergreen, like the tests' Sandbox but usable outside vitest: its own Postgres schema and
 * Redis key prefix, an encryption key and a providers file. `cleanup()` drops the schema and deletes every key under
 * the prefix (never FLUSHALL: the Redis is shared).
 */
export class BenchSandbox {
  readonly id = `b${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  readonly schema = `evg_bench_${this.id}`;
  /** About as long as the default prefix (`evergreen`), since it is in every job's key and so in its memory. */
  readonly prefix = `evgb-${randomBytes(3).toString('hex')}`;
  readonly encryptionKeys = Keyring.generateEntry('bench1');
  readonly redis: Redis;
  /** Admin client bound to the sandbox schema. */
  readonly sql: postgres.Sql;
  readonly #dir = mkdtempSync(join(tmpdir(), 'evergreen-bench-'));
  #providersFile: string | null = null;

  constructor(
    readonly databaseUrl: string,
    readonly redisUrl: string,
  ) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    this.redis.on('error', () => {});
    this.sql = postgres(databaseUrl, {
      max: 4,
      connection: { search_path: this.schema, application_name: 'evergreen-bench' },
      onnotice: () => {},
      fetch_types: false,
    });
  }

  static async create(databaseUrl: string, redisUrl: string): Promise<BenchSandbox> {
    const sandbox = new BenchSandbox(databaseUrl, redisUrl);
    await migrateDatabase({ url: databaseUrl, schema: sandbox.schema });
    return sandbox;
  }

  useProviders(entries: readonly ProviderEntry[]): void {
    this.#providersFile = join(this.#dir, `providers-${randomBytes(3).toString('hex')}.json`);
    const full = entries.map((e) => ({ clientId: 'client-id', clientSecret: 'client-secret', ...e }));
    writeFileSync(this.#providersFile, JSON.stringify(full, null, 2));
  }

  env(extra: Record<string, string> = {}): Record<string, string> {
    const base: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redisUrl,
      EVERGREEN_DB_SCHEMA: this.schema,
      EVERGREEN_REDIS_PREFIX: this.prefix,
      EVERGREEN_ENCRYPTION_KEYS: this.encryptionKeys,
      ...BENCH_ENV,
    };
    if (this.#providersFile) base.EVERGREEN_PROVIDERS = this.#providersFile;
    return { ...base, ...extra };
  }

  config(extra: Record<string, string> = {}): EvergreenConfig {
    return loadConfig(this.env(extra));
  }

  /** A directory for this sandbox's logs and scratch files, removed by cleanup. */
  get dir(): string {
    return this.#dir;
  }

  async redisKeys(pattern = `${this.prefix}:*`): Promise<string[]> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    return keys;
  }

  async dropRedisKeys(pattern = `${this.prefix}:*`): Promise<void> {
    const keys = await this.redisKeys(pattern);
    for (let i = 0; i < keys.length; i += 1000) await this.redis.unlink(...keys.slice(i, i + 1000));
  }

  async cleanup(options: { keepDir?: boolean } = {}): Promise<void> {
    await this.dropRedisKeys().catch(() => {});
    this.redis.disconnect();
    await this.sql.unsafe(`drop schema if exists "${this.schema}" cascade`).catch(() => {});
    await this.sql.end({ timeout: 2 });
    // BENCH_KEEP_LOGS=1 keeps the worker logs (and profiles) for a look after the run.
    if (!options.keepDir && process.env.BENCH_KEEP_LOGS !== '1') rmSync(this.#dir, { recursive: true, force: true });
  }
}
