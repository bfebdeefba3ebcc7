import { FakeProvider } from '@evergreen/fake-provider';
import { ApiKeyStore } from '@evergreen/store';
import { refreshTimes } from '@evergreen/test-support/provider-records';
import { ClusterSet, missingRedisBinaries } from '@evergreen/test-support/redis-servers';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const missing = missingRedisBinaries(['redis-server', 'redis-cli']);
if (missing) console.warn(`skipped: Redis Cluster test: ${missing}`);

// Room for a failover (node timeout 2 s, then the election) between two refreshes at half the lifetime, on a busy machine.
const LIFETIME_S = 16;
const ACME_SHARDS = 3;
const ACME_RATE = { max: 8, durationMs: 1_000 };
const PASSWORD = 'cluster-password-for-the-test';

interface Grant {
  connectionId: string;
  grantId: string;
  provider: FakeProvider;
}

/**
 * Issue 18, item 2: Evergreen on a real Redis Cluster (three primaries, three replicas on loopback). `acme` is split
 * into three queues by connection id and has a declared rate; `beta` has one queue. Each queue is hash-tagged into
 * one slot, so the queues land on different primaries.
 */
describe.skipIf(missing !== null)('Redis Cluster', () => {
  const sandbox = new Sandbox();
  let cluster: ClusterSet;
  let acme: FakeProvider;
  let beta: FakeProvider;
  let stack: Stack;
  const grants: Grant[] = [];

  /** Every connection refreshed `count` times after `since`, and no gap between two refreshes reached the lifetime. */
  async function refreshedOnTime(since: number, count: number, what: string): Promise<number> {
    try {
      await until(
        () => grants.every((g) => refreshTimes(g.provider, g.grantId).filter((t) => t > since).length >= count),
        { timeoutMs: 60_000, intervalMs: 200, what },
      );
    } catch (error) {
      await explainStall(since, count);
      throw error;
    }
    let longest = 0;
    for (const g of grants) {
      const times = refreshTimes(g.provider, g.grantId);
      for (let i = 1; i < times.length; i++) longest = Math.max(longest, times[i]! - times[i - 1]!);
    }
    expect(longest).toBeLessThan(LIFETIME_S * 1_000);
    expect(acme.reuseCount() + beta.reuseCount()).toBe(0);
    const rows = await sandbox.sql<{ status: string }[]>`select status from connections`;
    expect(rows.every((r) => r.status === 'connected')).toBe(true);
    return longest;
  }

  /** What a failed wait prints: the late connections' rows and jobs, and the process's warnings. */
  async function explainStall(since: number, count: number): Promise<void> {
    const queues = stack.parts.worker.queues;
    for (const g of grants) {
      const after = refreshTimes(g.provider, g.grantId).filter((t) => t > since);
      if (after.length >= count) continue;
      const provider = g.provider === acme ? 'acme' : 'beta';
      const row = await stack.read(g.connectionId);
      const state = await queues
        .queueFor(provider, g.connectionId)
        .getJobState(g.connectionId)
        .catch((e: unknown) => `error: ${(e as Error).message}`);
      console.warn(
        `late: ${provider} ${g.connectionId} refreshes after=${after.length} status=${row?.status} ` +
          `refreshAt=${row?.refreshAt ? row.refreshAt.getTime() - Date.now() : null}ms job=${state}`,
      );
    }
    const notes = stack.logs.lines.filter((l) => /"level":(40|50)|reconcile/.test(l)).slice(-40);
    console.warn(`log tail:\n${notes.join('')}`);
  }

  beforeAll(async () => {
    cluster = await ClusterSet.start({ password: PASSWORD });
    acme = await FakeProvider.start({ accessTokenLifetimeSeconds: LIFETIME_S, latencyMs: 50 });
    beta = await FakeProvider.start({ accessTokenLifetimeSeconds: LIFETIME_S, latencyMs: 50 });
    sandbox.useProviders([
      { id: 'acme', tokenUrl: acme.tokenUrl, queueShards: ACME_SHARDS, rateLimit: ACME_RATE },
      { id: 'beta', tokenUrl: beta.tokenUrl },
    ]);
    stack = await startStack(sandbox, {
      roles: ['worker', 'scheduler', 'api'],
      env: {
        ...cluster.env(),
        // The suite's own Redis, which the sandbox names: unused once REDIS_CLUSTER_NODES is set.
        REDIS_URL: 'redis://127.0.0.1:1',
        EVERGREEN_API_PORT: '0',
        EVERGREEN_LOG_LEVEL: 'info',
      },
    });
    await stack.parts.producer.firstConnection;
  }, 90_000);

  afterAll(async () => {
    try {
      // Bounded: a close stuck on a broken client must not leave the cluster's servers running after the test.
      await Promise.race([stack?.close(), new Promise((resolve) => setTimeout(resolve, 30_000).unref())]);
      await Promise.all([acme?.close(), beta?.close()]);
    } finally {
      await cluster?.stop();
      await sandbox.cleanup();
    }
  }, 90_000);

  it('spreads the queues over the primaries and keeps refreshing, the rate holding across shards', async () => {
    const layout = stack.parts.worker.queues.layout;
    const names = [...layout.names('acme'), ...layout.names('beta')];
    expect(names).toEqual(['{refresh-acme}', '{refresh-acme.1}', '{refresh-acme.2}', '{refresh-beta}']);
    const homes = new Set<number>();
    for (const name of names) homes.add((await cluster.primaryOf(name)).port);
    expect(homes.size).toBeGreaterThan(1);

    // Every slot the provider's send window grants (member → Redis ms), read while it is in the window (a slot stays
    // there for at least one window, so polling well inside it sees each one).
    const granted = new Map<string, number>();
    const rateKey = `${sandbox.prefix}:rate:acme`;
    const slotWatch = setInterval(() => {
      void stack.parts.worker.redis.zrange(rateKey, 0, -1, 'WITHSCORES').then(
        (flat) => {
          for (let i = 0; i + 1 < flat.length; i += 2) granted.set(flat[i]!, Number(flat[i + 1]));
        },
        () => {},
      );
    }, 50);
    // A bulk import through the SDK: every acme token expires at the same instant, so their refreshes all fall due
    // together in three queues, and only the provider's declared rate keeps them apart.
    const issued = Array.from({ length: 24 }, () => acme.issue({ expiresIn: LIFETIME_S }));
    const imported = await stack.evergreen.enqueueConnections(
      issued.map((g, i) => ({
        ownerId: `acme-${i}`,
        provider: 'acme',
        accessToken: g.accessToken,
        refreshToken: g.refreshToken,
        expiresIn: LIFETIME_S,
      })),
    );
    expect(imported.failed).toBe(0);
    imported.results.forEach((r, i) => {
      if (r.ok) grants.push({ connectionId: r.connectionId, grantId: issued[i]!.grantId, provider: acme });
    });
    for (let i = 0; i < 8; i++) {
      const { connectionId, grant, scheduling } = await stack.connect(beta, {
        ownerId: `beta-${i}`,
        provider: 'beta',
        expiresIn: LIFETIME_S,
      });
      expect(scheduling).toBe('scheduled');
      grants.push({ connectionId, grantId: grant.grantId, provider: beta });
    }
    // Each acme connection's job is in its own shard's queue, and every shard holds some.
    const shardsUsed = new Set(
      grants.filter((g) => g.provider === acme).map((g) => layout.nameFor('acme', g.connectionId)),
    );
    expect(shardsUsed.size).toBe(ACME_SHARDS);
    const queues = stack.parts.worker.queues;
    expect(
      (
        await queues.existing(
          grants.map((g) => ({ id: g.connectionId, provider: g.provider === acme ? 'acme' : 'beta' })),
        )
      ).every(Boolean),
    ).toBe(true);

    await refreshedOnTime(0, 2, 'two refreshes of every connection');

    // The declared rate held across the three queues, on Redis's clock: every request took its slot in the
    // provider's one window, and no `max + 1` slots fall inside one window. (The provider's own stamps cannot show it
    // to the millisecond: it runs in this process beside the workers and stamps a request when its event loop gets
    // to it, which under load is up to a few hundred ms late.)
    clearInterval(slotWatch);
    const last = await stack.parts.worker.redis.zrange(rateKey, 0, -1, 'WITHSCORES');
    for (let i = 0; i + 1 < last.length; i += 2) granted.set(last[i]!, Number(last[i + 1]));
    const slots = [...granted.values()].sort((a, b) => a - b);
    expect(slots.length).toBe(acme.requests.length);
    for (let i = 0; i + ACME_RATE.max < slots.length; i++) {
      expect(slots[i + ACME_RATE.max]! - slots[i]!).toBeGreaterThanOrEqual(ACME_RATE.durationMs);
    }
    // And at the provider: the 24 refreshes fell due together, and one limit per queue (3 × 8 a second) would have
    // sent them within a second; they took more than two, less the in-process provider's late stamps.
    const times = acme.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(times[23]! - times[0]!).toBeGreaterThanOrEqual(2 * ACME_RATE.durationMs - 400);

    // The SDK's on-demand path and the api role read valid tokens through the cluster.
    const first = grants[0]!;
    const token = await stack.evergreen.getValidAccessToken(first.connectionId, { minValiditySeconds: 1 });
    expect(acme.isAccessTokenValid(token)).toBe(true);
    const key = await new ApiKeyStore(stack.parts.db).create({
      name: 'cluster',
      scopes: ['tokens:read'],
      providers: null,
    });
    const res = await fetch(`${stack.roles!.api!.address}/v1/connections/${grants.at(-1)!.connectionId}/token`, {
      headers: { authorization: `Bearer ${key.key}` },
    });
    expect(res.status).toBe(200);
    // Counted in the cluster (rate-limiter-flexible on the Cluster client), not only in the insurance limiter.
    await until(async () => (await cluster.keysMatching(`${sandbox.prefix}:api-rate*`)).length > 0, {
      timeoutMs: 5_000,
      what: "the api key's request counter in the cluster",
    });
  }, 120_000);

  it('rebuilds every job from Postgres after a FLUSHALL of every node', async () => {
    await cluster.flushAll();
    const flushedAt = Date.now();
    const queues = stack.parts.worker.queues;
    const refs = grants.map((g) => ({ id: g.connectionId, provider: g.provider === acme ? 'acme' : 'beta' }));
    expect((await queues.existing(refs)).some(Boolean)).toBe(false);
    await refreshedOnTime(flushedAt, 2, 'two refreshes of every connection after the flush');
    expect((await queues.existing(refs)).every(Boolean)).toBe(true);
    expect(stack.logs.events('reconcile').some((e) => e.fullPass === true && (e.scheduled as number) > 0)).toBe(true);
  }, 120_000);

  it('carries on when the primary holding a queue is SIGKILLed and its replica takes over', async () => {
    const victim = await cluster.primaryOf('{refresh-acme}');
    const killedAt = Date.now();
    await victim.kill();
    await until(async () => (await cluster.primaryOf('{refresh-acme}')) !== victim, {
      timeoutMs: 30_000,
      intervalMs: 100,
      what: "the victim's replica to take over its slots",
    });
    await cluster.waitUntilHealthy(30_000);
    const recoveredAt = Date.now();
    const longest = await refreshedOnTime(recoveredAt, 2, 'two refreshes of every connection after the failover');
    console.info(
      `cluster failover: healthy ${recoveredAt - killedAt} ms after the kill; longest gap between refreshes ${longest} ms`,
    );
  }, 120_000);
});
