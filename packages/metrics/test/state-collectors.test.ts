import { randomUUID } from 'node:crypto';
import { createLogger } from '@evergreen/log';
import { createRedis, RefreshQueues } from '@evergreen/queue';
import { closeDatabase, ConnectionStore, openDatabase, type Database } from '@evergreen/store';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { until } from '@evergreen/test-support/until';
import {
  createRegistry,
  registerStateCollectors,
  RefreshMetrics,
  startOpsServer,
  type OpsServer,
} from '../src/index.ts';
import { parseProm, samplesOf } from './prom-text.ts';

const MINUTE = 60_000;

describe('state collectors', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  const logs = new LogCapture();
  const log = createLogger({ level: 'info', destination: logs });
  const producer = createRedis(sandbox.redisUrl, 'producer');
  producer.on('error', () => {});
  const queues = new RefreshQueues(producer, sandbox.prefix);
  const registry = createRegistry();
  let db: Database;
  let store: ConnectionStore;
  let server: OpsServer;
  /** Everything that must never reach /metrics. */
  const secrets: string[] = [];

  beforeAll(async () => {
    db = await fixture.open();
    store = new ConnectionStore(db, sandbox.config().keyring, 'metrics-test');
    new RefreshMetrics(registry);
    registerStateCollectors({
      registry,
      db,
      queues,
      providers: ['acme', 'globex', 'initech'],
      log,
      cacheMs: 0,
    });
    server = await startOpsServer({ port: 0, host: '127.0.0.1', registry, readiness: async () => ({}), log });
  });

  afterAll(async () => {
    await server.close();
    await queues.close();
    producer.disconnect();
    await fixture.close();
  });

  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    return res.text();
  };

  async function insert(provider: string, expiresInMs: number | null): Promise<string> {
    const ownerId = `owner-${randomUUID()}`;
    const accessToken = `at-${randomUUID()}`;
    const refreshToken = `rt-${randomUUID()}`;
    const expiresAt = expiresInMs === null ? null : new Date(Date.now() + expiresInMs);
    const { connectionId } = await store.upsert({
      connectionId: `conn-${randomUUID()}`,
      ownerId,
      provider,
      accessToken,
      refreshToken,
      scopes: ['read'],
      metadata: { tenant: `tenant-${randomUUID()}` },
      expiresAt,
      refreshAt: expiresAt,
    });
    secrets.push(ownerId, accessToken, refreshToken, connectionId);
    return connectionId;
  }

  it('counts connections by provider and status, and tokens expiring within 5 minutes and an hour', async () => {
    const soon = await insert('acme', 2 * MINUTE);
    await insert('acme', -MINUTE); // already expired: expiring within any window
    await insert('acme', 30 * MINUTE);
    await insert('acme', 3 * 60 * MINUTE);
    const reauth = await insert('acme', 3 * MINUTE);
    await insert('globex', null);
    const gone = await insert('globex', 4 * MINUTE);
    await sandbox.sql`update connections set status = 'needs_reauth' where id = ${reauth}`;
    await sandbox.sql`update connections set status = 'disconnected', access_token = null where id = ${gone}`;

    const samples = parseProm(await scrape());
    expect(samplesOf(samples, 'evergreen_connections')).toEqual({
      'provider=acme,status=connected': 4,
      'provider=acme,status=token_expired': 0,
      'provider=acme,status=needs_reauth': 1,
      'provider=acme,status=error': 0,
      'provider=acme,status=disconnected': 0,
      'provider=globex,status=connected': 1,
      'provider=globex,status=token_expired': 0,
      'provider=globex,status=needs_reauth': 0,
      'provider=globex,status=error': 0,
      'provider=globex,status=disconnected': 1,
      'provider=initech,status=connected': 0,
      'provider=initech,status=token_expired': 0,
      'provider=initech,status=needs_reauth': 0,
      'provider=initech,status=error': 0,
      'provider=initech,status=disconnected': 0,
    });
    // Live rows only: the needs_reauth and disconnected rows expire soon too, but nobody will refresh them.
    expect(samplesOf(samples, 'evergreen_tokens_expiring')).toEqual({
      'provider=acme,within=5m': 2,
      'provider=acme,within=1h': 3,
      'provider=globex,within=5m': 0,
      'provider=globex,within=1h': 0,
      'provider=initech,within=5m': 0,
      'provider=initech,within=1h': 0,
    });

    // A status change shows on the next scrape (the cache is off here).
    await sandbox.sql`update connections set status = 'token_expired' where id = ${soon}`;
    const after = samplesOf(parseProm(await scrape()), 'evergreen_connections');
    expect(after['provider=acme,status=connected']).toBe(3);
    expect(after['provider=acme,status=token_expired']).toBe(1);
  });

  it('counts each provider queue by BullMQ state', async () => {
    const now = Date.now();
    const later = [await insert('acme', 60 * MINUTE), await insert('acme', 60 * MINUTE)];
    const due = await insert('globex', MINUTE);
    for (const id of later) expect(await queues.schedule('acme', id, now + 60 * MINUTE, now)).toBe('added');
    expect(await queues.schedule('globex', due, now - 1_000, now)).toBe('added');

    const samples = parseProm(await scrape());
    const jobs = samplesOf(samples, 'evergreen_queue_jobs');
    expect(jobs).toMatchObject({
      'provider=acme,state=delayed': 2,
      'provider=acme,state=waiting': 0,
      'provider=acme,state=active': 0,
      'provider=globex,state=waiting': 1,
      'provider=globex,state=delayed': 0,
      'provider=initech,state=waiting': 0,
    });
    expect(Object.keys(jobs)).toHaveLength(3 * 6);
    expect(new Set(Object.keys(jobs).map((k) => k.split(',')[1]))).toEqual(
      new Set(['waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized'].map((s) => `state=${s}`)),
    );
  });

  it('never puts a connection id, owner id, token or metadata in /metrics', async () => {
    const text = await scrape();
    expect(secrets.length).toBeGreaterThan(20);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/owner-|conn-|tenant-|\bat-|\brt-/);
    // And the only labels on Evergreen's own metrics are the classified ones.
    const labelNames = new Set(
      parseProm(text)
        .filter((s) => /^evergreen_(connections|tokens_expiring|queue_jobs|refresh_|lock_)/.test(s.name))
        .flatMap((s) => Object.keys(s.labels)),
    );
    expect([...labelNames].sort()).toEqual(['provider', 'state', 'status', 'within']);
  });

  it('reports the values each encryption key id has sealed, from every process', async () => {
    const flushed = await store.flushKeyUsage();
    expect(flushed?.keyId).toBe('test1');
    // Another process, still on an older key, wrote its count too.
    await sandbox.sql`insert into key_usage (key_id, encryptions) values ('k2025', 3000000000)`;
    expect(samplesOf(parseProm(await scrape()), 'evergreen_key_encryptions')).toEqual({
      'key_id=k2025': 3_000_000_000,
      'key_id=test1': flushed?.encryptions,
    });
  });

  it('serves cached values inside the cache window, and fresh ones after it', async () => {
    let clock = 1_000_000;
    const cachedRegistry = new Registry();
    registerStateCollectors({
      registry: cachedRegistry,
      db,
      queues,
      providers: ['initech'],
      log,
      cacheMs: 5_000,
      now: () => clock,
    });
    const connected = async () =>
      samplesOf(parseProm(await cachedRegistry.metrics()), 'evergreen_connections')[
        'provider=initech,status=connected'
      ];

    expect(await connected()).toBe(0);
    await insert('initech', 60 * MINUTE);
    clock += 4_000;
    expect(await connected()).toBe(0); // still the cached answer: no query
    clock += 1_000;
    expect(await connected()).toBe(1);
  });

  it('keeps the last values and logs a warning when Postgres or Redis fails, and the scrape still succeeds', async () => {
    const failing = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 1 });
    const failingRedis = createRedis(sandbox.redisUrl, 'producer');
    failingRedis.on('error', () => {});
    const failingQueues = new RefreshQueues(failingRedis, sandbox.prefix);
    const ownRegistry = new Registry();
    const own = new LogCapture();
    registerStateCollectors({
      registry: ownRegistry,
      db: failing,
      queues: failingQueues,
      providers: ['acme'],
      log: createLogger({ level: 'warn', destination: own }),
      cacheMs: 0,
      queryTimeoutMs: 1_000,
    });
    await until(() => failingRedis.status === 'ready', { what: 'the producer client to connect' });
    const before = parseProm(await ownRegistry.metrics());
    const snapshot = {
      connections: samplesOf(before, 'evergreen_connections'),
      expiring: samplesOf(before, 'evergreen_tokens_expiring'),
      jobs: samplesOf(before, 'evergreen_queue_jobs'),
    };
    expect(snapshot.connections['provider=acme,status=connected']).toBeGreaterThan(0);
    expect(snapshot.jobs['provider=acme,state=delayed']).toBe(2);

    await closeDatabase(failing);
    await failingQueues.close();
    failingRedis.disconnect();
    await insert('acme', MINUTE); // the real count moves on; the broken collectors cannot see it

    const after = parseProm(await ownRegistry.metrics());
    expect(samplesOf(after, 'evergreen_connections')).toEqual(snapshot.connections);
    expect(samplesOf(after, 'evergreen_tokens_expiring')).toEqual(snapshot.expiring);
    expect(samplesOf(after, 'evergreen_queue_jobs')).toEqual(snapshot.jobs);
    const warned = own.events('metrics query failed; keeping the last values').map((e) => e.gauge);
    expect(new Set(warned)).toEqual(
      new Set([
        'evergreen_connections',
        'evergreen_tokens_expiring',
        'evergreen_queue_jobs',
        'evergreen_key_encryptions',
      ]),
    );
    for (const secret of secrets) expect(own.text).not.toContain(secret);
  });
});
