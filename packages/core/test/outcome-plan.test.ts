import { describe, expect, it } from 'vitest';
import { FAILURE_STREAK } from '../src/connection-event.ts';
import {
  failuresAfter,
  followNewerRow,
  planOutcome,
  statusWhileFailing,
  type OutcomePlanInput,
  type OutcomeRow,
} from '../src/outcome-plan.ts';
import type { RefreshOutcome } from '../src/refresh-outcome.ts';
import type { BackoffPolicy } from '../src/timing.ts';
import { baseProvider, DAY, HOUR, MIN, NOW, S, timing } from './plan-fixtures.ts';

const STARTED = NOW - 300;

const backoff: BackoffPolicy = { baseMs: S, capMs: 30 * S, attempts: 8, cooldownMs: 5 * MIN };
const row: OutcomeRow = {
  id: 'c1',
  ownerId: 'o1',
  provider: 'acme',
  status: 'connected',
  consecutiveFailures: 0,
  expiresAt: new Date(NOW + 4 * MIN),
  refreshTokenExpiresAt: null,
  refreshTokenWarnedAt: null,
};

function plan(outcome: RefreshOutcome, connection: Partial<OutcomeRow> = {}, options: Partial<OutcomePlanInput> = {}) {
  return planOutcome({
    outcome,
    connection: { ...row, ...connection },
    provider: baseProvider,
    presented: 'rt',
    startedAt: STARTED,
    now: NOW,
    timing,
    minIntervalMs: 10 * S,
    backoff,
    // The top of every range: the latest retry, no early jitter.
    random: () => 0.999_999,
    ...options,
  });
}

const kinds = (p: { events: { kind: string }[] }) => p.events.map((e) => e.kind);

