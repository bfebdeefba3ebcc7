import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshTimes } from '@evergreen/test-support/provider-records';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { until } from '@evergreen/test-support/until';

describe('Redis losing all its data', () => {
  // A Redis database of its own, so a real FLUSHDB wipes this test's Redis and no other test file's.
  const sandbox = new Sandbox({ redisDb: 7 });
  let f: ProviderStack;

  beforeAll(async () => {
    f = await startProviderStack(sandbox, {
      provider: { accessTokenLifetimeSeconds: 6 },
      roles: ['worker', 'scheduler'],
    });
  });

  afterAll(() => f?.close());

  it('heals: after FLUSHDB every connection is rescheduled from Postgres and refreshed on time', async () => {
    const grants: { grantId: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const grant = f.provider.issue({ expiresIn: 6 });
      await f.stack.evergreen.enqueueConnection({
        ownerId: `owner-${i}`,
        provider: 'acme',
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresIn: 6,
      });
      grants.push(grant);
    }
    await until(() => grants.every((g) => refreshTimes(f.provider, g.grantId).length >= 1), {
      timeoutMs: 20_000,
      what: 'a first refresh of each',
    });

    expect((await sandbox.redisKeys()).length).toBeGreaterThan(0);
    await sandbox.redis.flushdb();
    const flushedAt = Date.now();
    // Nothing of the schedule is left; a worker may already have recorded an answer in its provider's breaker.
    expect((await sandbox.redisKeys()).filter((key) => !/:breaker(-ramp)?:/.test(key))).toEqual([]);

    await until(
      () => grants.every((g) => refreshTimes(f.provider, g.grantId).filter((t) => t > flushedAt).length >= 2),
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'two refreshes of each connection after the flush',
      },
    );
    // On time: no access token (6 s lifetime) outlived by the gap to the next refresh, the flush included.
    for (const g of grants) {
      const times = refreshTimes(f.provider, g.grantId);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThan(6_000);
    }
    expect(f.provider.reuseCount()).toBe(0);
    const rows = await sandbox.sql<{ status: string }[]>`select status from connections`;
    expect(rows.every((r) => r.status === 'connected')).toBe(true);
    // The scheduler noticed the lost sentinel and rebuilt everything in one full pass.
    expect(f.stack.logs.events('reconcile').some((e) => e.fullPass === true && (e.scheduled as number) > 0)).toBe(true);
  });
});
