import { FakeProvider } from '@evergreen/fake-provider';
import { ApiKeyStore } from '@evergreen/store';
import { refreshTimes } from '@evergreen/test-support/provider-records';
import { missingRedisBinaries, SentinelSet } from '@evergreen/test-support/redis-servers';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const missing = missingRedisBinaries();
if (missing) console.warn(`skipped: Redis Sentinel failover test: ${missing}`);

// Room for a failover (down-after 1 s, the election, the clients reconnecting) between two refreshes at half the lifetime.
const LIFETIME_S = 16;
const CONNECTIONS = 30;
const ADMIN_TOKEN = 'sentinel-test-admin-token-0123456789';
const DATA_PASSWORD = 'data-password-for-the-test';
const SENTINEL_PASSWORD = 'sentinel-password-for-the-test';

/**
 * Issue 18, item 1: Evergreen on a real Sentinel set (one primary, one replica, three sentinels on loopback). The
 * primary is SIGKILLed with refreshes in flight; the sentinels promote the replica; worker, scheduler, api and board,
 * still the same process, carry on through it.
 */
describe.skipIf(missing !== null)('Redis Sentinel: the primary killed mid-run', () => {
  const sandbox = new Sandbox();
  let set: SentinelSet;
  let provider: FakeProvider;
  let stack: Stack;

  beforeAll(async () => {
    set = await SentinelSet.start({ password: DATA_PASSWORD, sentinelPassword: SENTINEL_PASSWORD });
    // Latency keeps refreshes in flight at any instant, so the kill lands in the middle of some.
    provider = await FakeProvider.start({ accessTokenLifetimeSeconds: LIFETIME_S, latencyMs: 300 });
    sandbox.useProviders([{ id: 'acme', tokenUrl: provider.tokenUrl }]);
    stack = await startStack(sandbox, {
      roles: ['worker', 'scheduler', 'api', 'board'],
      env: {
        ...set.env(),
        // The suite's own Redis, which the sandbox names: unused once REDIS_SENTINELS is set.
        REDIS_URL: 'redis://127.0.0.1:1',
        EVERGREEN_API_PORT: '0',
        EVERGREEN_BOARD_PORT: '0',
        EVERGREEN_ADMIN_TOKEN: ADMIN_TOKEN,
        EVERGREEN_LOG_LEVEL: 'info',
      },
    });
  }, 60_000);

  afterAll(async () => {
    try {
      // Bounded: a close stuck on a broken client must not leave the set's servers running after the test.
      await Promise.race([stack?.close(), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      await provider?.close();
    } finally {
      await set?.stop();
      await sandbox.cleanup();
    }
  }, 60_000);

  it('promotes the replica; no connection lost or expired, no refresh token presented twice', async () => {
    const roles = stack.roles!;
    const grants: { connectionId: string; grantId: string }[] = [];
    for (let i = 0; i < CONNECTIONS; i++) {
      const { connectionId, grant, scheduling } = await stack.connect(provider, {
        ownerId: `owner-${i}`,
        provider: 'acme',
        // First lifetimes from 4 to 15 s, so the refreshes spread over the cycle and some fall due during the failover.
        expiresIn: 4 + (i % 12),
      });
      expect(scheduling).toBe('scheduled');
      grants.push({ connectionId, grantId: grant.grantId });
    }
    // Everything Evergreen wrote went to the primary the sentinels named.
    const primary = set.primary.client(DATA_PASSWORD);
    await primary.connect();
    expect((await primary.keys(`${sandbox.prefix}:*`)).length).toBeGreaterThan(0);
    primary.disconnect();

    await until(() => grants.every((g) => refreshTimes(provider, g.grantId).length >= 1), {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'a first refresh of every connection',
    });
    // A refresh the provider received less than its latency ago has not been answered yet: in flight.
    await until(() => provider.requests.some((r) => Date.now() - r.at < 150), {
      timeoutMs: 15_000,
      intervalMs: 10,
      what: 'a refresh in flight',
    });
    const killedAt = Date.now();
    await set.primary.kill();

    await until(async () => (await set.primaryPort()) === set.replica.port, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: 'the sentinels to promote the replica',
    });
    const promotedAt = Date.now();

    // Every connection refreshed twice after the promotion, by the same worker process: nothing was restarted.
    await until(
      () => grants.every((g) => refreshTimes(provider, g.grantId).filter((t) => t > promotedAt).length >= 2),
      { timeoutMs: 60_000, intervalMs: 200, what: 'two refreshes of every connection after the failover' },
    );

    // None expired: the gap between two refreshes (the failover's included) stayed inside the token's lifetime.
    let longestGap = 0;
    for (const g of grants) {
      const times = refreshTimes(provider, g.grantId);
      for (let i = 1; i < times.length; i++) longestGap = Math.max(longestGap, times[i]! - times[i - 1]!);
    }
    expect(longestGap).toBeLessThan(LIFETIME_S * 1_000);
    expect(provider.reuseCount()).toBe(0);
    const rows = await sandbox.sql<{ status: string }[]>`select status from connections`;
    expect(rows).toHaveLength(CONNECTIONS);
    expect(rows.every((r) => r.status === 'connected')).toBe(true);

    // The new primary holds every connection's job: whatever asynchronous replication dropped was rebuilt.
    const jobs = stack.parts.worker.queues;
    await until(
      async () => (await jobs.existing(grants.map((g) => ({ id: g.connectionId, provider: 'acme' })))).every(Boolean),
      {
        timeoutMs: 10_000,
        what: "every connection's job on the new primary",
      },
    );

    // What a failover drops when replication lags (a job move, the scheduler's sentinel): dropped here on purpose, on
    // the new primary, and rebuilt from Postgres by the running scheduler.
    const dropped = grants.slice(0, 5);
    for (const g of dropped) await jobs.unschedule('acme', g.connectionId);
    const promotedClient = set.replica.client(DATA_PASSWORD);
    await promotedClient.connect();
    await promotedClient.del(`${sandbox.prefix}:scheduler:sentinel`);
    promotedClient.disconnect();
    const droppedAt = Date.now();
    await until(
      async () =>
        (await jobs.existing(dropped.map((g) => ({ id: g.connectionId, provider: 'acme' })))).every(Boolean) &&
        dropped.every((g) => refreshTimes(provider, g.grantId).some((t) => t > droppedAt)),
      { timeoutMs: 20_000, intervalMs: 100, what: 'the dropped jobs rebuilt from Postgres and run' },
    );
    expect(provider.reuseCount()).toBe(0);

    // The api serves valid tokens through the same process, and the board reads the queues on the new primary.
    const store = new ApiKeyStore(roles.parts.db);
    const key = await store.create({ name: 'sentinel', scopes: ['tokens:read'], providers: null });
    for (const g of grants.slice(0, 5)) {
      const res = await fetch(`${roles.api!.address}/v1/connections/${g.connectionId}/token`, {
        headers: { authorization: `Bearer ${key.key}` },
      });
      expect(res.status).toBe(200);
      const { accessToken } = (await res.json()) as { accessToken: string };
      expect(provider.isAccessTokenValid(accessToken)).toBe(true);
    }
    const board = await fetch(`${roles.board!.address}/board/api/queues`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(board.status).toBe(200);
    expect(JSON.stringify(await board.json())).toContain('refresh-acme');

    const promoted = set.replica.client(DATA_PASSWORD);
    await promoted.connect();
    expect(await promoted.call('ROLE')).toContainEqual('master');
    // Redis never sees a token (invariant 2), on the new primary too.
    const dump = JSON.stringify(await promoted.keys(`${sandbox.prefix}:*`));
    promoted.disconnect();
    expect(dump).not.toContain(provider.allIssuedTokens()[0]);
    expect(stack.logs.text).not.toContain(DATA_PASSWORD);
    expect(stack.logs.text).not.toContain(SENTINEL_PASSWORD);
    console.info(
      `sentinel failover: promoted ${promotedAt - killedAt} ms after the kill; longest gap between refreshes ${longestGap} ms`,
    );
  }, 150_000);
});
