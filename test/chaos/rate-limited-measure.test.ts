import { describe, expect, it } from 'vitest';
import {
  measureRateLimited,
  pauseWindows,
  type ProviderRecords,
  type RateLimitedInput,
  type RateLimitedRequest,
} from './rate-limited-measure.ts';

const S = 1_000;
const ok = (grantId: string, at: number): RateLimitedRequest => ({ at, grantId, status: 200, outcome: 'ok' });
const limited429 = (grantId: string, at: number): RateLimitedRequest => ({
  at,
  grantId,
  status: 429,
  outcome: 'fault',
});
const none: ProviderRecords = { grants: [], requests: [], revokedByReuse: 0 };

function input(over: Partial<RateLimitedInput> = {}): RateLimitedInput {
  return {
    limited: none,
    steady: none,
    retryAfterMs: 5 * S,
    inFlightAllowanceMs: 1 * S,
    providerLatencyMs: 0,
    endedAt: 1_000 * S,
    backlogAfterMs: 10 * S,
    ...over,
  };
}

describe('pauseWindows', () => {
  it('opens a pause at each 429 answer for Retry-After, merging overlaps from the first', () => {
    const requests = [limited429('a', 10 * S), limited429('b', 12 * S), ok('c', 20 * S), limited429('d', 30 * S)];
    expect(pauseWindows(requests, 40, 5 * S)).toEqual([
      { from: 10 * S + 40, until: 17 * S + 40 },
      { from: 30 * S + 40, until: 35 * S + 40 },
    ]);
  });
});

describe('measureRateLimited', () => {
  it('counts lapsed tokens per provider by how much, and lateness against the due time', () => {
    const limited: ProviderRecords = {
      grants: [
        { grantId: 'in-time', dueAt: 100 * S, expiresAt: 400 * S },
        { grantId: 'late', dueAt: 100 * S, expiresAt: 400 * S },
        { grantId: 'never', dueAt: 500 * S, expiresAt: 800 * S },
        { grantId: 'pending', dueAt: 900 * S, expiresAt: 1_200 * S },
      ],
      requests: [ok('in-time', 101 * S), limited429('late', 150 * S), ok('late', 402 * S)],
      revokedByReuse: 1,
    };
    const steady: ProviderRecords = {
      grants: [{ grantId: 's', dueAt: 100 * S, expiresAt: 400 * S }],
      requests: [ok('s', 100 * S)],
      revokedByReuse: 0,
    };
    const f = measureRateLimited(input({ limited, steady }));
    expect(f.limited).toMatchObject({
      connections: 4,
      refreshed: 2,
      lapsed: 2, // 'late' by 2 s, 'never' by 200 s (the end of the run)
      maxLapseMs: 200 * S,
      pending: 1,
      answered429: 1,
      revokedByReuse: 1,
      lateness: { p50: 1 * S, p99: 302 * S, max: 302 * S },
    });
    expect(f.steady).toMatchObject({ lapsed: 0, refreshed: 1, lateness: { p50: 0, p99: 0, max: 0 } });
  });

  it('counts requests sent inside an announced pause, and those beyond the in-flight allowance', () => {
    const requests = [
      limited429('a', 10 * S),
      ok('b', 10.5 * S), // already under way when the 429 left
      ok('c', 13 * S), // sent knowing of the pause
      ok('d', 15.5 * S), // after it
    ];
    const f = measureRateLimited(input({ limited: { grants: [], requests, revokedByReuse: 0 } }));
    expect(f.sentDuringPause).toBe(2);
    expect(f.sentDuringPauseBeyondInFlight).toBe(1);
    // Redis lost its keys while that pause was live: every worker forgot it, a limit, not a violation.
    const flushed = measureRateLimited({
      ...input({ limited: { grants: [], requests, revokedByReuse: 0 } }),
      forgottenAt: [12 * S],
    });
    expect(flushed.sentDuringPause).toBe(2);
    expect(flushed.sentDuringPauseBeyondInFlight).toBe(0);
    // A flush outside it changes nothing.
    const elsewhere = measureRateLimited({
      ...input({ limited: { grants: [], requests, revokedByReuse: 0 } }),
      forgottenAt: [30 * S],
    });
    expect(elsewhere.sentDuringPauseBeyondInFlight).toBe(1);
  });

  it('measures the order of the backlog only (refreshed well after due), by expiry', () => {
    const grants = [
      { grantId: 'x', dueAt: 100 * S, expiresAt: 400 * S },
      { grantId: 'y', dueAt: 110 * S, expiresAt: 410 * S },
      { grantId: 'z', dueAt: 120 * S, expiresAt: 420 * S },
      { grantId: 'on-time', dueAt: 500 * S, expiresAt: 800 * S },
    ];
    const inOrder = [ok('x', 150 * S), ok('y', 151 * S), ok('z', 152 * S), ok('on-time', 501 * S)];
    const reversed = [ok('z', 150 * S), ok('y', 151 * S), ok('x', 152 * S), ok('on-time', 501 * S)];
    const order = (requests: RateLimitedRequest[]) =>
      measureRateLimited(input({ limited: { grants, requests, revokedByReuse: 0 } }));
    expect(order(inOrder)).toMatchObject({ backlog: 3, backlogOrderConcordance: 1 });
    expect(order(reversed)).toMatchObject({ backlog: 3, backlogOrderConcordance: 0 });
  });
});
