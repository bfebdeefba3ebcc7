import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertConnections, insertRefreshEvents } from '@evergreen/test-support/seed-rows';
import { bearer, boardFixture, type BoardFixture } from './board-fixture.ts';

interface Health {
  generatedAt: string;
  total: number;
  byStatus: Record<string, number>;
  byProvider: Record<string, Record<string, number>>;
  expiringWithinHour: Record<string, number>;
  failuresLast24h: { outcome: string; reason: string | null; count: number }[];
  refreshes: { bucketSeconds: number; buckets: { start: string; success: number; failure: number }[] };
  openBreakers: {
    provider: string;
    openedAt: string;
    reason: string | null;
    failures: number | null;
    nextProbeAt: string;
  }[];
}

describe('GET /api/health/tokens', () => {
  let f: BoardFixture;

  beforeAll(async () => {
    f = await boardFixture(); // a schema of its own: the numbers below are every row there is
    const rows: [string, string, string, string | null][] = [
      // id, provider, status, expires_at relative to now
      ['a1', 'acme', 'connected', '30 minutes'],
      ['a2', 'acme', 'connected', '30 minutes'],
      ['a3', 'acme', 'connected', '2 hours'],
      ['a4', 'acme', 'token_expired', '-5 minutes'],
      ['a5', 'acme', 'needs_reauth', '10 minutes'],
      ['a6', 'acme', 'needs_reauth', null],
      ['b1', 'beta', 'connected', '59 minutes'],
      ['b2', 'beta', 'error', '10 minutes'],
      ['b3', 'beta', 'disconnected', null],
      ['g1', 'gamma', 'connected', null],
    ];
    await insertConnections(
      f.sandbox.sql,
      rows.map(([id, provider, status, expiresIn]) => ({ id, provider, status, expiresIn })),
    );
    const events: [string, string | null, number, string][] = [
      // outcome, reason, how many, age
      ['success', null, 4, '1 minute'],
      ['success', null, 2, '2 hours'],
      ['success', null, 1, '7 hours'],
      ['transient', 'server_error', 3, '10 minutes'],
      ['transient', 'server_error', 1, '25 hours'],
      ['reauth', 'invalid_grant', 2, '3 hours'],
      ['rate_limited', 'rate_limited', 1, '30 minutes'],
    ];
    await insertRefreshEvents(
      f.sandbox.sql,
      events.map(([outcome, reason, count, age]) => ({ connectionId: 'a1', outcome, reason, count, age })),
    );
  });
  afterAll(async () => {
    await f?.close();
  });

  it('counts connections by status and by provider', async () => {
    const res = await f.board().inject({ url: '/api/health/tokens', headers: bearer });
    expect(res.statusCode).toBe(200);
    const health = res.json<Health>();
    expect(health.total).toBe(10);
    expect(health.byStatus).toEqual({ connected: 5, token_expired: 1, needs_reauth: 2, error: 1, disconnected: 1 });
    expect(health.byProvider).toEqual({
      acme: { total: 6, connected: 3, token_expired: 1, needs_reauth: 2, error: 0, disconnected: 0 },
      beta: { total: 3, connected: 1, token_expired: 0, needs_reauth: 0, error: 1, disconnected: 1 },
      gamma: { total: 1, connected: 1, token_expired: 0, needs_reauth: 0, error: 0, disconnected: 0 },
    });
  });

  it('counts live connections expiring within the hour (or already expired) by provider', async () => {
    const health = (await f.board().inject({ url: '/api/health/tokens', headers: bearer })).json<Health>();
    expect(health.expiringWithinHour).toEqual({ acme: 3, beta: 1 });
  });

  it('counts failures of the last 24 hours by outcome and reason, most first', async () => {
    const health = (await f.board().inject({ url: '/api/health/tokens', headers: bearer })).json<Health>();
    expect(health.failuresLast24h).toEqual([
      { outcome: 'transient', reason: 'server_error', count: 3 },
      { outcome: 'reauth', reason: 'invalid_grant', count: 2 },
      { outcome: 'rate_limited', reason: 'rate_limited', count: 1 },
    ]);
  });

  it('counts refreshes per 5-minute bucket over the last 6 hours', async () => {
    const health = (await f.board().inject({ url: '/api/health/tokens', headers: bearer })).json<Health>();
    const { bucketSeconds, buckets } = health.refreshes;
    expect(bucketSeconds).toBe(300);
    expect(buckets).toHaveLength(72);
    const starts = buckets.map((b) => Date.parse(b.start));
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBe(300_000);
    expect(starts[0]! % 300_000).toBe(0);
    expect(starts.at(-1)!).toBeLessThanOrEqual(Date.parse(health.generatedAt));
    expect(buckets.reduce((n, b) => n + b.success, 0)).toBe(6); // the 7-hour-old one is out of the window
    expect(buckets.reduce((n, b) => n + b.failure, 0)).toBe(6); // the 25-hour-old one too
    const recent = buckets.slice(-2).reduce((n, b) => n + b.success, 0);
    expect(recent).toBe(4);
  });

  it('lists the providers whose circuit breaker is open, with when and why, and none once it closed', async () => {
    const breakers = f.stack.parts.producer.breakers;
    const before = (await f.board().inject({ url: '/api/health/tokens', headers: bearer })).json<Health>();
    expect(before.openBreakers).toEqual([]);
    const why = { failures: 18, requests: 20, windowMs: 60_000, reason: 'timeout' };
    const openedAt = await breakers.open('beta', why, { probeIntervalMs: 15_000 });
    try {
      const health = (await f.board().inject({ url: '/api/health/tokens', headers: bearer })).json<Health>();
      expect(health.openBreakers).toEqual([
        {
          provider: 'beta',
          openedAt: new Date(openedAt!).toISOString(),
          reason: 'timeout',
          failures: 18,
          requests: 20,
          nextProbeAt: new Date(openedAt! + 15_000).toISOString(),
        },
      ]);
    } finally {
      await breakers.close('beta');
    }
    const after = (await f.board().inject({ url: '/api/health/tokens', headers: bearer })).json<Health>();
    expect(after.openBreakers).toEqual([]);
  });
});