describe('planOutcome', () => {
  describe('success', () => {
    const tokens = { accessToken: 'at2', refreshToken: 'rt2', expiresInSeconds: 3600 };

    it('stores the tokens, schedules the next refresh a buffer before expiry, and ends the failure streak', () => {
      const p = plan({ kind: 'success', tokens, status: 200 }, { consecutiveFailures: 4 }, { random: () => 0 });
      expect(p).toMatchObject({
        kind: 'success',
        tokens,
        schedule: { expiresAt: STARTED + HOUR, refreshAt: STARTED + HOUR - 5 * MIN },
        decision: { kind: 'delay', runAt: STARTED + HOUR - 5 * MIN, why: 'scheduled' },
        failures: 0,
      });
      expect(kinds(p)).toEqual(['connection.refreshed']);
      expect(p.events[0]!.payload).toMatchObject({ status: 'connected', consecutiveFailures: 0 });
    });

    it('counts the new lifetime from when the request started, not from its answer', () => {
      const p = plan({ kind: 'success', tokens, status: 200 });
      expect(p.kind === 'success' && p.schedule.expiresAt).toBe(STARTED + HOUR);
    });

    it('ends the job when nothing says when the new token expires and the provider has no keep-alive', () => {
      const p = plan(
        { kind: 'success', tokens: { accessToken: 'opaque' }, status: 200 },
        {},
        { provider: { ...baseProvider, defaultLifetimeSeconds: null } },
      );
      expect(p.decision).toEqual({ kind: 'done', why: 'expiry_unknown' });
    });

    it('reports a refresh token about to lapse, once, with the row`s lapse when the answer states none', () => {
      const lapse = NOW + DAY;
      const never = { ...baseProvider, rotation: { rotates: 'never' as const, graceSeconds: 0 } };
      const p = plan(
        { kind: 'success', tokens: { accessToken: 'at2', expiresInSeconds: 3600 }, status: 200 },
        { refreshTokenExpiresAt: new Date(lapse) },
        { provider: never },
      );
      expect(p).toMatchObject({ kind: 'success', refreshTokenExpiresAt: lapse });
      expect(p.kind === 'success' && p.schedule.warnRefreshTokenExpiry).toBe(true);
      expect(kinds(p)).toEqual(['connection.refreshed', 'connection.refresh_token_expiring']);
      const warned = plan(
        { kind: 'success', tokens: { accessToken: 'at2', expiresInSeconds: 3600 }, status: 200 },
        { refreshTokenExpiresAt: new Date(lapse), refreshTokenWarnedAt: new Date(NOW - HOUR) },
        { provider: never },
      );
      expect(kinds(warned)).toEqual(['connection.refreshed']);
    });

    it('a refresh token the answer does not replace is the one presented: no rotation, nothing new to lapse', () => {
      const p = plan({ kind: 'success', tokens: { accessToken: 'at2', refreshToken: 'rt' }, status: 200 });
      expect(p.kind === 'success' && p.schedule.refreshTokenExpiresAt).toBeUndefined();
    });
  });

  describe('transient', () => {
    it('retries after the backoff, counts the failure, and keeps the row connected while its token lives', () => {
      const p = plan({ kind: 'transient', reason: 'server_error', status: 503 }, { consecutiveFailures: 2 });
      // Third failure: the ceiling is 4 s; random at the top of its range takes nearly all of it (rounded down).
      expect(p).toEqual({
        kind: 'failure',
        write: { status: 'connected', refreshAt: NOW + Math.floor(0.999_999 * 4 * S), countsAsFailure: true },
        confirmVersionFirst: false,
        events: expect.any(Array),
        decision: { kind: 'delay', runAt: NOW + Math.floor(0.999_999 * 4 * S), why: 'retry' },
        failures: 3,
      });
      expect(kinds(p)).toEqual(['connection.refresh_failed']); // the streak reached FAILURE_STREAK
      expect(FAILURE_STREAK).toBe(3);
    });

    it('marks the row token_expired once its access token has lapsed, and says so once', () => {
      const p = plan({ kind: 'transient', reason: 'timeout', status: null }, { expiresAt: new Date(NOW) });
      expect(p).toMatchObject({ write: { status: 'token_expired' } });
      expect(kinds(p)).toEqual(['connection.token_expired']);
      const again = plan(
        { kind: 'transient', reason: 'timeout', status: null },
        { expiresAt: new Date(NOW - MIN), status: 'token_expired', consecutiveFailures: 5 },
      );
      expect(kinds(again)).toEqual([]);
    });

    it("a failed probe of an open breaker holds the job, due, and leaves the connection's streak alone", () => {
      const p = plan(
        { kind: 'transient', reason: 'server_error', status: 503 },
        { consecutiveFailures: 9 },
        { probe: { retryAfterMs: 5 * S } },
      );
      expect(p).toEqual({
        kind: 'failure',
        write: { status: 'connected', refreshAt: NOW, countsAsFailure: false },
        confirmVersionFirst: false,
        events: [],
        decision: { kind: 'provider_outage', retryAfterMs: 5 * S },
        failures: 9,
      });
      const lapsed = plan(
        { kind: 'transient', reason: 'timeout', status: null },
        { expiresAt: new Date(NOW - S) },
        { probe: { retryAfterMs: 5 * S } },
      );
      expect(lapsed).toMatchObject({ write: { status: 'token_expired' } });
      expect(kinds(lapsed)).toEqual(['connection.token_expired']);
    });

    it('falls back to the cooldown cadence after the quick retries', () => {
      const p = plan({ kind: 'transient', reason: 'network', status: null }, { consecutiveFailures: 8 });
      expect(p.decision).toEqual({
        kind: 'delay',
        runAt: NOW + Math.floor(5 * MIN * (0.5 + 0.999_999 / 2)),
        why: 'retry',
      });
    });
  });

  describe('rate_limited', () => {
    it('pauses the provider as long as it asked, and leaves the failure streak alone', () => {
      const p = plan(
        { kind: 'rate_limited', reason: 'rate_limited', retryAfterMs: 30 * S, status: 429 },
        { consecutiveFailures: 2 },
      );
      expect(p).toEqual({
        kind: 'failure',
        write: { status: 'connected', refreshAt: NOW + 30 * S, countsAsFailure: false },
        confirmVersionFirst: false,
        events: [],
        decision: { kind: 'rate_limited', retryAfterMs: 30 * S },
        failures: 2,
      });
    });

    it('still marks a lapsed token token_expired', () => {
      const p = plan(
        { kind: 'rate_limited', reason: 'rate_limited', retryAfterMs: 30 * S, status: 429 },
        { expiresAt: new Date(NOW - 1) },
      );
      expect(p).toMatchObject({ write: { status: 'token_expired' } });
    });
  });

  describe('reauth and fatal', () => {
    it('invalid_grant: needs_reauth, no next run, after re-reading the row', () => {
      const p = plan({ kind: 'reauth', reason: 'invalid_grant', status: 400 }, { consecutiveFailures: 1 });
      expect(p).toEqual({
        kind: 'failure',
        write: { status: 'needs_reauth', refreshAt: null, countsAsFailure: true },
        confirmVersionFirst: true,
        events: expect.any(Array),
        decision: { kind: 'stop', status: 'needs_reauth', reason: 'invalid_grant' },
        failures: 2,
      });
      expect(kinds(p)).toEqual(['connection.needs_reauth']);
    });

    it('a configuration error: error, no next run, after re-reading the row', () => {
      const p = plan({ kind: 'fatal', reason: 'invalid_client', status: 401 });
      expect(p).toEqual({
        kind: 'failure',
        write: { status: 'error', refreshAt: null, countsAsFailure: true },
        confirmVersionFirst: true,
        events: expect.any(Array),
        decision: { kind: 'stop', status: 'error', reason: 'invalid_client' },
        failures: 1,
      });
      expect(kinds(p)).toEqual(['connection.error']);
    });

    it('a request that was never sent (no usable token URL) is fatal like any other', () => {
      expect(plan({ kind: 'fatal', reason: 'invalid_token_url', status: null }).decision).toEqual({
        kind: 'stop',
        status: 'error',
        reason: 'invalid_token_url',
      });
    });
  });
});

