import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { ConfigError } from '@evergreen/core';
import { KEYGEN_HINT } from '@evergreen/keyring';
import { loadConfig, loadDatabaseConfig } from '../src/index.ts';

const KEYS = `k1:${randomBytes(32).toString('base64')}`;
const minimal = { EVERGREEN_ENCRYPTION_KEYS: KEYS };

const dir = mkdtempSync(join(tmpdir(), 'evergreen-config-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

const fields = (error: ConfigError) => error.issues.map((i) => i.field);

describe('loadConfig', () => {
  describe('defaults', () => {
    it('with only EVERGREEN_ENCRYPTION_KEYS set gives the documented defaults', () => {
      const config = loadConfig(minimal);
      const { keyring, ...rest } = config;
      expect(keyring.currentKeyId).toBe('k1');
      expect(rest).toEqual({
        databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
        dbSchema: 'evergreen',
        dbPoolSize: 8,
        dbPoolMode: 'session',
        databaseDirectUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
        redisUrl: 'redis://127.0.0.1:6379',
        redis: { kind: 'standalone', url: 'redis://127.0.0.1:6379', auth: { username: null, password: null } },
        redisPrefix: 'evergreen',
        queueShards: 1,
        providers: [],
        connect: { publicUrl: null, returnUrls: [] },
        providersFile: null,
        webhooks: [],
        ops: { port: 9464, host: '127.0.0.1' },
        board: { port: 3000, host: '127.0.0.1', auth: {}, readOnly: false, dev: false },
        api: { port: 3100, host: '127.0.0.1', rateLimitPerMinute: 6000 },
        otelExporterUrl: null,
        logLevel: 'info',
        processName: `${hostname()}:${process.pid}`,
        migrateOnStart: true,
        worker: { concurrency: 16, jobLockMs: 10_000, stalledIntervalMs: 5_000, shutdownGraceMs: 25_000 },
        http: {
          connectTimeoutMs: 5_000,
          headersTimeoutMs: 10_000,
          bodyTimeoutMs: 10_000,
          deadlineMs: 15_000,
          maxResponseBytes: 65_536,
        },
        refresh: {
          lockTtlMs: 30_000,
          minIntervalMs: 10_000,
          jitterMs: 30_000,
          shortLifetimeFraction: 0.5,
          backoff: { attempts: 8, baseMs: 1_000, capMs: 30_000, cooldownMs: 300_000 },
          classify: { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 },
          breaker: { failureRatio: 0.5, windowMs: 60_000, minRequests: 20, probeIntervalMs: 15_000, rampMs: 60_000 },
        },
        scheduler: {
          intervalMs: 60_000,
          lossCheckIntervalMs: 5_000,
          graceMs: 15_000,
          fullPassIntervalMs: 21_600_000,
          backlogOrderIntervalMs: 5_000,
        },
      });
    });

    it('treats blank variables as unset', () => {
      const config = loadConfig({
        ...minimal,
        EVERGREEN_LOG_LEVEL: '  ',
        EVERGREEN_WORKER_CONCURRENCY: '',
        DATABASE_URL: '',
      });
      expect(config.logLevel).toBe('info');
      expect(config.worker.concurrency).toBe(16);
      expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/postgres');
    });

    it('does not read process.env when an env object is passed', () => {
      const before = process.env.EVERGREEN_LOG_LEVEL;
      process.env.EVERGREEN_LOG_LEVEL = 'not-a-level';
      try {
        expect(loadConfig(minimal).logLevel).toBe('info');
      } finally {
        if (before === undefined) delete process.env.EVERGREEN_LOG_LEVEL;
        else process.env.EVERGREEN_LOG_LEVEL = before;
      }
    });
  });

  describe('values', () => {
    it('reads every kind of variable, trimming whitespace', () => {
      const config = loadConfig({
        ...minimal,
        DATABASE_URL: ' postgres://u:p@db:5432/app ',
        EVERGREEN_DB_SCHEMA: 'tenant_1',
        REDIS_URL: 'redis://cache:6380/2',
        EVERGREEN_REDIS_PREFIX: '{evg}',
        EVERGREEN_LOG_LEVEL: 'debug',
        EVERGREEN_PROCESS_NAME: 'worker-7',
        EVERGREEN_MIGRATE_ON_START: 'no',
        EVERGREEN_WORKER_CONCURRENCY: '64',
        EVERGREEN_SHORT_LIFETIME_FRACTION: '0.25',
        EVERGREEN_HTTP_DEADLINE_MS: '20000',
        EVERGREEN_LOCK_TTL_MS: '22000',
      });
      expect(config.databaseUrl).toBe('postgres://u:p@db:5432/app');
      expect(config.dbSchema).toBe('tenant_1');
      expect(config.redisUrl).toBe('redis://cache:6380/2');
      expect(config.redisPrefix).toBe('{evg}');
      expect(config.logLevel).toBe('debug');
      expect(config.processName).toBe('worker-7');
      expect(config.migrateOnStart).toBe(false);
      expect(config.worker.concurrency).toBe(64);
      expect(config.refresh.shortLifetimeFraction).toBe(0.25);
      expect(config.http.deadlineMs).toBe(20_000);
      expect(config.refresh.lockTtlMs).toBe(22_000);
    });

    it('reads booleans as true/1/yes and false/0/no', () => {
      for (const yes of ['true', '1', 'yes'])
        expect(loadConfig({ ...minimal, EVERGREEN_MIGRATE_ON_START: yes }).migrateOnStart).toBe(true);
      for (const no of ['false', '0', 'no'])
        expect(loadConfig({ ...minimal, EVERGREEN_MIGRATE_ON_START: no }).migrateOnStart).toBe(false);
    });

    it('accepts the bounds of a range and rejects one past them', () => {
      expect(loadConfig({ ...minimal, EVERGREEN_WORKER_CONCURRENCY: '1' }).worker.concurrency).toBe(1);
      expect(loadConfig({ ...minimal, EVERGREEN_WORKER_CONCURRENCY: '1024' }).worker.concurrency).toBe(1024);
      expect(configError({ ...minimal, EVERGREEN_WORKER_CONCURRENCY: '1025' }).issues).toEqual([
        { field: 'EVERGREEN_WORKER_CONCURRENCY', reason: 'must be at most 1024' },
      ]);
      expect(configError({ ...minimal, EVERGREEN_WORKER_CONCURRENCY: '0' }).issues).toEqual([
        { field: 'EVERGREEN_WORKER_CONCURRENCY', reason: 'must be at least 1' },
      ]);
    });

    it('sizes the Postgres pool apart from the concurrency: 8 unless set, at least 1', () => {
      expect(loadConfig({ ...minimal, EVERGREEN_WORKER_CONCURRENCY: '64' }).dbPoolSize).toBe(8);
      expect(loadConfig({ ...minimal, EVERGREEN_DB_POOL_SIZE: '20' }).dbPoolSize).toBe(20);
      expect(configError({ ...minimal, EVERGREEN_DB_POOL_SIZE: '0' }).issues).toEqual([
        { field: 'EVERGREEN_DB_POOL_SIZE', reason: 'must be at least 1' },
      ]);
    });

    it('behind a transaction pooler, needs the direct URL that sessions (migrations, LISTEN) go to', () => {
      const pooled = {
        ...minimal,
        DATABASE_URL: 'postgres://bouncer:6432/app',
        EVERGREEN_DATABASE_POOL_MODE: 'transaction',
      };
      expect(configError(pooled).issues).toEqual([
        {
          field: 'EVERGREEN_DATABASE_DIRECT_URL',
          reason:
            'is required with EVERGREEN_DATABASE_POOL_MODE=transaction: migrations and subscribe need a session, which a transaction pooler cannot give',
        },
      ]);
      const config = loadConfig({ ...pooled, EVERGREEN_DATABASE_DIRECT_URL: 'postgres://db:5432/app' });
      expect(config).toMatchObject({
        databaseUrl: 'postgres://bouncer:6432/app',
        dbPoolMode: 'transaction',
        databaseDirectUrl: 'postgres://db:5432/app',
      });
      expect(configError({ ...minimal, EVERGREEN_DATABASE_POOL_MODE: 'statement' }).issues).toEqual([
        { field: 'EVERGREEN_DATABASE_POOL_MODE', reason: "must be 'session' or 'transaction'" },
      ]);
    });

    it('reads the circuit breaker settings, and names each bad one', () => {
      const config = loadConfig({
        ...minimal,
        EVERGREEN_BREAKER_FAILURE_RATIO: '0.8',
        EVERGREEN_BREAKER_WINDOW_MS: '30000',
        EVERGREEN_BREAKER_MIN_REQUESTS: '5',
        EVERGREEN_BREAKER_PROBE_INTERVAL_MS: '2000',
        EVERGREEN_BREAKER_RAMP_MS: '0',
      });
      expect(config.refresh.breaker).toEqual({
        failureRatio: 0.8,
        windowMs: 30_000,
        minRequests: 5,
        probeIntervalMs: 2_000,
        rampMs: 0,
      });
      const error = configError({
        ...minimal,
        EVERGREEN_BREAKER_FAILURE_RATIO: '1.5',
        EVERGREEN_BREAKER_WINDOW_MS: 'soon',
        EVERGREEN_BREAKER_MIN_REQUESTS: '0',
        EVERGREEN_BREAKER_PROBE_INTERVAL_MS: '10',
        EVERGREEN_BREAKER_RAMP_MS: '-1',
      });
      expect(fields(error).sort()).toEqual([
        'EVERGREEN_BREAKER_FAILURE_RATIO',
        'EVERGREEN_BREAKER_MIN_REQUESTS',
        'EVERGREEN_BREAKER_PROBE_INTERVAL_MS',
        'EVERGREEN_BREAKER_RAMP_MS',
        'EVERGREEN_BREAKER_WINDOW_MS',
      ]);
      expect(error.message).toContain('EVERGREEN_BREAKER_FAILURE_RATIO: must be at most 1');
    });
  });

  describe('errors', () => {
    it('names several bad variables at once in one ConfigError', () => {
      const error = configError({
        ...minimal,
        DATABASE_URL: 'not a url',
        REDIS_URL: 'nope',
        EVERGREEN_LOG_LEVEL: 'loud',
        EVERGREEN_MIGRATE_ON_START: 'maybe',
        EVERGREEN_WORKER_CONCURRENCY: 'many',
        EVERGREEN_RETRY_BASE_MS: '1.5',
        EVERGREEN_SHORT_LIFETIME_FRACTION: '2',
        EVERGREEN_DB_SCHEMA: 'Bad-Schema',
        EVERGREEN_REDIS_PREFIX: 'a:b',
      });
      const expected = [
        'DATABASE_URL',
        'REDIS_URL',
        'EVERGREEN_LOG_LEVEL',
        'EVERGREEN_MIGRATE_ON_START',
        'EVERGREEN_WORKER_CONCURRENCY',
        'EVERGREEN_RETRY_BASE_MS',
        'EVERGREEN_SHORT_LIFETIME_FRACTION',
        'EVERGREEN_DB_SCHEMA',
        'EVERGREEN_REDIS_PREFIX',
      ];
      expect(fields(error).sort()).toEqual([...expected].sort());
      for (const name of expected) expect(error.message).toContain(`  - ${name}: `);
      expect(error.code).toBe('ERR_CONFIG');
      expect(error.message.startsWith('Evergreen cannot start, the configuration is invalid:')).toBe(true);
    });

    it('gives a reason a person can act on for each kind', () => {
      const error = configError({
        ...minimal,
        DATABASE_URL: 'not a url',
        EVERGREEN_LOG_LEVEL: 'loud',
        EVERGREEN_MIGRATE_ON_START: 'maybe',
        EVERGREEN_RETRY_BASE_MS: '1.5',
        EVERGREEN_SHORT_LIFETIME_FRACTION: 'half',
      });
      const reasons = Object.fromEntries(error.issues.map((i) => [i.field, i.reason]));
      expect(reasons).toEqual({
        DATABASE_URL: 'must be a URL',
        EVERGREEN_LOG_LEVEL: 'must be one of fatal, error, warn, info, debug, trace, silent',
        EVERGREEN_MIGRATE_ON_START: 'must be true or false',
        EVERGREEN_RETRY_BASE_MS: 'must be a whole number',
        EVERGREEN_SHORT_LIFETIME_FRACTION: 'must be a number',
      });
    });

    it('without keys names EVERGREEN_ENCRYPTION_KEYS and gives the keygen hint', () => {
      const error = configError({});
      expect(fields(error)).toEqual(['EVERGREEN_ENCRYPTION_KEYS']);
      expect(error.message).toContain(KEYGEN_HINT);
    });

    it('reports bad keys together with the other bad variables', () => {
      const error = configError({ EVERGREEN_ENCRYPTION_KEYS: 'k1:short', EVERGREEN_LOG_LEVEL: 'loud' });
      expect(fields(error).sort()).toEqual(['EVERGREEN_ENCRYPTION_KEYS[0]', 'EVERGREEN_LOG_LEVEL']);
      expect(error.message).toContain(KEYGEN_HINT);
    });

    it('never repeats key material or a database password in the error', () => {
      const material = randomBytes(31).toString('base64');
      const error = configError({ EVERGREEN_ENCRYPTION_KEYS: `k1:${material}`, DATABASE_URL: 'pg://user:hunter2@' });
      expect(error.message).not.toContain(material);
      expect(error.message).not.toContain('hunter2');
    });
  });

  describe('lock TTL versus HTTP deadline', () => {
    it('rejects a lock TTL that does not exceed the HTTP deadline by 2 s', () => {
      const error = configError({ ...minimal, EVERGREEN_HTTP_DEADLINE_MS: '15000', EVERGREEN_LOCK_TTL_MS: '16999' });
      expect(fields(error)).toEqual(['EVERGREEN_LOCK_TTL_MS']);
      expect(error.issues[0]?.reason).toContain('EVERGREEN_HTTP_DEADLINE_MS');
    });

    it('accepts a lock TTL exactly 2 s above the deadline', () => {
      expect(
        loadConfig({ ...minimal, EVERGREEN_HTTP_DEADLINE_MS: '15000', EVERGREEN_LOCK_TTL_MS: '17000' }).refresh
          .lockTtlMs,
      ).toBe(17_000);
    });

    it('rejects raising the deadline above the default lock TTL', () => {
      expect(fields(configError({ ...minimal, EVERGREEN_HTTP_DEADLINE_MS: '60000' }))).toEqual([
        'EVERGREEN_LOCK_TTL_MS',
      ]);
    });

    it('rejects a lock TTL shorter than the deadline', () => {
      expect(fields(configError({ ...minimal, EVERGREEN_LOCK_TTL_MS: '5000' }))).toEqual(['EVERGREEN_LOCK_TTL_MS']);
    });
  });

  describe('providers file', () => {
    it('loads the providers named by EVERGREEN_PROVIDERS, with ${VAR} substituted', () => {
      const path = join(dir, 'loaded.yaml');
      writeFileSync(
        path,
        [
          '- id: github',
          '  tokenUrl: https://github.com/login/oauth/access_token',
          '  clientId: ${GITHUB_CLIENT_ID}',
          '  clientSecret: ${GITHUB_CLIENT_SECRET}',
          '',
        ].join('\n'),
      );
      const config = loadConfig({
        ...minimal,
        EVERGREEN_PROVIDERS: path,
        GITHUB_CLIENT_ID: 'gh-id',
        GITHUB_CLIENT_SECRET: 'gh-secret',
      });
      expect(config.providersFile).toBe(path);
      expect(config.providers).toEqual([
        expect.objectContaining({
          id: 'github',
          grant: 'refresh_token',
          tokenUrl: 'https://github.com/login/oauth/access_token',
          clientId: 'gh-id',
          clientSecret: 'gh-secret',
          clientAuth: 'client_secret_basic',
          request: expect.objectContaining({ scope: 'none', scopeValue: null }),
          refreshBufferSeconds: 300,
          defaultLifetimeSeconds: 3600,
          rateLimit: null,
          queueShards: null,
        }),
      ]);
    });

    it('loads built-ins named in the providers file, with the credentials from the environment', () => {
      const path = join(dir, 'builtins.yaml');
      writeFileSync(
        path,
        [
          '- id: spotify',
          '  clientId: ${SPOTIFY_ID}',
          '  clientSecret: ${SPOTIFY_SECRET}',
          '- id: my-sf',
          '  extends: salesforce',
          '  clientId: sf-id',
          '  clientSecret: sf-secret',
          '- id: github-pat',
          '',
        ].join('\n'),
      );
      const config = loadConfig({
        ...minimal,
        EVERGREEN_PROVIDERS: path,
        SPOTIFY_ID: 'sp-id',
        SPOTIFY_SECRET: 'sp-secret',
      });
      expect(config.providers.map((p) => [p.id, p.tokenUrl, p.clientId])).toEqual([
        ['spotify', 'https://accounts.spotify.com/api/token', 'sp-id'],
        ['my-sf', '{instance_url}/services/oauth2/token', 'sf-id'],
        ['github-pat', '', null],
      ]);
    });

    it('reports a bad entry of the providers file with the entry and the field path', () => {
      const path = join(dir, 'bad-shape.yaml');
      writeFileSync(path, '- id: spotify\n  clientId: a\n  clientSecret: b\n  request:\n    format: xml\n');
      const error = configError({ ...minimal, EVERGREEN_PROVIDERS: path });
      expect(error.issues).toEqual([
        { field: `${path}[0] (spotify).request.format`, reason: 'must be one of form, json' },
      ]);
    });

    it('reports a missing ${VAR} in the same ConfigError as bad variables, without the other values', () => {
      const path = join(dir, 'missing-var.yaml');
      writeFileSync(
        path,
        '- id: slack\n  tokenUrl: https://slack.com/api/oauth.v2.access\n  clientId: slack-id\n  clientSecret: ${SLACK_SECRET}\n',
      );
      const error = configError({ ...minimal, EVERGREEN_PROVIDERS: path, EVERGREEN_LOG_LEVEL: 'loud' });
      expect(fields(error)).toContain('EVERGREEN_LOG_LEVEL');
      expect(fields(error)).toContain(`${path}[0] (slack).clientSecret`);
      expect(error.message).toContain('${SLACK_SECRET} is not set in the environment');
    });

    it('reports an unreadable providers file', () => {
      const path = join(dir, 'does-not-exist.yaml');
      const error = configError({ ...minimal, EVERGREEN_PROVIDERS: path });
      expect(error.issues).toEqual([{ field: 'EVERGREEN_PROVIDERS', reason: `cannot read ${path} (ENOENT)` }]);
    });

    it('never puts a substituted secret into the error', () => {
      const path = join(dir, 'secret-in-error.yaml');
      writeFileSync(
        path,
        '- id: acme\n  tokenUrl: ${ACME_URL}\n  clientId: acme\n  clientSecret: ${ACME_SECRET}\n  bogus: 1\n',
      );
      const error = configError({
        ...minimal,
        EVERGREEN_PROVIDERS: path,
        ACME_URL: 'http://acme.example/token',
        ACME_SECRET: 'acme_TOP_SECRET_9',
      });
      expect(error.message).not.toContain('acme_TOP_SECRET_9');
    });
  });
});

describe('config.board', () => {
  it('reads the board variables, the credentials exactly as given', () => {
    const { board } = loadConfig({
      ...minimal,
      EVERGREEN_BOARD_PORT: ' 8080 ',
      EVERGREEN_BOARD_HOST: '0.0.0.0',
      EVERGREEN_ADMIN_USER: 'operator',
      EVERGREEN_ADMIN_PASSWORD: ' spaced password ',
      EVERGREEN_BOARD_READ_ONLY: 'yes',
      EVERGREEN_BOARD_DEV: '0',
    });
    expect(board).toEqual({
      port: 8080,
      host: '0.0.0.0',
      auth: { user: 'operator', password: ' spaced password ' },
      readOnly: true,
      dev: false,
    });
  });

  it("checks the credentials' form only for a process that runs the board, in the one ConfigError", () => {
    const env = { EVERGREEN_ADMIN_TOKEN: 'short-secret', EVERGREEN_WORKER_CONCURRENCY: 'lots' };
    expect(fields(configError({ ...minimal, ...env }))).toEqual(['EVERGREEN_WORKER_CONCURRENCY']);
    let error: unknown;
    try {
      loadConfig({ ...minimal, ...env }, { board: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(fields(error as ConfigError).sort()).toEqual(['EVERGREEN_ADMIN_TOKEN', 'EVERGREEN_WORKER_CONCURRENCY']);
    expect((error as Error).message).not.toContain('short-secret');
  });
});

describe('published development secrets', () => {
  // Every encryption key and admin token that ever appeared in the repository as a default or an example value.
  const COMPOSE_KEY = 'ZXZlcmdyZWVuLWRldi1rZXktbm90LWZvci1wcm9kISE=';
  const production = { ...minimal, NODE_ENV: 'production' };

  it('NODE_ENV=production refuses the key docker-compose.yml once defaulted to, under any id, naming where it is', () => {
    for (const [keys, field] of [
      [`dev1:${COMPOSE_KEY}`, 'EVERGREEN_ENCRYPTION_KEYS[0]'],
      [`prod:${COMPOSE_KEY}`, 'EVERGREEN_ENCRYPTION_KEYS[0]'],
      // Decrypt-only, after a fresh current key: a dump's rows under it would still decrypt.
      [`${KEYS},dev1:${COMPOSE_KEY}`, 'EVERGREEN_ENCRYPTION_KEYS[1]'],
    ] as const) {
      const error = configError({ ...production, EVERGREEN_ENCRYPTION_KEYS: keys });
      expect(error.issues, keys).toEqual([{ field, reason: expect.stringMatching(/published/) as unknown }]);
      expect(error.issues[0]!.reason).toMatch(/NODE_ENV=production/);
      expect(error.message).not.toContain(COMPOSE_KEY);
    }
  });

  it('NODE_ENV=production refuses the published admin tokens as the token or the password, in every role', () => {
    for (const token of ['change-me-development-token', 'REPLACE-ME']) {
      for (const field of ['EVERGREEN_ADMIN_TOKEN', 'EVERGREEN_ADMIN_PASSWORD'] as const) {
        const env: Record<string, string> = { ...production, [field]: token };
        if (field === 'EVERGREEN_ADMIN_PASSWORD') env.EVERGREEN_ADMIN_USER = 'operator';
        // Not only the board: the roles share one environment (one Secret in infra/k8s).
        const error = configError(env);
        expect(fields(error), `${field}=${token}`).toEqual([field]);
        expect(error.issues[0]!.reason).toMatch(/published/);
        expect(error.message).not.toContain(token);
      }
    }
    // A process that runs the board names the field once, even when the value is also too short.
    let error: unknown;
    try {
      loadConfig({ ...production, EVERGREEN_ADMIN_TOKEN: 'REPLACE-ME' }, { board: true });
    } catch (e) {
      error = e;
    }
    expect(fields(error as ConfigError)).toEqual(['EVERGREEN_ADMIN_TOKEN']);
  });

  it('reports them together with the other bad variables, in one ConfigError', () => {
    const error = configError({
      ...production,
      EVERGREEN_ENCRYPTION_KEYS: `dev1:${COMPOSE_KEY}`,
      EVERGREEN_ADMIN_TOKEN: 'change-me-development-token',
      EVERGREEN_LOG_LEVEL: 'loud',
    });
    expect(fields(error).sort()).toEqual([
      'EVERGREEN_ADMIN_TOKEN',
      'EVERGREEN_ENCRYPTION_KEYS[0]',
      'EVERGREEN_LOG_LEVEL',
    ]);
  });

  it('outside production they still load (local development), and fresh values load in production', () => {
    for (const nodeEnv of [undefined, 'development', 'test']) {
      const config = loadConfig({
        EVERGREEN_ENCRYPTION_KEYS: `dev1:${COMPOSE_KEY}`,
        EVERGREEN_ADMIN_TOKEN: 'change-me-development-token',
        NODE_ENV: nodeEnv,
      });
      expect(config.keyring.currentKeyId).toBe('dev1');
    }
    const config = loadConfig({ ...production, EVERGREEN_ADMIN_TOKEN: randomBytes(24).toString('base64url') });
    expect(config.keyring.currentKeyId).toBe('k1');
  });
});

describe('loadDatabaseConfig', () => {
  it('needs no keys and no providers', () => {
    expect(loadDatabaseConfig({})).toEqual({
      databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      directUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
      dbSchema: 'evergreen',
    });
  });

  it('reads DATABASE_URL and EVERGREEN_DB_SCHEMA', () => {
    expect(loadDatabaseConfig({ DATABASE_URL: 'postgres://db/app', EVERGREEN_DB_SCHEMA: 'evg_test' })).toEqual({
      databaseUrl: 'postgres://db/app',
      directUrl: 'postgres://db/app',
      dbSchema: 'evg_test',
    });
  });

  it('sends migrations to EVERGREEN_DATABASE_DIRECT_URL when set: their advisory lock needs a session', () => {
    expect(
      loadDatabaseConfig({
        DATABASE_URL: 'postgres://bouncer:6432/app',
        EVERGREEN_DATABASE_POOL_MODE: 'transaction',
        EVERGREEN_DATABASE_DIRECT_URL: 'postgres://db:5432/app',
      }),
    ).toMatchObject({ databaseUrl: 'postgres://bouncer:6432/app', directUrl: 'postgres://db:5432/app' });
  });

  it('ignores problems with variables migrations do not need', () => {
    expect(() =>
      loadDatabaseConfig({
        EVERGREEN_LOG_LEVEL: 'loud',
        EVERGREEN_ENCRYPTION_KEYS: 'garbage',
        EVERGREEN_PROVIDERS: '/nonexistent',
      }),
    ).not.toThrow();
  });

  it('rejects a bad DATABASE_URL or schema, naming only those', () => {
    let caught: unknown;
    try {
      loadDatabaseConfig({ DATABASE_URL: 'not a url', EVERGREEN_DB_SCHEMA: 'DROP TABLE', EVERGREEN_LOG_LEVEL: 'loud' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).issues.map((i) => i.field).sort()).toEqual(['DATABASE_URL', 'EVERGREEN_DB_SCHEMA']);
  });
});

describe('numeric variables', () => {
  it.each(['0x10', '1e3', '16 ', ' 1_6'])('only plain decimals count: EVERGREEN_WORKER_CONCURRENCY=%j', (value) => {
    const error = configError({ ...minimal, EVERGREEN_WORKER_CONCURRENCY: value.trim() === '16' ? 'sixteen' : value });
    expect(fields(error)).toEqual(['EVERGREEN_WORKER_CONCURRENCY']);
  });
});

describe('EVERGREEN_WEBHOOKS', () => {
  it('reads inline JSON with ${VAR} from the environment', () => {
    const config = loadConfig({
      ...minimal,
      EVERGREEN_WEBHOOKS: '[{"id":"app","url":"https://app.example.com/hooks","secret":"${HOOK_SECRET}"}]',
      HOOK_SECRET: 'a-secret-of-twenty-chars',
    });
    expect(config.webhooks).toEqual([
      { id: 'app', url: 'https://app.example.com/hooks', secret: 'a-secret-of-twenty-chars', events: ['*'] },
    ]);
  });

  it('reads a YAML file, and names bad entries without quoting secrets', () => {
    const path = join(dir, 'hooks.yaml');
    writeFileSync(
      path,
      '- id: app\n  url: http://example.com/hooks\n  secret: short-secret\n  events: [connection.refreshd]\n',
    );
    const error = configError({ ...minimal, EVERGREEN_WEBHOOKS: path });
    expect(fields(error)).toEqual(
      expect.arrayContaining(['EVERGREEN_WEBHOOKS[0] (app).url', 'EVERGREEN_WEBHOOKS[0] (app).secret']),
    );
    expect(error.message).not.toContain('short-secret');
    expect(error.message).toContain('events');
  });

  it('refuses text that is neither JSON nor a readable file', () => {
    expect(fields(configError({ ...minimal, EVERGREEN_WEBHOOKS: '[{"id": oops' }))).toEqual(['EVERGREEN_WEBHOOKS']);
    expect(fields(configError({ ...minimal, EVERGREEN_WEBHOOKS: '/no/such/file.yaml' }))).toEqual([
      'EVERGREEN_WEBHOOKS',
    ]);
  });
});

describe('the connect flow variables', () => {
  it('reads the public URL and the list of return URL prefixes', () => {
    const config = loadConfig({
      ...minimal,
      EVERGREEN_PUBLIC_URL: 'https://evergreen.example.com',
      EVERGREEN_CONNECT_RETURN_URLS: 'https://app.example.com/connected, http://127.0.0.1:5173/',
    });
    expect(config.connect).toEqual({
      publicUrl: 'https://evergreen.example.com',
      returnUrls: ['https://app.example.com/connected', 'http://127.0.0.1:5173/'],
    });
  });

  it('names each bad one', () => {
    const error = configError({
      ...minimal,
      EVERGREEN_PUBLIC_URL: 'https://evergreen.example.com/?x=1',
      EVERGREEN_CONNECT_RETURN_URLS: 'https://app.example.com,javascript:alert(1)',
    });
    expect(error.issues).toEqual([
      { field: 'EVERGREEN_PUBLIC_URL', reason: 'must have no query or fragment' },
      { field: 'EVERGREEN_CONNECT_RETURN_URLS[1]', reason: 'must be an http or https URL' },
    ]);
  });
});
