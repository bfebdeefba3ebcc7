import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { InvalidInputError } from '@evergreen/core';
import { FakeProvider } from '@evergreen/fake-provider';
import { createLogger } from '@evergreen/log';
import { queueName } from '@evergreen/queue';
import { createEvergreen } from '@evergreen/sdk';
import { migrateDatabase } from '@evergreen/store';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

describe('enqueueConnection()', () => {
  const sandbox = new Sandbox();
  let f: ProviderStack;
  let queue: Queue;

  beforeAll(async () => {
    f = await startProviderStack(sandbox); // a producer only: no worker may take the jobs we inspect
    queue = new Queue(queueName('acme'), { connection: sandbox.redis, prefix: sandbox.prefix });
  });

  afterAll(async () => {
    await queue?.close();
    await f?.close();
  });

  const snapshot = async () => JSON.stringify(await sandbox.sql`select * from connections order by id`);

  it('stores encrypted tokens and schedules one job at expiry minus the buffer', async () => {
    const before = Date.now();
    const result = await f.stack.evergreen.enqueueConnection({
      ownerId: 'user-1',
      provider: 'acme',
      accessToken: 'access-one',
      refreshToken: 'refresh-one',
      expiresIn: 3600,
      scopes: ['read', 'write'],
      metadata: { team: 'blue' },
    });
    expect(result.status).toBe('connected');
    expect(result.scheduling).toBe('scheduled');
    const expiresAt = result.expiresAt!.getTime();
    expect(expiresAt).toBeGreaterThanOrEqual(before + 3_600_000);
    // 5-minute buffer, jitter (test setting: up to 200 ms) only ever earlier.
    expect(expiresAt - result.refreshAt!.getTime()).toBeGreaterThanOrEqual(300_000);
    expect(expiresAt - result.refreshAt!.getTime()).toBeLessThanOrEqual(300_200);

    const job = await queue.getJob(result.connectionId);
    expect(job?.data).toEqual({ connectionId: result.connectionId });
    expect(await job!.getState()).toBe('delayed');
    expect(job!.timestamp + job!.delay).toBeGreaterThanOrEqual(result.refreshAt!.getTime() - 50);
    expect(job!.timestamp + job!.delay).toBeLessThanOrEqual(result.refreshAt!.getTime() + 50);

    const [raw] =
      await sandbox.sql`select access_token, refresh_token, scopes, metadata from connections where id = ${result.connectionId}`;
    expect(raw!.access_token).toMatch(/^evg1\.test1\./);
    expect(raw!.access_token).not.toContain('access-one');
    expect(raw!.refresh_token).not.toContain('refresh-one');
    expect(raw!.scopes).toEqual(['read', 'write']);
    expect(raw!.metadata).toEqual({ team: 'blue' });
    const row = await f.stack.read(result.connectionId);
    expect(row).toMatchObject({
      accessToken: 'access-one',
      refreshToken: 'refresh-one',
      ownerId: 'user-1',
      version: 1,
    });
  });

  it('identifies a connection by (ownerId, provider) when no id is given, and reschedules when called again', async () => {
    const first = await f.stack.evergreen.enqueueConnection({
      ownerId: 'user-2',
      provider: 'acme',
      accessToken: 'a1',
      refreshToken: 'r1',
      expiresIn: 7200,
    });
    const second = await f.stack.evergreen.enqueueConnection({
      ownerId: 'user-2',
      provider: 'acme',
      accessToken: 'a2',
      refreshToken: 'r2',
      expiresIn: 900,
    });
    expect(second.connectionId).toBe(first.connectionId);
    const job = await queue.getJob(first.connectionId);
    // BullMQ ignores an add whose id exists; the job must have moved to the new, earlier time.
    expect(Math.abs(job!.timestamp + job!.delay - second.refreshAt!.getTime())).toBeLessThan(100);
    const row = await f.stack.read(first.connectionId);
    expect(row).toMatchObject({ accessToken: 'a2', refreshToken: 'r2', version: 2 });
    expect(await queue.getJobCounts('delayed', 'waiting', 'active')).toMatchObject({ waiting: 0, active: 0 });
  });

  it('keeps caller-given ids separate and refuses to move an id to another owner', async () => {
    const a = await f.stack.evergreen.enqueueConnection({
      connectionId: 'conn-a',
      ownerId: 'u3',
      provider: 'acme',
      accessToken: 'x',
      refreshToken: 'y',
    });
    const b = await f.stack.evergreen.enqueueConnection({
      connectionId: 'conn-b',
      ownerId: 'u3',
      provider: 'acme',
      accessToken: 'x',
      refreshToken: 'y',
    });
    expect([a.connectionId, b.connectionId]).toEqual(['conn-a', 'conn-b']);
    const before = await snapshot();
    const error = await f.stack.evergreen
      .enqueueConnection({ connectionId: 'conn-a', ownerId: 'someone-else', provider: 'acme', accessToken: 'x' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).field).toBe('connectionId');
    expect(await snapshot()).toBe(before);
  });

  it('computes expiry from the JWT exp when no expiresIn or expiresAt is given', async () => {
    const exp = Math.floor(Date.now() / 1000) + 1800.5;
    const jwt = [
      Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url'),
      Buffer.from(JSON.stringify({ sub: 'u', exp })).toString('base64url'),
      'sig',
    ].join('.');
    const result = await f.stack.evergreen.enqueueConnection({
      ownerId: 'u4',
      provider: 'acme',
      accessToken: jwt,
      refreshToken: 'r',
    });
    expect(result.expiresAt!.getTime()).toBe(Math.round(exp * 1000));
  });

  it('stores a token without a refresh token but schedules nothing', async () => {
    const result = await f.stack.evergreen.enqueueConnection({
      ownerId: 'u5',
      provider: 'acme',
      accessToken: 'static',
      expiresIn: 60,
    });
    expect(result).toMatchObject({ refreshAt: null, scheduling: 'not_needed' });
    expect(await queue.getJob(result.connectionId)).toBeUndefined();
  });

  const bad: [string, Record<string, unknown>, string][] = [
    ['ownerId missing', { provider: 'acme', accessToken: 'a' }, 'ownerId'],
    ['provider unknown', { ownerId: 'u', provider: 'nope', accessToken: 'a' }, 'provider'],
    ['accessToken empty', { ownerId: 'u', provider: 'acme', accessToken: '' }, 'accessToken'],
    ['expiresIn negative', { ownerId: 'u', provider: 'acme', accessToken: 'a', expiresIn: -5 }, 'expiresIn'],
    ['expiresAt not a date', { ownerId: 'u', provider: 'acme', accessToken: 'a', expiresAt: 'tomorrow' }, 'expiresAt'],
    [
      'expiresAt and expiresIn both',
      { ownerId: 'u', provider: 'acme', accessToken: 'a', expiresIn: 5, expiresAt: new Date() },
      'expiresIn',
    ],
    [
      'connectionId with a colon',
      { connectionId: 'a:b', ownerId: 'u', provider: 'acme', accessToken: 'a' },
      'connectionId',
    ],
    ['a misspelt field', { ownerId: 'u', provider: 'acme', accessToken: 'a', refresh_token: 'r' }, 'refresh_token'],
    ['scopes not an array', { ownerId: 'u', provider: 'acme', accessToken: 'a', scopes: 'read' }, 'scopes'],
  ];
  it.each(bad)('rejects %s with an error naming the field, and writes nothing', async (_name, input, field) => {
    const before = await snapshot();
    const keysBefore = (await sandbox.redisKeys()).length;
    const error = await f.stack.evergreen.enqueueConnection(input as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('ERR_INVALID_INPUT');
    expect((error as InvalidInputError).issues.map((i) => i.field)).toContain(field);
    expect((error as Error).message).toContain(field);
    expect(await snapshot()).toBe(before);
    expect((await sandbox.redisKeys()).length).toBe(keysBefore);
  });

  it('never repeats a token in an error message', async () => {
    const error = await f.stack.evergreen
      .enqueueConnection({ ownerId: 'u', provider: 'acme', accessToken: 'secret-value-123', refreshToken: 42 } as never)
      .then(
        () => null,
        (e: unknown) => e as Error,
      );
    expect(error).toBeInstanceOf(InvalidInputError);
    expect(error!.message).toContain('refreshToken');
    expect(error!.message).not.toContain('secret-value-123');
  });
});

describe('enqueueConnection() while Redis is down', () => {
  const sandbox = new Sandbox();
  let provider: FakeProvider;

  beforeAll(async () => {
    provider = await FakeProvider.start({ accessTokenLifetimeSeconds: 60 });
    sandbox.useProviders([{ id: 'acme', tokenUrl: provider.tokenUrl }]);
  });

  afterAll(async () => {
    await provider?.close();
    await sandbox.cleanup();
  });

  it('stores the row, says scheduling is pending, and the scheduler catches up once Redis is back', async () => {
    // Port 1 on loopback: nothing listens, so every Redis call fails at once.
    const logs = new LogCapture();
    const offline = createEvergreen({
      config: sandbox.config({ REDIS_URL: 'redis://127.0.0.1:1' }),
      logger: createLogger({ level: 'info', destination: logs }),
    });
    const grant = provider.issue({ expiresIn: 2 });
    const result = await offline.enqueueConnection({
      ownerId: 'u',
      provider: 'acme',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 2,
    });
    await offline.close();
    expect(result.scheduling).toBe('pending');
    expect(logs.events('scheduling deferred to the reconcile')).toHaveLength(1);
    const [row] = await sandbox.sql`select status from connections where id = ${result.connectionId}`;
    expect(row!.status).toBe('connected');

    const stack = await startStack(sandbox, { roles: ['worker', 'scheduler'] });
    try {
      await until(() => (provider.grant(grant.grantId)?.refreshCount ?? 0) >= 1, {
        timeoutMs: 20_000,
        what: 'the deferred refresh',
      });
    } finally {
      await stack.close();
    }
  });
});

describe('a client used the moment it is created', () => {
  const sandbox = new Sandbox();
  let provider: FakeProvider;
  let slowRedis: Server;
  let slowRedisUrl: string;

  beforeAll(async () => {
    provider = await FakeProvider.start();
    sandbox.useProviders([{ id: 'acme', tokenUrl: provider.tokenUrl }]);
    // Migrated already, as by an earlier process: the first call is quick on the Postgres side.
    await migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema });
    // Redis a little way off (another host, a TLS handshake): the connection is accepted at once and the first bytes
    // pass 800 ms later, so a new client spends that long connecting.
    const target = new URL(sandbox.redisUrl);
    slowRedis = createServer((socket) => {
      socket.pause();
      setTimeout(() => {
        const upstream = connect(Number(target.port || 6379), target.hostname);
        upstream.on('error', () => socket.destroy());
        socket.on('error', () => upstream.destroy());
        socket.pipe(upstream).pipe(socket);
        socket.resume();
      }, 800);
    });
    await new Promise<void>((resolve) => slowRedis.listen(0, '127.0.0.1', resolve));
    const url = new URL(sandbox.redisUrl);
    url.port = String((slowRedis.address() as AddressInfo).port);
    url.hostname = '127.0.0.1';
    slowRedisUrl = url.toString();
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => slowRedis.close(() => resolve()));
    await provider?.close();
    await sandbox.cleanup();
  });

  const enqueueAtOnce = async (redisUrl: string) => {
    const evergreen = createEvergreen({
      config: sandbox.config({ REDIS_URL: redisUrl }),
      logger: createLogger({ level: 'silent' }),
    });
    const started = Date.now();
    try {
      const grant = provider.issue();
      const result = await evergreen.enqueueConnection({
        ownerId: `at-once-${started}`,
        provider: 'acme',
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresIn: 3600,
      });
      return { result, ms: Date.now() - started };
    } finally {
      await evergreen.close();
    }
  };

  it('schedules its first connection, even while its Redis client is still connecting', async () => {
    const { result } = await enqueueAtOnce(slowRedisUrl);
    expect(result.scheduling).toBe('scheduled');
    const queue = new Queue(queueName('acme'), { connection: sandbox.redis, prefix: sandbox.prefix });
    try {
      expect(await queue.getJobState(result.connectionId)).toBe('delayed');
    } finally {
      await queue.close();
    }
  });

  it('still answers pending at once when Redis is really down', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused.
    const { result, ms } = await enqueueAtOnce('redis://127.0.0.1:1');
    expect(result.scheduling).toBe('pending');
    expect(ms).toBeLessThan(2_000);
  });
});
