import { createLogger } from '@evergreen/log';
import type { TokenClient } from '@evergreen/oauth';
import { ConnectionLock, queueName, RefreshQueues } from '@evergreen/queue';
import { engineFromConfig, RefreshWorkers, type RefreshEngine } from '@evergreen/refresh';
import { ConnectionStore, type StoredConnection } from '@evergreen/store';
import { openEvergreen, type EvergreenParts } from '@evergreen/wiring';
import { Queue } from 'bullmq';
import type { RedisClient } from '@evergreen/queue';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { until } from '@evergreen/test-support/until';

/** A real store whose next few calls of one kind fail, as they would while Postgres restarts. */
class FlakyStore extends ConnectionStore {
  failSuccessWrites = 0;
  failReads = 0;

  override async recordSuccess(...args: Parameters<ConnectionStore['recordSuccess']>) {
    if (this.failSuccessWrites > 0) {
      this.failSuccessWrites -= 1;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    }
    return super.recordSuccess(...args);
  }

  override async find(id: string): Promise<StoredConnection | null> {
    if (this.failReads > 0) {
      this.failReads -= 1;
      throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    }
    return super.find(id);
  }
}

describe('the refresh engine when Postgres fails under it', () => {
  const sandbox = new Sandbox();
  let f: ProviderStack;
  /** A second process's parts whose store fails on cue; its background engine is the one under test. */
  let flaky: EvergreenParts;
  let redis: RedisClient;
  let store: FlakyStore;
  let engine: RefreshEngine;
  let tokens: TokenClient;
  const logs = new LogCapture();

  beforeAll(async () => {
    f = await startProviderStack(sandbox, { provider: { accessTokenLifetimeSeconds: 3600 } });
    const config = sandbox.config();
    flaky = openEvergreen(config, {
      log: createLogger({ level: 'info', destination: logs }),
      store: (db) => (store = new FlakyStore(db, config.keyring, 'flaky')),
    });
    ({ redis, engine } = flaky.worker);
    tokens = flaky.tokens;
  });

  afterAll(async () => {
    await flaky?.close();
    await f?.close();
  });

  const enqueue = (ownerId: string) => f.stack.connect(f.provider, { ownerId, provider: 'acme', expiresIn: 3600 });

  it('keeps the rotated refresh token through a failed write: it retries until Postgres answers', async () => {
    const { grant, connectionId } = await enqueue('blip');
    store.failSuccessWrites = 2;
    const decision = await engine.run(connectionId, { trigger: 'forced', force: true });
    expect(decision.kind).toBe('delay');
    expect(store.failSuccessWrites).toBe(0);
    const row = await f.stack.read(connectionId);
    expect(row!.refreshToken).toBe(f.provider.grant(grant.grantId)!.currentRefreshToken);
    expect(logs.events('persisting refreshed tokens failed; retrying')).toHaveLength(2);
    // The retry logged the driver's error, never the statement's parameters.
    expect(logs.text).not.toContain('params:');
    expect(logs.text).not.toContain('evg1.');
  });

  it('answers "locked" with a prompt re-check while another process holds the lock', async () => {
    const { connectionId } = await enqueue('locked');
    const lock = new ConnectionLock(redis, sandbox.prefix);
    const held = (await lock.acquire(connectionId, 10_000))!;
    const before = Date.now();
    const decision = await engine.run(connectionId, { trigger: 'schedule' });
    await lock.release(held);
    expect(decision).toMatchObject({ kind: 'delay', why: 'locked' });
    expect((decision as { runAt: number }).runAt - before).toBeLessThanOrEqual(1_500);
  });

  it("holds a connection's lock for one request and its write, not the whole configured TTL", async () => {
    // Nobody releases a killed worker's lock: its TTL is how long the connection waits, and a rotation the kill lost
    // must be replayed inside the provider's grace period (Okta: 30 s).
    const config = sandbox.config({ EVERGREEN_LOCK_TTL_MS: '60000', EVERGREEN_HTTP_DEADLINE_MS: '5000' });
    const shortLocks = engineFromConfig(config, {
      store,
      lock: new ConnectionLock(redis, config.redisPrefix),
      tokens,
      log: createLogger({ level: 'info', destination: logs }),
    });
    const { connectionId } = await enqueue('lock-ttl');
    f.provider.injectFaults([{ kind: 'delay', ms: 400 }]);
    const running = shortLocks.run(connectionId, { trigger: 'forced', force: true });
    const key = `${config.redisPrefix}:lock:${connectionId}`;
    const ttl = await until(async () => ((await redis.pttl(key)) > 0 ? redis.pttl(key) : null), {
      intervalMs: 10,
      what: 'the lock taken',
    });
    expect(ttl).toBeLessThanOrEqual(5_000 + 3_000);
    expect(await running).toMatchObject({ kind: 'delay', why: 'scheduled' });
  });

  it("keeps a connection's job when its refresh throws, and refreshes it on the next run", async () => {
    const { grant, connectionId } = await enqueue('read-fails');
    const queues = new RefreshQueues(sandbox.redis, sandbox.prefix);
    const queue = new Queue(queueName('acme'), { connection: sandbox.redis, prefix: sandbox.prefix });
    store.failReads = 1;
    const workers = new RefreshWorkers({
      redis: sandbox.redisUrl,
      prefix: sandbox.prefix,
      providers: sandbox.config().providers,
      engine,
      queues,
      concurrency: 1,
      jobLockMs: 2_000,
      stalledIntervalMs: 1_000,
      log: createLogger({ level: 'info', destination: logs }),
    });
    try {
      await sandbox.sql`update connections set refresh_at = now() where id = ${connectionId}`;
      await queues.schedule('acme', connectionId, Date.now());
      workers.start();
      await until(() => logs.events('refresh failed unexpectedly; retrying').length >= 1, { what: 'the failed run' });
      await until(async () => (await queue.getJobState(connectionId)) === 'delayed', {
        what: 'the job back in delayed',
      });
      // The re-run (about 2.5–7.5 s later) refreshes it; the row still says it is due.
      await until(() => (f.provider.grant(grant.grantId)?.refreshCount ?? 0) >= 1, {
        timeoutMs: 15_000,
        what: 'the refresh on the next run',
      });
      expect(await queue.getJobState(connectionId)).not.toBe('failed');
    } finally {
      await workers.close(2_000);
      await queues.close();
      await queue.close();
    }
  });
});
