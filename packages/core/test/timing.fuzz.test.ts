import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EvergreenError } from '../src/errors.ts';
import { jwtExpiry, resolveExpiry } from '../src/expiry.ts';
import { planRefresh, type RefreshPlanInput } from '../src/refresh-plan.ts';
import { retryAfterMs } from '../src/retry-after.ts';
import { computeRefreshAt, retryDelayMs, type BackoffPolicy, type RefreshTimingPolicy } from '../src/timing.ts';
import type { TokenSet } from '../src/token-set.ts';
import { now, unit } from './fuzz-support.ts';

/**
 * Property tests of the timing arithmetic (DESIGN.md invariant 7, the retry and 429 rules of invariant 6). Inputs are
 * drawn from the whole domain the callers can produce: provider numbers after parsing (any non-negative finite value,
 * huge ones included), configuration within its validated ranges, any clock, any `random()` in [0, 1).
 */

const S = 1_000;
const MIN = 60 * S;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const YEAR = 365 * DAY;

/** What Postgres's timestamptz reads back from `toISOString()`: a four-digit year from 0001 to 9999. */
function storable(ms: number): boolean {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 && /^(?!0000)\d{4}-/.test(new Date(ms).toISOString());
}

/** Runs `fn`; anything it throws must be one of ours. */
function typedOrValue<T>(fn: () => T): T | EvergreenError {
  try {
    return fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EvergreenError);
    return error as EvergreenError;
  }
}

/** Per-provider timing as config and the providers file allow it (buffer 0..1 day, fraction 0.05..0.95, jitter 0..1 h). */
const timingPolicy: fc.Arbitrary<RefreshTimingPolicy> = fc.record({
  bufferMs: fc.integer({ min: 0, max: 86_400 }).map((s) => s * S),
  shortLifetimeFraction: fc.double({ min: 0.05, max: 0.95, noNaN: true }),
  jitterMs: fc.integer({ min: 0, max: HOUR }),
});
/** A lifetime relative to now: expired, tiny, ordinary, decades; plus arbitrary finite offsets. */
const lifetimeMs = fc.oneof(
  fc.integer({ min: -10 * YEAR, max: 0 }),
  fc.integer({ min: 1, max: 10 * S }),
  fc.integer({ min: 1, max: 2 * DAY }),
  fc.integer({ min: 1, max: 100 * YEAR }),
);