describe('statusWhileFailing', () => {
  it.each([
    [NOW + 1, 'connected'],
    [NOW, 'token_expired'],
    [NOW - HOUR, 'token_expired'],
    [null, 'connected'],
  ] as const)('a token expiring at %s is %s', (expiresAt, status) => {
    expect(statusWhileFailing({ expiresAt: expiresAt === null ? null : new Date(expiresAt) }, NOW)).toBe(status);
  });
});

describe('failuresAfter', () => {
  it('a success ends the streak, a 429 leaves it, anything else adds one', () => {
    expect(failuresAfter('success', 7)).toBe(0);
    expect(failuresAfter('rate_limited', 7)).toBe(7);
    expect(failuresAfter('transient', 7)).toBe(8);
    expect(failuresAfter('reauth', 0)).toBe(1);
    expect(failuresAfter('fatal', 2)).toBe(3);
  });
});

describe('followNewerRow', () => {
  it('follows a live row to its next refresh, never into the past', () => {
    expect(followNewerRow({ status: 'connected', refreshAt: new Date(NOW + HOUR) }, NOW)).toEqual({
      kind: 'delay',
      runAt: NOW + HOUR,
      why: 'fenced',
    });
    expect(followNewerRow({ status: 'token_expired', refreshAt: new Date(NOW - MIN) }, NOW)).toEqual({
      kind: 'delay',
      runAt: NOW,
      why: 'fenced',
    });
  });

  it('ends the job when the newer row is gone, not live, or has no next refresh', () => {
    const done = { kind: 'done', why: 'fenced' };
    expect(followNewerRow(null, NOW)).toEqual(done);
    expect(followNewerRow({ status: 'needs_reauth', refreshAt: new Date(NOW + HOUR) }, NOW)).toEqual(done);
    expect(followNewerRow({ status: 'connected', refreshAt: null }, NOW)).toEqual(done);
  });
});
