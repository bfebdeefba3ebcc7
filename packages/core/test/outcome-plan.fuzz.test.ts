import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { failuresAfter, planOutcome, type OutcomePlanInput, type OutcomeRow } from '../src/outcome-plan.ts';
import type { RefreshOutcome } from '../src/refresh-outcome.ts';
import type { BackoffPolicy, RefreshTimingPolicy } from '../src/timing.ts';
import { FATAL_REASONS, now, TRANSIENT_REASONS, unit } from './fuzz-support.ts';

/**
 * Property tests of what one classified answer does to a connection (DESIGN.md invariants 6 and 7), for any outcome,
 * any live row, any provider timing and any configuration the config validates: the row's next status and run, the
 * failure streak, the events and the job's next step agree with each other, and nothing but the granted tokens carries
 * a token.
 */

const S = 1_000;
const MIN = 60 * S;
const DAY = 24 * 60 * MIN;

const status = fc.oneof(fc.constant(null), fc.integer({ min: 100, max: 599 }));

/** A token-looking value, so a leak is found by its marker. */
const secret = fc.string({ minLength: 8, maxLength: 24 }).map((s) => `SECRET${s}`);

const outcome: fc.Arbitrary<RefreshOutcome> = fc.oneof(
  fc.record({
    kind: fc.constant('success' as const),
    tokens: fc.record(
      {
        accessToken: secret,
        refreshToken: secret,
        expiresInSeconds: fc.oneof(fc.nat({ max: 2 * 86_400 }), fc.double({ min: 0, max: 1e12, noNaN: true })),
        refreshTokenExpiresInSeconds: fc.nat({ max: 400 * 86_400 }),
      },
      { requiredKeys: ['accessToken'] },
    ),
    status: fc.integer({ min: 200, max: 299 }),
  }),
  fc.record({ kind: fc.constant('transient' as const), reason: fc.constantFrom(...TRANSIENT_REASONS), status }),
  fc.record({
    kind: fc.constant('rate_limited' as const),
    reason: fc.constant('rate_limited' as const),
    retryAfterMs: fc.integer({ min: 100, max: DAY }),
    status: fc.constant(429),
  }),
  fc.record({ kind: fc.constant('reauth' as const), reason: fc.constant('invalid_grant' as const), status }),
  fc.record({ kind: fc.constant('fatal' as const), reason: fc.constantFrom(...FATAL_REASONS), status }),
);

/** A live row at `at`: its token lapsed or not, a failure streak of any length, a refresh token lapse or none. */
const row = (at: number): fc.Arbitrary<OutcomeRow> => {
  const near = fc.option(fc.integer({ min: -30 * DAY, max: 30 * DAY }).map((ms) => new Date(at + ms)));
  return fc.record({
    id: fc.constant('c1'),
    ownerId: fc.constant('o1'),
    provider: fc.constant('acme'),
    status: fc.constantFrom('connected' as const, 'token_expired' as const),
    consecutiveFailures: fc.oneof(fc.nat({ max: 10 }), fc.nat({ max: 100_000 })),
    expiresAt: near,
    refreshTokenExpiresAt: near,
    refreshTokenWarnedAt: fc.option(fc.constant(new Date(at - DAY))),
  });
};

const provider: fc.Arbitrary<OutcomePlanInput['provider']> = fc.record({
  grant: fc.constantFrom('refresh_token' as const, 'client_credentials' as const, 'password' as const),
  defaultLifetimeSeconds: fc.option(fc.integer({ min: 1, max: 30 * 86_400 })),
  keepAliveSeconds: fc.option(fc.integer({ min: 60, max: 365 * 86_400 })),
  refreshTokenLifetimeSeconds: fc.option(fc.integer({ min: 60, max: 365 * 86_400 })),
  refreshTokenWarningSeconds: fc.integer({ min: 0, max: 30 * 86_400 }),
  rotation: fc.record({
    rotates: fc.constantFrom('always' as const, 'sometimes' as const, 'never' as const),
    graceSeconds: fc.nat({ max: 3_600 }),
  }),
});

/** As the configuration validates them (EVERGREEN_RETRY_*, the refresh timing variables). */
const backoff: fc.Arbitrary<BackoffPolicy> = fc.record({
  baseMs: fc.integer({ min: 10, max: MIN }),
  capMs: fc.integer({ min: 10, max: 60 * MIN }),
  attempts: fc.integer({ min: 1, max: 100 }),
  cooldownMs: fc.integer({ min: 100, max: DAY }),
});
const timing: fc.Arbitrary<RefreshTimingPolicy> = fc.record({
  bufferMs: fc.integer({ min: 0, max: 86_400 }).map((s) => s * S),
  shortLifetimeFraction: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  jitterMs: fc.integer({ min: 0, max: 60 * MIN }),
});

const scenario: fc.Arbitrary<OutcomePlanInput & { r: number }> = now.chain((at) =>
  fc
    .record({
      outcome,
      connection: row(at),
      provider,
      presented: fc.option(secret, { nil: undefined }),
      startedAt: fc.integer({ min: at - 20 * S, max: at }),
      now: fc.constant(at),
      timing,
      minIntervalMs: fc.integer({ min: 0, max: 60 * MIN }),
      backoff,
      r: unit,
    })
    .map((input) => ({ ...input, random: () => input.r })),
);

