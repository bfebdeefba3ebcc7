import { FakeProvider, type IssueResult } from '@evergreen/fake-provider';
import { ProviderBreakers } from '@evergreen/queue';
import { RefreshFailedError } from '@evergreen/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRoleProcess, type RoleProcess } from '@evergreen/test-support/processes';
import { refreshTimes } from '@evergreen/test-support/provider-records';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

/** Small numbers so an outage fits in seconds: opens after 5 requests, probes every 2 s, ramps over 2 s. */
const BREAKER = {
  EVERGREEN_BREAKER_FAILURE_RATIO: '0.5',
  EVERGREEN_BREAKER_MIN_REQUESTS: '5',
  EVERGREEN_BREAKER_WINDOW_MS: '10000',
  EVERGREEN_BREAKER_PROBE_INTERVAL_MS: '2000',
  EVERGREEN_BREAKER_RAMP_MS: '2000',
};
const PROBE_INTERVAL_MS = 2_000;
/**
 * Two jobs per worker process: jobs taken at the same moment run side by side, so the recovery's order holds up to
 * the jobs in flight (docs/reliability.md); a small window lets 40 connections show it.
 */
const WORKER = { ...BREAKER, EVERGREEN_WORKER_CONCURRENCY: '2' };

interface OutageEventRow {
  id: number;
  kind: string;
  payload: { provider: string; openedAt: string | null; closedAt?: string; reason: string | null };
}

interface Connected {
  grant: IssueResult;
  connectionId: string;
  expiresAt: number;
}

async function stopAll(processes: RoleProcess[]): Promise<void> {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
}

/** Pairs (a, b) with a expiring first that were also refreshed first, over all pairs: 1 is perfect order. */
function concordance(items: { expiresAt: number; refreshedAt: number }[]): number {
  let agree = 0;
  let pairs = 0;
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const a = items[i]!;
      const b = items[j]!;
      if (a.expiresAt === b.expiresAt) continue;
      pairs += 1;
      if (Math.sign(a.expiresAt - b.expiresAt) === Math.sign(a.refreshedAt - b.refreshedAt)) agree += 1;
    }
  }
  return pairs === 0 ? 1 : agree / pairs;
}

