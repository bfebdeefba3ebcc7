import { FakeProvider } from '@evergreen/fake-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshTimes } from '@evergreen/test-support/provider-records';
import { redisServerMissing, startOwnRedis, type OwnRedis } from '@evergreen/test-support/redis-server';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

const LIFETIME_S = 60;
const CONNECTIONS = 100;
const missing = redisServerMissing();

describe.skipIf(missing !== null)(
  `Redis losing its data, noticed within seconds${missing ? ` (skipped: ${missing})` : ''}`,
  () => {
    const sandbox = new Sandbox();
    let redis: OwnRedis;
    let provider: FakeProvider;
    let stack: Stack;

    beforeAll(async () => {
      // A Redis of the test's own, so the FLUSHALL is a real one and touches no other file's keys.
      redis = await startOwnRedis();
      provider = await FakeProvider.start({ accessTokenLifetimeSeconds: LIFETIME_S });
      // A 5-minute buffer, clamped to half of the 60-second lifetime: refreshes fall due 30 s before expiry.
      sandbox.useProviders([{ id: 'acme', tokenUrl: provider.tokenUrl, refreshBufferSeconds: 300 }]);
      stack = await startStack(sandbox, {
        roles: ['worker', 'scheduler'],
        env: {
          REDIS_URL: redis.url,
          // The scheduler as shipped, except that its periodic pass is pushed out of the test's reach: whatever rebuilds
          // the jobs here is the loss check (EVERGREEN_RECONCILE_CHECK_INTERVAL_MS, left at its default).
          EVERGREEN_RECONCILE_INTERVAL_MS: String(30 * 60_000),
          EVERGREEN_RECONCILE_GRACE_MS: '15000',
          EVERGREEN_REFRESH_JITTER_MS: '30000',
          EVERGREEN_MIN_REFRESH_INTERVAL_MS: '10000',
          EVERGREEN_LOG_LEVEL: 'info',
        },
      });
    });

    afterAll(async () => {
      await stack?.close();
      await provider?.close();
      await redis?.stop();
      await sandbox.cleanup();
    });

    it(`keeps every one of ${CONNECTIONS} connections' 60-second access tokens valid through a FLUSHALL`, async () => {
      const grants: { grantId: string; issuedAt: number }[] = [];
      for (let i = 0; i < CONNECTIONS; i++) {
        const issuedAt = Date.now();
        const { grant } = await stack.connect(provider, {
          ownerId: `owner-${i}`,
          provider: 'acme',
          expiresIn: LIFETIME_S,
        });
        grants.push({ grantId: grant.grantId, issuedAt });
      }
      // Mid-round: some connections refreshed already, others still waiting for their jobs.
      await until(() => grants.some((g) => refreshTimes(provider, g.grantId).length > 0), {
        timeoutMs: 40_000,
        what: 'the first refreshes',
      });
      await redis.client.flushall();
      const flushedAt = Date.now();

      await until(() => grants.every((g) => refreshTimes(provider, g.grantId).some((t) => t > flushedAt)), {
        timeoutMs: 60_000,
        intervalMs: 250,
        what: 'a refresh of every connection after the flush',
      });

      // The loss was noticed by the check, seconds after the flush, and repaired by a full pass.
      const at = (e: Record<string, unknown>) => Date.parse(e.time as string);
      const noticed = stack.logs.lines
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((e) => typeof e.msg === 'string' && e.msg.startsWith('scheduler sentinel gone') && at(e) > flushedAt);
      expect(noticed, 'the loss check logged the loss').toBeDefined();
      expect(at(noticed!) - flushedAt).toBeLessThan(7_000);
      const passes = stack.logs.events('reconcile').filter((e) => e.fullPass === true && at(e) > flushedAt);
      expect(passes.length).toBeGreaterThan(0);
      expect(at(passes[0]!) - flushedAt).toBeLessThan(10_000);
      expect(passes.reduce((sum, e) => sum + (e.scheduled as number), 0)).toBeGreaterThan(0);

      // No access token lapsed: every one was replaced before its 60 s ran out, with room to spare.
      let smallestMarginMs = Infinity;
      for (const g of grants) {
        const issued = [g.issuedAt, ...refreshTimes(provider, g.grantId)];
        for (let i = 1; i < issued.length; i++) {
          smallestMarginMs = Math.min(smallestMarginMs, issued[i - 1]! + LIFETIME_S * 1000 - issued[i]!);
        }
      }
      expect(smallestMarginMs).toBeGreaterThan(5_000);
      expect(provider.reuseCount()).toBe(0);
      const rows = await sandbox.sql<
        { status: string; expires_at: Date }[]
      >`select status, expires_at from connections`;
      expect(rows).toHaveLength(CONNECTIONS);
      expect(rows.every((r) => r.status === 'connected' && r.expires_at.getTime() > Date.now())).toBe(true);
    }, 150_000);
  },
);
