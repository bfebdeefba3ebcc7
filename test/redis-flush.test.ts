import { FakeProvider } from '@evergreen/fake-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshTimes } from '@evergreen/test-support/provider-records';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

describe('Redis losing all its data', () => {
  // A Redis database of its own, so a real FLUSHDB wipes this test's Redis and no other test file's.
  const sandbox = new Sandbox({ redisDb: 7 });
  let provider: FakeProvider;
  let stack: Stack;

  beforeAll(async () => {
    provider = await FakeProvider.start({ accessTokenLifetimeSeconds: 6 });
    sandbox.useProviders([{ id: 'acme', tokenUrl: provider.tokenUrl }]);
    stack = await startStack(sandbox, { roles: ['worker', 'scheduler'] });
  });

  afterAll(async () => {
    await stack?.close();
    await provider?.close();
    await sandbox.cleanup();
  });

  it('heals: after FLUSHDB every connection is rescheduled from Postgres and refreshed on time', async () => {
    const grants: { grantId: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const grant = provider.issue({ expiresIn: 6 });
      await stack.evergreen.enqueueConnection({
        ownerId: `owner-${i}`,
        provider: 'acme',
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresIn: 6,
      });
      grants.push(grant);
    }
    await until(() => grants.every((g) => refreshTimes(provider, g.grantId).length >= 1), {
      timeoutMs: 20_000,
      what: 'a first refresh of each',
    });

    expect((await sandbox.redisKeys()).length).toBeGreaterThan(0);
    await sandbox.redis.flushdb();
    const flushedAt = Date.now();
    expect(await sandbox.redisKeys()).toEqual([]);

    await until(() => grants.every((g) => refreshTimes(provider, g.grantId).filter((t) => t > flushedAt).length >= 2), {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: 'two refreshes of each connection after the flush',
    });
    // On time: no access token (6 s lifetime) outlived by the gap to the next refresh, the flush included.
    for (const g of grants) {
      const times = refreshTimes(provider, g.grantId);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThan(6_000);
    }
    expect(provider.reuseCount()).toBe(0);
    const rows = await sandbox.sql<{ status: string }[]>`select status from connections`;
    expect(rows.every((r) => r.status === 'connected')).toBe(true);
    // The scheduler noticed the lost sentinel and rebuilt everything in one full pass.
    expect(stack.logs.events('reconcile').some((e) => e.fullPass === true && (e.scheduled as number) > 0)).toBe(true);
  });
});
