import { createLogger } from '@evergreen/log';
import { createRedis } from '@evergreen/queue';
import { closeDatabase, openDatabase, type Database } from '@evergreen/store';
import { Counter, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { until } from '@evergreen/test-support/until';
import { boundedChecks, readinessChecks, startOpsServer, type OpsServer, type OpsServerOptions } from '../src/index.ts';

describe('the ops server', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  const logs = new LogCapture();
  const log = createLogger({ level: 'info', destination: logs });
  const servers: OpsServer[] = [];
  const redisUp = createRedis(sandbox.redisUrl, 'producer');
  redisUp.on('error', () => {});
  // Nothing listens on port 1: a producer client fails every command at once (no offline queue).
  const redisDown = createRedis('redis://127.0.0.1:1', 'producer');
  redisDown.on('error', () => {});
  let db: Database;

  beforeAll(async () => {
    db = await fixture.open();
  });

  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
    redisUp.disconnect();
    redisDown.disconnect();
    await fixture.close();
  });

  async function start(overrides: Partial<OpsServerOptions> = {}): Promise<string> {
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      readiness: async () => ({ postgres: true }),
      log,
      ...overrides,
    });
    servers.push(server);
    return `http://127.0.0.1:${server.port}`;
  }

  it('answers /healthz while the process is alive', async () => {
    const base = await start({ readiness: async () => ({ postgres: false }) });
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('is ready when Postgres and Redis both answer', async () => {
    await until(() => redisUp.status === 'ready', { what: 'the producer client to connect' });
    const base = await start({ readiness: readinessChecks({ db, redis: redisUp }) });
    const res = await fetch(`${base}/readyz`);
    expect(await res.json()).toEqual({ status: 'ready', checks: { postgres: true, redis: true } });
    expect(res.status).toBe(200);
  });

  it('is not ready, and says which, when Redis is unreachable', async () => {
    const base = await start({ readiness: readinessChecks({ db, redis: redisDown }) });
    const started = Date.now();
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', checks: { postgres: true, redis: false } });
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it('is not ready when Postgres is gone', async () => {
    const gone = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 1 });
    await closeDatabase(gone);
    const base = await start({ readiness: readinessChecks({ db: gone, redis: redisUp }) });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', checks: { postgres: false, redis: true } });
  });

  it('bounds a check that hangs, and turns a readiness function that throws into 503', async () => {
    const hanging = boundedChecks({ postgres: async () => true, stuck: () => new Promise(() => {}) }, 100);
    const base = await start({ readiness: hanging });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready', checks: { postgres: true, stuck: false } });

    const throwing = await start({
      readiness: async () => {
        throw new Error('boom');
      },
    });
    const res2 = await fetch(`${throwing}/readyz`);
    expect(res2.status).toBe(503);
    expect(await res2.json()).toEqual({ status: 'not_ready', checks: {} });
  });

  it("serves the registry's metrics with its content type, and 404/405 elsewhere", async () => {
    const registry = new Registry();
    new Counter({ name: 'evergreen_test_total', help: 'test', registers: [registry] }).inc(3);
    const base = await start({ registry });
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    expect(await res.text()).toContain('evergreen_test_total 3');

    expect((await fetch(`${base}/metrics?x=1`)).status).toBe(200);
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics/extra`)).status).toBe(404);
    expect((await fetch(`${base}/admin`)).status).toBe(404);
    const post = await fetch(`${base}/metrics`, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers 500 rather than hanging when a collector throws', async () => {
    const registry = new Registry();
    new Counter({
      name: 'evergreen_broken_total',
      help: 'broken',
      registers: [registry],
      collect() {
        throw new Error('collector bug');
      },
    });
    const base = await start({ registry });
    expect((await fetch(`${base}/metrics`)).status).toBe(500);
    expect(logs.events('metrics collection failed')).toHaveLength(1);
  });

  it('closes with scrapers still connected, and frees its port', async () => {
    const server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: new Registry(),
      readiness: async () => ({}),
      log,
    });
    const base = `http://127.0.0.1:${server.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200); // leaves a keep-alive connection open
    await server.close();
    await server.close(); // idempotent
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    const again = await startOpsServer({
      port: server.port,
      host: '127.0.0.1',
      registry: new Registry(),
      readiness: async () => ({}),
      log,
    });
    servers.push(again);
    expect(again.port).toBe(server.port);
  });
});