describe('planOutcome, fuzzed', () => {
  it('the next step follows from the outcome, and the row`s next run agrees with it', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const plan = planOutcome(input);
        const { outcome: o, now: at } = input;
        if (o.kind === 'success') {
          expect(plan.kind).toBe('success');
          if (plan.kind !== 'success') return;
          expect(plan.tokens).toBe(o.tokens);
          if (plan.schedule.refreshAt === null) expect(plan.decision).toEqual({ kind: 'done', why: 'expiry_unknown' });
          else {
            expect(plan.decision).toEqual({ kind: 'delay', runAt: plan.schedule.refreshAt, why: 'scheduled' });
            // The loop guard: never sooner than the minimum interval after a success.
            expect(plan.schedule.refreshAt).toBeGreaterThanOrEqual(at + input.minIntervalMs);
          }
          return;
        }
        expect(plan.kind).toBe('failure');
        if (plan.kind !== 'failure') return;
        switch (o.kind) {
          case 'transient': {
            expect(plan.decision).toEqual({ kind: 'delay', runAt: plan.write.refreshAt, why: 'retry' });
            // A transient failure never gives up, is never retried hot, and never waits past the cooldown cadence.
            const wait = plan.write.refreshAt! - at;
            expect(wait).toBeGreaterThan(0);
            expect(wait).toBeLessThanOrEqual(Math.max(input.backoff.capMs, input.backoff.cooldownMs));
            break;
          }
          case 'rate_limited':
            expect(plan.decision).toEqual({ kind: 'rate_limited', retryAfterMs: o.retryAfterMs });
            expect(plan.write.refreshAt).toBe(at + o.retryAfterMs);
            break;
          case 'reauth':
            expect(plan.decision).toEqual({ kind: 'stop', status: 'needs_reauth', reason: 'invalid_grant' });
            expect(plan.write.refreshAt).toBeNull();
            break;
          case 'fatal':
            expect(plan.decision).toEqual({ kind: 'stop', status: 'error', reason: o.reason });
            expect(plan.write.refreshAt).toBeNull();
            break;
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('status, streak and re-read follow the outcome: only a person`s problem leaves the live statuses', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const plan = planOutcome(input);
        const { outcome: o, connection: c, now: at } = input;
        expect(plan.failures).toBe(failuresAfter(o.kind, c.consecutiveFailures));
        if (plan.kind === 'success') return;
        const lapsed = c.expiresAt !== null && c.expiresAt.getTime() <= at;
        if (o.kind === 'transient' || o.kind === 'rate_limited') {
          expect(plan.write.status).toBe(lapsed ? 'token_expired' : 'connected');
          expect(plan.confirmVersionFirst).toBe(false);
        } else {
          expect(plan.write.status).toBe(o.kind === 'reauth' ? 'needs_reauth' : 'error');
          // A lost race is not a revocation: the row is re-read before a person is asked to act.
          expect(plan.confirmVersionFirst).toBe(true);
        }
        expect(plan.write.countsAsFailure).toBe(o.kind !== 'rate_limited');
        expect(plan.failures).toBe(c.consecutiveFailures + (plan.write.countsAsFailure ? 1 : 0));
      }),
      { numRuns: 2_000 },
    );
  });

  it('every event describes the row as written, with the streak as written', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const plan = planOutcome(input);
        const written = plan.kind === 'success' ? 'connected' : plan.write.status;
        for (const event of plan.events) {
          expect(event.payload).toMatchObject({
            connectionId: 'c1',
            status: written,
            consecutiveFailures: plan.failures,
          });
        }
        if (plan.kind === 'success') expect(plan.events.map((e) => e.kind)).toContain('connection.refreshed');
      }),
      { numRuns: 1_000 },
    );
  });

  it('no token reaches the events or the decision: only the tokens to store carry them', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const plan = planOutcome(input);
        const { tokens: _tokens, ...rest } = plan as typeof plan & { tokens?: unknown };
        expect(JSON.stringify(rest)).not.toContain('SECRET');
      }),
      { numRuns: 1_000 },
    );
  });

  it('every time it plans is a whole number of ms a timestamptz column holds', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        const plan = planOutcome(input);
        const times =
          plan.kind === 'success'
            ? [plan.schedule.expiresAt, plan.schedule.refreshAt, plan.refreshTokenExpiresAt]
            : [plan.write.refreshAt];
        for (const time of times) {
          if (time === null || time === undefined) continue;
          expect(Number.isInteger(time)).toBe(true);
          expect(new Date(time).toISOString()).toMatch(/^(?!0000)\d{4}-/);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('is deterministic: the same answer, row and random plan the same way', () => {
    fc.assert(
      fc.property(scenario, (input) => {
        expect(planOutcome(input)).toEqual(planOutcome({ ...input, connection: structuredClone(input.connection) }));
      }),
      { numRuns: 300 },
    );
  });
});
