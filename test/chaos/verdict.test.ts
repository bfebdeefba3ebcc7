import { describe, expect, it } from 'vitest';
import { firstCoverageGap, judge, maxInWindow, percentiles, type GrantFacts, type VerdictInput } from './verdict.ts';

const grant = (over: Partial<GrantFacts> = {}): GrantFacts => ({
  grantId: 'g1',
  provider: 'p',
  connectionId: 'c1',
  issuedAt: 0,
  initialLifetimeMs: 10_000,
  lifetimeMs: 10_000,
  revokedBecause: null,
  control: false,
  strict: false,
  ...over,
});

const ok = (at: number) => ({ at, grantId: 'g1', status: 200, outcome: 'ok' });

function input(over: Partial<VerdictInput> = {}): VerdictInput {
  return {
    grants: [grant()],
    requests: new Map([['g1', [ok(5_000), ok(12_000)]]]),
    rows: [{ connectionId: 'c1', status: 'connected' }],
    commits: [
      { connectionId: 'c1', at: 5_040 },
      { connectionId: 'c1', at: 12_100 },
    ],
    expiredSightings: new Map(),
    rateLimits: [],
    arrivalJitterMs: 0,
    retry: { attempts: 3, cooldownMs: 4_000 },
    runEndedAt: 20_000,
    unexpectedExits: 0,
    secretHits: 0,
    staleStoredTokens: 0,
    ...over,
  };
}

describe('the chaos verdict', () => {
  it('passes a run where every token was renewed in time and nothing else went wrong', () => {
    const v = judge(input());
    expect(v.ok).toBe(true);
    expect(v.rotationToCommitMs).toMatchObject({ count: 2, max: 100 });
    expect([v.refreshesCommitted, v.connectionsRefreshed]).toEqual([2, 1]);
  });

  it('counts a refresh that came after the previous access token expired', () => {
    expect(firstCoverageGap(grant(), [ok(5_000), ok(15_001)], 20_000)).toMatch(/1 ms after/);
    expect(judge(input({ requests: new Map([['g1', [ok(5_000), ok(15_500)]]]) })).counts.accessTokensExpired).toBe(1);
  });

  it('counts a last token that lapsed before the run ended, and a store sighting of an expired token', () => {
    expect(firstCoverageGap(grant(), [ok(5_000)], 16_000)).toMatch(/expired 1000 ms before/);
    expect(judge(input({ expiredSightings: new Map([['c1', 300]]) })).counts.accessTokensExpired).toBe(1);
  });

  it('tells wrong re-auth and error statuses, reuse revocations and missed revocations apart', () => {
    expect(judge(input({ rows: [{ connectionId: 'c1', status: 'needs_reauth' }] })).counts.wronglyNeedsReauth).toBe(1);
    expect(judge(input({ rows: [{ connectionId: 'c1', status: 'error' }] })).counts.wronglyError).toBe(1);
    expect(judge(input({ grants: [grant({ revokedBecause: 'reuse' })] })).counts.grantsRevokedByReuse).toBe(1);
    const strict = judge(input({ grants: [grant({ revokedBecause: 'reuse', strict: true })] }));
    expect([strict.counts.grantsRevokedByReuse, strict.strictGrantsRevokedByReuse]).toEqual([0, 1]);
    const control = grant({ control: true, revokedBecause: 'manual' });
    expect(judge(input({ grants: [control] })).counts.missedRevocations).toBe(1);
    expect(
      judge(input({ grants: [control], rows: [{ connectionId: 'c1', status: 'needs_reauth' }] })).counts
        .missedRevocations,
    ).toBe(0);
  });

  it('counts more requests for one grant in half a cooldown than the retry policy allows, and requests beyond the declared rate', () => {
    // attempts 3 (+ a replay, + a retry after a kill) in any 2,000 ms: 5 is the policy, 6 a storm.
    const within = (n: number, step: number) => Array.from({ length: n }, (_, i) => ok(5_000 + i * step));
    expect(judge(input({ requests: new Map([['g1', within(5, 100)]]) })).counts.refreshStorms).toBe(0);
    const storm = judge(input({ requests: new Map([['g1', within(6, 100)]]) }));
    expect(storm.counts.refreshStorms).toBe(1);
    expect(storm.maxRequestsPerGrantPerStormSpan).toEqual({ requests: 6, spanMs: 2_000, limit: 5 });
    // The same six, spread so that no 2,000 ms holds more than five: a cooled-down retry, not a storm.
    expect(judge(input({ requests: new Map([['g1', within(6, 450)]]) })).counts.refreshStorms).toBe(0);
    const limited = judge(input({ rateLimits: [{ provider: 'p', max: 1, durationMs: 10_000 }] }));
    expect(limited.counts.rateLimitExcess).toBe(1);
    expect(limited.ok).toBe(false);
  });

  it('counts a revoked grant asked again and again as a storm (invalid_grant must end in needs_reauth)', () => {
    const control = grant({ control: true, revokedBecause: 'manual' });
    const rows = [{ connectionId: 'c1', status: 'needs_reauth' }];
    const refused = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ at: 6_000 + i * 5_000, grantId: 'g1', status: 400, outcome: 'revoked' }));
    expect(judge(input({ grants: [control], rows, requests: new Map([['g1', refused(4)]]) })).ok).toBe(true);
    const looping = judge(input({ grants: [control], rows, requests: new Map([['g1', refused(5)]]) }));
    expect(looping.counts.refreshStorms).toBe(1);
    expect(looping.examples.refreshStorms).toEqual(['c1: 5 requests after its grant was revoked']);
  });

  it('finds the busiest window and percentiles', () => {
    expect(maxInWindow([0, 999, 1_000, 1_500, 1_999], 1_000)).toBe(3);
    expect(maxInWindow([1_999, 0, 500, 999], 1_000)).toBe(3);
    expect(maxInWindow([], 1_000)).toBe(0);
    expect(percentiles([3, 1, 2, 4])).toEqual({ count: 4, p50: 3, p90: 4, p99: 4, max: 4 });
  });
});