describe('computeRefreshAt, fuzzed', () => {
  it('is null only for an unknown expiry without keep-alive, else a whole number of ms no earlier than notBefore', () => {
    fc.assert(
      fc.property(
        now,
        fc.option(lifetimeMs),
        fc.option(fc.integer({ min: 0, max: HOUR })),
        fc.option(fc.integer({ min: 1, max: 400 * DAY }), { nil: undefined }),
        timingPolicy,
        unit,
        (at, lifetime, minInterval, keepAlive, policy, r) => {
          const notBefore = minInterval === null ? undefined : at + minInterval;
          const result = computeRefreshAt(
            {
              now: at,
              expiresAt: lifetime === null ? null : at + lifetime,
              ...(notBefore !== undefined && { notBefore }),
              ...(keepAlive !== undefined && { unknownExpiryIntervalMs: keepAlive }),
            },
            policy,
            () => r,
          );
          if (lifetime === null && keepAlive === undefined) {
            expect(result).toBeNull();
            return;
          }
          expect(result).not.toBeNull();
          expect(Number.isInteger(result)).toBe(true);
          expect(result).toBeGreaterThanOrEqual(notBefore ?? at);
          expect(storable(result as number)).toBe(true);
          if (lifetime === null) expect(result).toBe(Math.max(notBefore ?? at, at + (keepAlive as number)));
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('never schedules after a future expiry, keeps the clamped buffer, and jitters only within its bound', () => {
    fc.assert(
      fc.property(now, lifetimeMs, timingPolicy, unit, (at, lifetime, policy, r) => {
        fc.pre(lifetime > 0);
        const expiresAt = at + lifetime;
        const result = computeRefreshAt({ now: at, expiresAt }, policy, () => r) as number;
        expect(result).toBeLessThanOrEqual(expiresAt);
        const buffer = Math.min(policy.bufferMs, lifetime * policy.shortLifetimeFraction);
        const jitterBound = Math.min(policy.jitterMs, lifetime * 0.1);
        // Rounding to whole milliseconds may move it by half a millisecond either way.
        expect(result).toBeLessThanOrEqual(Math.max(at, expiresAt - buffer) + 0.5);
        expect(result).toBeGreaterThanOrEqual(Math.max(at, expiresAt - buffer - jitterBound) - 0.5);
      }),
      { numRuns: 1_000 },
    );
  });

  it('lets a short-lived token live a fixed share of its life before refreshing it: no refresh loop', () => {
    fc.assert(
      fc.property(now, fc.integer({ min: 1, max: 2 * DAY }), timingPolicy, unit, (at, lifetime, policy, r) => {
        const result = computeRefreshAt({ now: at, expiresAt: at + lifetime }, policy, () => r) as number;
        // buffer ≤ fraction × lifetime and jitter ≤ 10 %: at least (0.9 − fraction) of the lifetime passes first.
        expect(result - at).toBeGreaterThanOrEqual(lifetime * (0.9 - policy.shortLifetimeFraction) - 0.5);
      }),
      { numRuns: 500 },
    );
  });

  it('refreshes an expired token at notBefore (now, or the loop guard), never in the past', () => {
    fc.assert(
      fc.property(
        now,
        fc.integer({ min: -100 * YEAR, max: 0 }),
        fc.integer({ min: 0, max: HOUR }),
        timingPolicy,
        unit,
        (at, lifetime, minInterval, policy, r) => {
          const result = computeRefreshAt(
            { now: at, expiresAt: at + lifetime, notBefore: at + minInterval },
            policy,
            () => r,
          );
          expect(result).toBe(at + minInterval);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('retryDelayMs, fuzzed', () => {
  /** The backoff settings as configuration validates them (EVERGREEN_RETRY_*). */
  const backoff: fc.Arbitrary<BackoffPolicy> = fc.record({
    baseMs: fc.integer({ min: 10, max: MIN }),
    capMs: fc.integer({ min: 10, max: HOUR }),
    attempts: fc.integer({ min: 1, max: 100 }),
    cooldownMs: fc.integer({ min: 100, max: DAY }),
  });
  const failures = fc.oneof(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 2 ** 31 - 1 }));

  it('is a whole, finite number of ms within [0, cap] during the quick retries', () => {
    fc.assert(
      fc.property(failures, backoff, unit, (n, policy, r) => {
        fc.pre(n <= policy.attempts);
        const delay = retryDelayMs(n, policy, () => r);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(0);
        expect(delay).toBeLessThanOrEqual(policy.capMs);
        // Full jitter below the exponential ceiling (never above it).
        expect(delay).toBeLessThanOrEqual(Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, n - 1)) + 0.5);
      }),
      { numRuns: 1_000 },
    );
  });

  it('falls back to the cooldown cadence (± half) once the quick retries are used up, however many failures', () => {
    fc.assert(
      fc.property(failures, backoff, unit, (n, policy, r) => {
        fc.pre(n > policy.attempts);
        const delay = retryDelayMs(n, policy, () => r);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(policy.cooldownMs / 2));
        expect(delay).toBeLessThanOrEqual(policy.cooldownMs);
      }),
      { numRuns: 500 },
    );
  });
});

describe('retryAfterMs, fuzzed', () => {
  const policy = fc.record({
    defaultMs: fc.integer({ min: 100, max: HOUR }),
    maxMs: fc.integer({ min: 100, max: DAY }),
  });
  /** Retry-After as servers (and broken proxies) send it. */
  const header = fc.oneof(
    fc.constant(undefined),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme-ascii', maxLength: 40 }),
    fc.nat({ max: 10 ** 9 }).map(String),
    fc.stringMatching(/^\s*[0-9]{1,400}\s*$/),
    fc.stringMatching(/^-?[0-9]{1,6}(\.[0-9]{1,3})?(e[+-]?[0-9]{1,3})?$/),
    fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
    fc.constantFrom('Infinity', 'NaN', '-1', '1.5', '0x10', '1e3', 'tomorrow', 'Wed, 21 Oct 2015 07:28:00 GMT'),
  );

  it('is always a finite number within [min(1 s, max), max]', () => {
    fc.assert(
      fc.property(header, now, policy, (value, at, p) => {
        const ms = retryAfterMs(value, at, p);
        expect(Number.isFinite(ms)).toBe(true);
        expect(ms).toBeLessThanOrEqual(p.maxMs);
        expect(ms).toBeGreaterThanOrEqual(Math.min(1_000, p.maxMs));
      }),
      { numRuns: 1_000 },
    );
  });

  it('honours delay-seconds exactly, up to the cap', () => {
    fc.assert(
      fc.property(fc.nat({ max: 10 ** 7 }), now, policy, (seconds, at, p) => {
        expect(retryAfterMs(String(seconds), at, p)).toBe(Math.min(p.maxMs, Math.max(1_000, seconds * 1_000)));
      }),
      { numRuns: 300 },
    );
  });

  it('honours an HTTP-date (to the second), up to the cap; a date in the past waits the minimum', () => {
    fc.assert(
      fc.property(now, fc.integer({ min: -YEAR, max: YEAR }), policy, (at, offset, p) => {
        const date = new Date(at + offset).toUTCString();
        const expected = Date.parse(date) - at;
        expect(retryAfterMs(date, at, p)).toBe(Math.min(p.maxMs, Math.max(1_000, expected)));
      }),
      { numRuns: 300 },
    );
  });

  it('falls back to the default (capped) for a header with neither digits only nor a date', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }), now, policy, (value, at, p) => {
        fc.pre(!/^\s*\d+\s*$/.test(value) && Number.isNaN(Date.parse(value.trim())));
        expect(retryAfterMs(value, at, p)).toBe(Math.min(p.maxMs, Math.max(1_000, p.defaultMs)));
      }),
      { numRuns: 300 },
    );
  });
});

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A JWT-shaped token whose `exp` is anything a token might carry. */
const jwtLike = fc
  .oneof(
    fc.double(),
    fc.integer(),
    fc.double({ min: 0, max: 1e20, noNaN: true }),
    fc.integer({ min: 0, max: 2 ** 35 }),
    fc.string(),
    fc.constant(null),
    fc.stringMatching(/^[0-9]{1,30}$/),
  )
  .map((exp) => `${b64url({ alg: 'none' })}.${b64url({ sub: 'u', exp })}.sig`);
/** Any access token: opaque, JWT-like with any exp, three dot-separated junk parts. */
const accessToken = fc.oneof(
  fc.string({ minLength: 1, maxLength: 200 }),
  jwtLike,
  fc.tuple(fc.string(), fc.string(), fc.string()).map((parts) => parts.join('.')),
);
/** A number as `parseExpiresIn` / `parseAbsoluteTime` can hand it on: non-negative, finite, from tiny to huge. */
const providerSeconds = fc.oneof(
  fc.integer({ min: 0, max: 10 * 365 * 86_400 }),
  fc.double({ min: 0, max: 1e6, noNaN: true }),
  fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }),
  fc.constantFrom(2 ** 31 - 1, 2 ** 53, 1e15, 1e300),
);
const providerTime = fc.oneof(
  fc.integer({ min: 0, max: Date.UTC(2200, 0, 1) }),
  fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }).map(Math.round),
  fc
    .date({ min: new Date('0000-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
    .map((d) => d.getTime()),
);

describe('expiry, fuzzed', () => {
  it('jwtExpiry never throws and gives null or a storable whole millisecond', () => {
    fc.assert(
      fc.property(accessToken, (token) => {
        const exp = jwtExpiry(token);
        if (exp !== null) {
          expect(Number.isInteger(exp)).toBe(true);
          expect(storable(exp)).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('resolveExpiry gives null (unknown) or a storable time, in the order expires_in, expires_at, JWT, default', () => {
    fc.assert(
      fc.property(
        now,
        fc.option(providerSeconds, { nil: undefined }),
        fc.option(providerTime, { nil: undefined }),
        fc.option(providerTime, { nil: undefined }),
        accessToken,
        fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
        (at, expiresInSeconds, expiresAt, issuedAt, token, defaultLifetimeSeconds) => {
          const result = typedOrValue(() =>
            resolveExpiry({
              now: at,
              expiresInSeconds,
              expiresAt,
              issuedAt,
              accessToken: token,
              defaultLifetimeSeconds,
            }),
          );
          expect(result).not.toBeInstanceOf(Error);
          const { expiresAt: resolved, source } = result as ReturnType<typeof resolveExpiry>;
          if (resolved === null) {
            expect(source).toBe('unknown');
          } else {
            expect(storable(resolved)).toBe(true);
            expect(Number.isInteger(resolved)).toBe(true);
          }
          // Each source is used when usable, in order; unknown means none of them was.
          const usable = (ms: number | undefined) => ms !== undefined && storable(ms);
          const fromExpiresIn = expiresInSeconds === undefined ? undefined : Math.round(at + expiresInSeconds * 1_000);
          if (usable(fromExpiresIn)) expect(source).toBe('expires_in');
          else if (usable(expiresAt)) expect(source).toBe('expires_at');
          else if (jwtExpiry(token) !== null) expect(source).toBe('jwt');
          if (source === 'unknown') {
            const from = issuedAt === undefined ? at : Math.min(issuedAt, at);
            expect(defaultLifetimeSeconds === null || !storable(from + defaultLifetimeSeconds * 1_000)).toBe(true);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('planRefresh, fuzzed', () => {
  const provider: fc.Arbitrary<RefreshPlanInput['provider']> = fc.record({
    grant: fc.constantFrom('refresh_token', 'client_credentials', 'password', 'none'),
    defaultLifetimeSeconds: fc.option(fc.integer({ min: 1, max: 100 * 365 * 86_400 })),
    keepAliveSeconds: fc.option(fc.integer({ min: 1, max: 10 * 365 * 86_400 })),
    refreshTokenLifetimeSeconds: fc.option(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
    refreshTokenWarningSeconds: fc.integer({ min: 1, max: 365 * 86_400 }),
    rotation: fc.record({
      rotates: fc.constantFrom('always', 'sometimes', 'never'),
      graceSeconds: fc.nat({ max: 86_400 }),
    }),
  });
  const tokens: fc.Arbitrary<TokenSet> = fc.record(
    {
      accessToken,
      refreshToken: fc.string({ minLength: 1, maxLength: 50 }),
      expiresInSeconds: providerSeconds,
      expiresAt: providerTime,
      issuedAt: providerTime,
      refreshTokenExpiresInSeconds: providerSeconds,
    },
    { requiredKeys: ['accessToken'] },
  );

  it('plans only storable times, never a NaN, and never a refresh after a future expiry it can still beat', () => {
    fc.assert(
      fc.property(
        now,
        fc.integer({ min: -MIN, max: 0 }),
        tokens,
        provider,
        fc.boolean(),
        fc.record({
          refreshToken: fc.option(fc.string({ maxLength: 50 })),
          refreshTokenExpiresAt: fc.option(providerTime),
          refreshTokenWarned: fc.boolean(),
        }),
        timingPolicy,
        fc.integer({ min: 0, max: HOUR }),
        unit,
        (at, issuedOffset, t, p, renewable, current, timing, minIntervalMs, r) => {
          const plan = typedOrValue(() =>
            planRefresh({
              now: at,
              issuedFrom: at + issuedOffset,
              tokens: t,
              provider: p,
              renewable,
              current,
              timing,
              minIntervalMs,
              random: () => r,
            }),
          );
          expect(plan).not.toBeInstanceOf(Error);
          const { expiresAt, refreshAt, refreshTokenExpiresAt, warnRefreshTokenExpiry } = plan as ReturnType<
            typeof planRefresh
          >;
          for (const time of [expiresAt, refreshAt, refreshTokenExpiresAt]) {
            if (time !== null && time !== undefined) expect(storable(time)).toBe(true);
          }
          expect(typeof warnRefreshTokenExpiry).toBe('boolean');
          if (!renewable || p.grant === 'none') expect(refreshAt).toBeNull();
          if (refreshAt !== null) {
            expect(refreshAt).toBeGreaterThanOrEqual(at + minIntervalMs);
            if (expiresAt !== null && expiresAt > at + minIntervalMs) expect(refreshAt).toBeLessThanOrEqual(expiresAt);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('found by fuzzing (regressions)', () => {
  const jwtWithExp = (exp: unknown) => `${b64url({ alg: 'none' })}.${b64url({ sub: 'u', exp })}.sig`;
  const NOW = Date.UTC(2030, 0, 1);

  it('a retry never waits longer than the cap, even when the cap is below a tenth of the base', () => {
    const policy: BackoffPolicy = { baseMs: 105, capMs: 10, attempts: 1, cooldownMs: 100 };
    expect(retryDelayMs(1, policy, () => 0)).toBe(10);
    expect(retryDelayMs(1, policy, () => 0.99)).toBe(10);
  });

  it('a JWT exp past the year 9999 (or overflowing to Infinity) is no usable exp', () => {
    expect(jwtExpiry(jwtWithExp(1e300))).toBeNull();
    expect(jwtExpiry(jwtWithExp(253_402_300_800))).toBeNull(); // 10000-01-01
    expect(jwtExpiry(jwtWithExp(253_402_300_799))).toBe(253_402_300_799_000);
  });

  it('an expires_in no row can hold falls through to the next source instead of an Infinity expiry', () => {
    const base = { now: NOW, accessToken: 'opaque', expiresAt: undefined, issuedAt: undefined };
    expect(resolveExpiry({ ...base, expiresInSeconds: 1e300, defaultLifetimeSeconds: 3600 })).toEqual({
      expiresAt: NOW + 3_600_000,
      source: 'default',
    });
    expect(resolveExpiry({ ...base, expiresInSeconds: 1e300, defaultLifetimeSeconds: null })).toEqual({
      expiresAt: null,
      source: 'unknown',
    });
    expect(
      resolveExpiry({
        ...base,
        expiresAt: 253_402_300_800_000,
        accessToken: jwtWithExp(2e9),
        defaultLifetimeSeconds: null,
      }),
    ).toEqual({ expiresAt: 2e12, source: 'jwt' });
  });

  it('a refresh-token lifetime no row can hold is an unknown lapse, not an Infinity date', () => {
    const plan = planRefresh({
      now: NOW,
      issuedFrom: NOW,
      tokens: { accessToken: 'a', refreshToken: 'r', expiresInSeconds: 3600, refreshTokenExpiresInSeconds: 1e300 },
      provider: {
        grant: 'refresh_token',
        defaultLifetimeSeconds: null,
        keepAliveSeconds: null,
        refreshTokenLifetimeSeconds: null,
        refreshTokenWarningSeconds: 86_400,
        rotation: { rotates: 'always', graceSeconds: 0 },
      },
      renewable: true,
      current: { refreshToken: null, refreshTokenExpiresAt: null, refreshTokenWarned: false },
      timing: { bufferMs: 300_000, shortLifetimeFraction: 0.5, jitterMs: 0 },
      minIntervalMs: 0,
      random: () => 0,
    });
    expect(plan).toEqual({
      expiresAt: NOW + 3_600_000,
      refreshAt: NOW + 3_300_000,
      refreshTokenExpiresAt: null,
      warnRefreshTokenExpiry: false,
    });
  });
});