describe('a provider outage, across three worker processes', () => {
  const sandbox = new Sandbox();
  let acme: FakeProvider;
  let beta: FakeProvider;
  let stack: Stack;
  let breakers: ProviderBreakers;
  const processes: RoleProcess[] = [];

  const outageEvents = (provider: string) =>
    sandbox.sql<OutageEventRow[]>`
      select id, kind, payload from connection_events where connection_id = ${`provider:${provider}`} order by id`;
  const acmeRequestsBetween = (from: number, to: number) =>
    acme.requests.filter((r) => r.at >= from && r.at < to).length;

  beforeAll(async () => {
    // New tokens live 20 s, so refreshes keep coming (the flush test needs requests to reopen the breaker).
    acme = await FakeProvider.start({ latencyMs: 5, accessTokenLifetimeSeconds: 20 });
    beta = await FakeProvider.start({ latencyMs: 5, accessTokenLifetimeSeconds: 6 });
    sandbox.useProviders([
      { id: 'acme', tokenUrl: acme.tokenUrl },
      { id: 'beta', tokenUrl: beta.tokenUrl },
    ]);
    stack = await startStack(sandbox, { env: BREAKER });
    breakers = new ProviderBreakers(sandbox.redis.duplicate(), sandbox.prefix);
    for (let i = 0; i < 3; i++) {
      processes.push(startRoleProcess('worker', sandbox.env({ ...WORKER, EVERGREEN_PROCESS_NAME: `worker-${i}` })));
    }
    processes.push(startRoleProcess('scheduler', sandbox.env({ ...BREAKER, EVERGREEN_PROCESS_NAME: 'scheduler' })));
    await until(() => processes.every((p) => p.output().includes('"msg":"started"')), {
      timeoutMs: 30_000,
      what: 'every process started',
    });
  }, 60_000);

  afterAll(async () => {
    await stopAll(processes.splice(0));
    await stack?.close();
    await Promise.all([acme?.close(), beta?.close()]);
    await sandbox.cleanup();
  });

  it('invalid_grant answers never open the breaker', async () => {
    const revoked: string[] = [];
    for (let i = 0; i < 8; i++) {
      const { connectionId } = await stack.connect(
        beta,
        { ownerId: `gone-${i}`, provider: 'beta', expiresIn: 3600 },
        {
          revoked: true,
        },
      );
      revoked.push(connectionId);
    }
    for (const id of revoked) await stack.engine.run(id, { trigger: 'forced', force: true });
    for (const id of revoked) expect((await stack.read(id))?.status).toBe('needs_reauth');
    expect(await breakers.state('beta')).toEqual({ kind: 'closed', closedAt: null });
    expect(await outageEvents('beta')).toEqual([]);
  });

  it('holds the provider to a probe every interval while down, closes on a successful probe, refreshes nearest expiry first, and leaves the other provider alone', async () => {
    acme.setFaultForAll({ kind: 'status', status: 503 });
    // 40 acme connections, enqueued in an order unrelated to their expiry: lifetimes of 20 to 59 s are refreshed at
    // half their lifetime (the buffer is longer), so they fall due one after another through the outage.
    const lifetimes = Array.from({ length: 40 }, (_, i) => 20 + ((i * 17) % 40));
    const acmeConnections: Connected[] = [];
    for (const [i, expiresIn] of lifetimes.entries()) {
      const { grant, connectionId, expiresAt } = await stack.connect(acme, {
        ownerId: `acme-${i}`,
        provider: 'acme',
        expiresIn,
      });
      acmeConnections.push({ grant, connectionId, expiresAt: expiresAt!.getTime() });
    }
    // The other provider refreshes every 3 s throughout.
    const betaGrants: IssueResult[] = [];
    for (let i = 0; i < 10; i++) {
      betaGrants.push((await stack.connect(beta, { ownerId: `beta-${i}`, provider: 'beta', expiresIn: 6 })).grant);
    }

    const [started] = await until(
      async () => {
        const rows = await outageEvents('acme');
        return rows.length > 0 ? rows : null;
      },
      { timeoutMs: 40_000, what: 'provider.outage_started for acme' },
    );
    expect(started).toMatchObject({
      kind: 'provider.outage_started',
      payload: { provider: 'acme', reason: 'server_error' },
    });
    const openedAt = Date.parse(started!.payload.openedAt!);
    expect((await breakers.state('acme')).kind).toBe('open');
    // Its log line, which a worker writes out within its log's flush interval.
    await until(() => processes.some((p) => p.output().includes('provider breaker opened')), {
      what: "a worker's 'provider breaker opened' line",
    });
    const betaRefreshesBefore = betaGrants.map((g) => refreshTimes(beta, g.grantId).length);

    // Down until most acme connections are due and waiting, and several probes went out.
    await until(
      async () => {
        const [due] = await sandbox.sql<{ n: number }[]>`
          select count(*)::int as n from connections where provider = 'acme' and refresh_at <= now()`;
        return due!.n >= 30 && Date.now() - openedAt >= 4 * PROBE_INTERVAL_MS;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: '30 acme connections due, four probe intervals down' },
    );
    const downUntil = Date.now();
    acme.setFaultForAll(null);
    const ended = await until(
      async () => (await outageEvents('acme')).find((e) => e.kind === 'provider.outage_ended'),
      { timeoutMs: 20_000, what: 'provider.outage_ended for acme' },
    );
    const closedAt = Date.parse(ended.payload.closedAt!);
    expect(closedAt - downUntil).toBeLessThan(PROBE_INTERVAL_MS + 3_000);

    // While open: the probes, and what was already in flight when it opened (at most a worker's concurrency each).
    const sentWhileOpen = acmeRequestsBetween(openedAt + 500, downUntil);
    const probes = Math.ceil((downUntil - openedAt) / PROBE_INTERVAL_MS) + 1;
    expect(sentWhileOpen).toBeGreaterThanOrEqual(2);
    expect(sentWhileOpen).toBeLessThanOrEqual(probes);

    await until(() => acmeConnections.every((c) => refreshTimes(acme, c.grant.grantId).length > 0), {
      timeoutMs: 60_000,
      what: 'every acme connection refreshed after the recovery',
    });
    // Every token that outlived the outage by a little was refreshed before it lapsed.
    const firstRefresh = acmeConnections.map((c) => ({
      ...c,
      refreshedAt: refreshTimes(acme, c.grant.grantId)[0]!,
    }));
    const outlived = firstRefresh.filter((c) => c.expiresAt > closedAt + 3_000);
    expect(outlived.filter((c) => c.refreshedAt > c.expiresAt)).toEqual([]);
    // Those due when it closed went first, all within a recheck of the held queue and the ramp.
    const dueAtClose = firstRefresh.filter((c) => c.refreshedAt >= closedAt - 1_000 && c.expiresAt < closedAt + 10_000);
    for (const c of dueAtClose) expect(c.refreshedAt - closedAt).toBeLessThan(PROBE_INTERVAL_MS + 2_000 + 2_000);
    // Those waiting when it closed went nearest expiry first.
    const backlog = firstRefresh.filter((c) => c.refreshedAt >= closedAt && c.refreshedAt < closedAt + 10_000);
    expect(backlog.length).toBeGreaterThanOrEqual(20);
    const order = backlog
      .sort((a, b) => a.refreshedAt - b.refreshedAt)
      .map((c) => `${Math.round((c.expiresAt - closedAt) / 100) / 10}s@${c.refreshedAt - closedAt}`);
    expect(
      concordance(backlog),
      `expiry (from the close) @ refreshed (ms after it): ${order.join(' ')}`,
    ).toBeGreaterThanOrEqual(0.9);

    // The other provider kept its cadence, its breaker closed.
    const betaRefreshedWhileDown = betaGrants.filter(
      (g, i) =>
        refreshTimes(beta, g.grantId).filter((at) => at > openedAt && at < downUntil).length > 0 &&
        refreshTimes(beta, g.grantId).length > betaRefreshesBefore[i]!,
    );
    expect(betaRefreshedWhileDown).toHaveLength(betaGrants.length);
    expect((await breakers.state('beta')).kind).toBe('closed');
    expect(await outageEvents('beta')).toEqual([]);
    const statuses = await sandbox.sql<{ status: string; n: number }[]>`
      select status, count(*)::int as n from connections where provider = 'acme' group by status`;
    expect(statuses).toEqual([{ status: 'connected', n: 40 }]);
  }, 150_000);

  it('a flush of Redis while open does no harm: the breaker opens again, announced once, and closes on recovery', async () => {
    const eventsBefore = (await outageEvents('acme')).length;
    acme.setFaultForAll({ kind: 'reset' });
    await until(async () => (await breakers.state('acme')).kind === 'open', {
      timeoutMs: 60_000,
      what: 'the acme breaker open again',
    });
    await until(async () => (await outageEvents('acme')).length === eventsBefore + 1, {
      what: 'the second outage announced',
    });
    // What FLUSHALL does to this Evergreen: jobs, locks, the breaker, all gone.
    const flushedAt = Date.now();
    await sandbox.dropRedisKeys();
    // The scheduler rebuilds the jobs from Postgres; the first failures reopen the breaker.
    await until(async () => (await breakers.state('acme')).kind === 'open', {
      timeoutMs: 60_000,
      what: 'the acme breaker open after the flush',
    });
    const reopenedAt = Date.now();
    // The gap cost a few requests (the window's minimum, and those in flight), not a retry storm.
    expect(acmeRequestsBetween(flushedAt, reopenedAt)).toBeLessThanOrEqual(5 + 3 * 2);
    // Announced once: the outbox already says acme is out.
    expect((await outageEvents('acme')).length).toBe(eventsBefore + 1);

    acme.setFaultForAll(null);
    await until(async () => (await breakers.state('acme')).kind === 'closed', {
      timeoutMs: 20_000,
      what: 'the acme breaker closed',
    });
    await until(
      async () =>
        (await outageEvents('acme'))
          .slice(eventsBefore)
          .map((e) => e.kind)
          .join() === 'provider.outage_started,provider.outage_ended',
      { what: 'the outage started once and ended once' },
    );
    await until(
      async () => {
        const rows = await sandbox.sql<{ status: string }[]>`select status from connections where provider = 'acme'`;
        return rows.length === 40 && rows.every((r) => r.status === 'connected');
      },
      { timeoutMs: 30_000, what: 'every acme connection connected' },
    );
  }, 150_000);
});

