import { FakeProvider } from '@evergreen/fake-provider';
import { MAX_ADD_DELAY_MS, queueName } from '@evergreen/queue';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

describe('the refresh pipeline, in one process', () => {
  const sandbox = new Sandbox();
  let alpha: FakeProvider;
  let beta: FakeProvider;
  let stack: Stack;

  beforeAll(async () => {
    alpha = await FakeProvider.start({ accessTokenLifetimeSeconds: 4, clientAuth: 'client_secret_basic' });
    beta = await FakeProvider.start({ accessTokenLifetimeSeconds: 4, clientAuth: 'client_secret_post' });
    sandbox.useProviders([
      { id: 'alpha', tokenUrl: alpha.tokenUrl, clientAuth: 'client_secret_basic' },
      { id: 'beta', tokenUrl: beta.tokenUrl, clientAuth: 'client_secret_post' },
    ]);
    stack = await startStack(sandbox, { roles: ['worker', 'scheduler'] });
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all([alpha?.close(), beta?.close()]);
    await sandbox.cleanup();
  });

  it('refreshes a short-lived token before it expires, again and again, storing each rotated refresh token', async () => {
    const grant = alpha.issue({ expiresIn: 4 });
    const enqueuedAt = Date.now();
    const result = await stack.evergreen.enqueueConnection({
      ownerId: 'owner-1',
      provider: 'alpha',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 4,
    });
    expect(result.scheduling).toBe('scheduled');
    expect(result.refreshAt!.getTime()).toBeLessThan(result.expiresAt!.getTime());

    await until(() => (alpha.grant(grant.grantId)?.refreshCount ?? 0) >= 4, {
      timeoutMs: 30_000,
      what: 'four refreshes',
    });

    const ok = alpha.requests.filter((r) => r.grantId === grant.grantId && r.outcome === 'ok');
    // Each refresh landed while the access token before it was still alive (lifetime 4 s, counted from the request).
    expect(ok[0]!.at).toBeLessThan(enqueuedAt + 4_000);
    for (let i = 1; i < ok.length; i++) expect(ok[i]!.at - ok[i - 1]!.at).toBeLessThan(4_000);

    await until(
      async () =>
        (await stack.read(result.connectionId))?.refreshToken === alpha.grant(grant.grantId)!.currentRefreshToken,
      {
        what: 'the latest rotated refresh token to be stored',
      },
    );
    const row = await stack.read(result.connectionId);
    expect(row!.status).toBe('connected');
    expect(alpha.isAccessTokenValid(row!.accessToken!)).toBe(true);
    expect(alpha.grant(grant.grantId)!.revoked).toBe(false);
    expect(alpha.reuseCount()).toBe(0);
  });

  it('lets a job added early (a long-lived token) wake once, ask nothing, and move to the real time', async () => {
    const { grant, ...result } = await stack.connect(alpha, {
      ownerId: 'owner-long',
      provider: 'alpha',
      expiresIn: 86_400,
    });
    const queue = new Queue(queueName('alpha'), { connection: sandbox.redis, prefix: sandbox.prefix });
    try {
      const job = (await queue.getJob(result.connectionId))!;
      expect(job.delay).toBe(MAX_ADD_DELAY_MS);
      await job.promote(); // what the capped delay does after 2.8 hours
      const refreshAt = result.refreshAt!.getTime();
      await until(
        async () => {
          const j = await queue.getJob(result.connectionId);
          return (await j?.getState()) === 'delayed' && Math.abs(j!.timestamp + j!.delay - refreshAt) < 1_000;
        },
        { what: "the job moved to the connection's refresh time" },
      );
      expect(alpha.requests.filter((r) => r.grantId === grant.grantId)).toEqual([]);
      expect((await stack.read(result.connectionId))!.refreshToken).toBe(grant.refreshToken);
    } finally {
      await queue.close();
    }
  });

  it('turns invalid_grant into needs_reauth and never asks the provider again', async () => {
    const { grant, connectionId } = await stack.connect(
      alpha,
      { ownerId: 'owner-revoked', provider: 'alpha', expiresIn: 2 },
      { revoked: true },
    );
    const row = await stack.waitForStatus(connectionId, 'needs_reauth', { timeoutMs: 15_000, what: 'needs_reauth' });
    expect(row.refreshAt).toBeNull();
    const attempts = () => alpha.requests.filter((r) => r.grantId === grant.grantId).length;
    expect(attempts()).toBe(1);
    // Two reconcile passes that this test runs itself must not bring it back either.
    let passes = 0;
    await until(async () => ((await stack.roles!.reconciler!.tick()).led ? ++passes : passes) >= 2, {
      what: 'two reconcile passes',
    });
    expect(attempts()).toBe(1);
    const events =
      await sandbox.sql`select outcome, reason, http_status from refresh_events where connection_id = ${connectionId}`;
    expect(events).toEqual([{ outcome: 'reauth', reason: 'invalid_grant', http_status: 400 }]);
  });

  it('retries a 5xx burst with backoff, then is connected again', async () => {
    const { grant, connectionId } = await stack.connect(beta, { ownerId: 'owner-5xx', provider: 'beta', expiresIn: 3 });
    beta.injectFaults([{ kind: 'status', status: 503 }, { kind: 'status', status: 502 }, { kind: 'html' }]);
    await until(() => (beta.grant(grant.grantId)?.refreshCount ?? 0) >= 1, {
      timeoutMs: 20_000,
      what: 'a refresh after the burst',
    });
    const row = await until(
      async () => {
        const r = await stack.read(connectionId);
        return r?.status === 'connected' && r.consecutiveFailures === 0 && r.version > 1 ? r : null;
      },
      { what: 'connected again' },
    );
    expect(row.refreshToken).toBe(beta.grant(grant.grantId)!.currentRefreshToken);
    const events = await sandbox.sql<{ outcome: string; reason: string | null; created_at: Date }[]>`
      select outcome, reason, created_at from refresh_events where connection_id = ${connectionId} order by id`;
    expect(events.slice(0, 4).map((e) => e.outcome)).toEqual(['transient', 'transient', 'transient', 'success']);
    // Backoff: the gaps between attempts are real waits, not a hot loop.
    const gaps = events.slice(1, 4).map((e, i) => e.created_at.getTime() - events[i]!.created_at.getTime());
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(10);
  });
});

