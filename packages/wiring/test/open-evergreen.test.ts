import { createLogger } from '@evergreen/log';
import { afterAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';
import { openEvergreen } from '../src/open-evergreen.ts';
import { PartsClosedError } from '../src/parts-closed-error.ts';

const log = createLogger({ level: 'silent' });

describe('openEvergreen', () => {
  const sandbox = new Sandbox();
  afterAll(() => sandbox.cleanup());

  it('opens each Redis client on first use and once, and closes everything once', async () => {
    const parts = openEvergreen(sandbox.config(), { log });
    const worker = parts.worker;
    const producer = parts.producer;
    expect(parts.worker).toBe(worker);
    expect(parts.producer).toBe(producer);
    expect(worker.redis).not.toBe(producer.redis);
    expect(await producer.firstConnection).toBe(true);
    await parts.prepare();
    expect(await parts.db.$client`select 1 as one`).toEqual([{ one: 1 }]);

    const closing = parts.close();
    expect(parts.close()).toBe(closing);
    await closing;
    await until(() => worker.redis.status === 'end' && producer.redis.status === 'end', {
      what: 'both Redis clients closed',
    });
    await expect(parts.db.$client`select 1`).rejects.toThrow();
  });

  it('refuses to open a Redis client once closed, rather than leak it', async () => {
    const parts = openEvergreen(sandbox.config(), { log });
    await parts.close();
    expect(() => parts.worker).toThrow(PartsClosedError);
  });

  it('fails the preparation at once when asked not to wait, and tries again on the next call', async () => {
    // Port 1 on loopback: nothing listens, the connection is refused.
    const parts = openEvergreen(sandbox.config({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres' }), { log });
    try {
      const started = Date.now();
      await expect(parts.prepare({ waitForPostgresMs: 0 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(Date.now() - started).toBeLessThan(2_000);
      await expect(parts.prepare({ waitForPostgresMs: 0 })).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await parts.close();
    }
  });

  it("says when Redis's first connection fails, without waiting out its timeout", async () => {
    const parts = openEvergreen(sandbox.config({ REDIS_URL: 'redis://127.0.0.1:1' }), { log });
    try {
      const started = Date.now();
      expect(await parts.producer.firstConnection).toBe(false);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await parts.close();
    }
  });
});