describe('on-demand readers while a provider is down', () => {
  const sandbox = new Sandbox();
  let acme: FakeProvider;
  let stack: Stack;

  beforeAll(async () => {
    acme = await FakeProvider.start({ latencyMs: 5 });
    sandbox.useProviders([{ id: 'acme', tokenUrl: acme.tokenUrl }]);
    stack = await startStack(sandbox, { env: { EVERGREEN_BREAKER_PROBE_INTERVAL_MS: '60000' } });
    await stack.parts.producer.firstConnection;
  });

  afterAll(async () => {
    await stack?.close();
    await acme?.close();
    await sandbox.cleanup();
  });

  it('get the stored token while it still lives, else a retryable provider_outage error, and send nothing', async () => {
    const fresh = await stack.connect(acme, { ownerId: 'fresh', provider: 'acme', expiresIn: 30 });
    const lapsed = await stack.connect(acme, { ownerId: 'lapsed', provider: 'acme', expiresIn: 1 });
    await stack.parts.producer.breakers.open(
      'acme',
      { failures: 20, requests: 20, windowMs: 60_000, reason: 'timeout' },
      { probeIntervalMs: 60_000 },
    );
    await until(() => Date.now() > lapsed.expiresAt!.getTime(), { what: 'the second token lapsed' });
    const sentBefore = acme.requests.length;

    // Less than the minute asked for, but valid: better than an error while the provider is down.
    expect(await stack.evergreen.getValidAccessToken(fresh.connectionId, { minValiditySeconds: 60 })).toBe(
      fresh.grant.accessToken,
    );
    const error = await stack.evergreen.getValidAccessToken(lapsed.connectionId).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RefreshFailedError);
    expect(error).toMatchObject({ code: 'ERR_REFRESH_FAILED', reason: 'provider_outage', retryable: true });
    const retryAfterMs = (error as RefreshFailedError).retryAfterMs!;
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(5_000);
    expect(acme.requests.length).toBe(sentBefore);

    // Closed again: the reader refreshes at once.
    await stack.parts.producer.breakers.close('acme');
    const token = await stack.evergreen.getValidAccessToken(lapsed.connectionId);
    expect(token).not.toBe(lapsed.grant.accessToken);
    expect(acme.requests.length).toBe(sentBefore + 1);
  });
});