describe("a 429 from one provider's token endpoint", () => {
  const sandbox = new Sandbox();
  let steady: FakeProvider;
  let limited: FakeProvider;
  let stack: Stack;

  beforeAll(async () => {
    steady = await FakeProvider.start({ accessTokenLifetimeSeconds: 2 });
    limited = await FakeProvider.start({ accessTokenLifetimeSeconds: 60 });
    sandbox.useProviders([
      { id: 'steady', tokenUrl: steady.tokenUrl },
      { id: 'limited', tokenUrl: limited.tokenUrl },
    ]);
    stack = await startStack(sandbox, { roles: ['worker', 'scheduler'] });
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all([steady?.close(), limited?.close()]);
    await sandbox.cleanup();
  });

  it("pauses only that provider for Retry-After, uses no attempt, while another provider's refreshes go on", async () => {
    await stack.connect(steady, { ownerId: 'o', provider: 'steady', expiresIn: 2 });
    limited.setFaultForAll({
      kind: 'status',
      status: 429,
      headers: { 'Retry-After': '3' },
      body: '{"error":"rate_limited"}',
    });
    const { grant, connectionId } = await stack.connect(limited, { ownerId: 'o', provider: 'limited', expiresIn: 1 });
    const first429 = await until(() => limited.requests.find((r) => r.status === 429), { what: 'the 429' });
    limited.setFaultForAll(null);

    await until(() => (limited.grant(grant.grantId)?.refreshCount ?? 0) >= 1, {
      timeoutMs: 15_000,
      what: 'the refresh after the pause',
    });
    const after = limited.requests.filter((r) => r.at > first429.at && r.status !== 429);
    expect(after[0]!.at - first429.at).toBeGreaterThanOrEqual(2_900);
    // Only the first request was turned away: nothing hammered the paused provider in between.
    expect(limited.requests.filter((r) => r.status === 429)).toHaveLength(1);
    // The other provider kept flowing during the pause.
    const steadyDuringPause = steady.requests.filter(
      (r) => r.outcome === 'ok' && r.at > first429.at && r.at < first429.at + 2_900,
    );
    expect(steadyDuringPause.length).toBeGreaterThanOrEqual(1);

    const row = await until(
      async () => {
        const r = await stack.read(connectionId);
        return r?.version && r.version > 1 && r.status === 'connected' && r.lastRefreshAt ? r : null;
      },
      { what: 'the row after the refresh' },
    );
    expect(row.consecutiveFailures).toBe(0);
    const events =
      await sandbox.sql`select outcome, reason, http_status from refresh_events where connection_id = ${connectionId} order by id`;
    expect(events.slice(0, 2)).toEqual([
      { outcome: 'rate_limited', reason: 'rate_limited', http_status: 429 },
      { outcome: 'success', reason: null, http_status: 200 },
    ]);
  });

  it('leaves no token in any Redis key or value, in any log line, or in plain text in Postgres', async () => {
    const tokens = [...steady.allIssuedTokens(), ...limited.allIssuedTokens()];
    expect(tokens.length).toBeGreaterThan(4);
    const redis = await sandbox.dumpRedis();
    expect(redis.length).toBeGreaterThan(0);
    const logs = stack.logs.text;
    expect(logs).toContain('"msg":"refresh"');
    const rows =
      JSON.stringify(await sandbox.sql`select * from connections`) +
      JSON.stringify(await sandbox.sql`select * from refresh_events`);
    for (const token of tokens) {
      expect(redis.includes(token), 'a token in Redis').toBe(false);
      expect(logs.includes(token), 'a token in the logs').toBe(false);
      expect(rows.includes(token), 'a token in plain text in Postgres').toBe(false);
    }
    expect(logs).not.toContain('client-secret');
  });
});

describe('a provider failing while the access token lapses', () => {
  let f: ProviderStack;
  let provider: FakeProvider;
  let stack: Stack;

  beforeAll(async () => {
    f = await startProviderStack(new Sandbox(), {
      id: 'flaky',
      provider: { accessTokenLifetimeSeconds: 30 },
      roles: ['worker', 'scheduler'],
    });
    ({ provider, stack } = f);
  });

  afterAll(() => f?.close());

  it('marks the connection token_expired while it keeps retrying, and connected once the provider recovers', async () => {
    provider.setFaultForAll({ kind: 'status', status: 503 });
    const { connectionId } = await stack.connect(provider, { ownerId: 'o', provider: 'flaky', expiresIn: 1 });
    const expired = await stack.waitForStatus(connectionId, 'token_expired', {
      timeoutMs: 15_000,
      what: 'token_expired',
    });
    expect(expired.consecutiveFailures).toBeGreaterThanOrEqual(1);
    expect(expired.refreshAt).not.toBeNull(); // still scheduled: a transient failure never gives up

    provider.setFaultForAll(null);
    const healed = await until(
      async () => {
        const r = await stack.read(connectionId);
        return r?.status === 'connected' && r.consecutiveFailures === 0 ? r : null;
      },
      { timeoutMs: 15_000, what: 'connected again' },
    );
    expect(provider.isAccessTokenValid(healed.accessToken!)).toBe(true);
  });
});
