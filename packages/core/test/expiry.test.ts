import { describe, it, expect } from 'vitest';
import { jwtExpiry, resolveExpiry } from '../src/expiry.ts';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

const b64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
/** An unsigned-looking JWT built by hand; the signature is never checked when reading `exp`. */
function jwt(
  payload: string | Record<string, unknown>,
  header: Record<string, unknown> = { alg: 'none', typ: 'JWT' },
): string {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return `${b64url(JSON.stringify(header))}.${b64url(body)}.${b64url('signature')}`;
}

const EXP_S = 1_900_000_000;

describe('jwtExpiry', () => {
  it('reads an integer exp as epoch milliseconds', () => {
    expect(jwtExpiry(jwt({ sub: 'user', exp: EXP_S, iat: EXP_S - 3600 }))).toBe(EXP_S * 1_000);
  });

  it('reads a decimal exp, rounding to whole milliseconds', () => {
    expect(jwtExpiry(jwt({ exp: 1_900_000_000.5 }))).toBe(1_900_000_000_500);
    expect(jwtExpiry(jwt({ exp: 1_900_000_000.12345 }))).toBe(1_900_000_000_123);
  });

  it('works for an RS256-style header too (the signature is not verified, only read)', () => {
    expect(jwtExpiry(jwt({ exp: EXP_S }, { alg: 'RS256', kid: 'k1' }))).toBe(EXP_S * 1_000);
  });

  it('returns null for a JWT without exp', () => {
    expect(jwtExpiry(jwt({ sub: 'user', iat: EXP_S }))).toBeNull();
  });

  it('returns null for an exp that is not a positive finite number', () => {
    expect(jwtExpiry(jwt({ exp: String(EXP_S) }))).toBeNull();
    expect(jwtExpiry(jwt({ exp: 0 }))).toBeNull();
    expect(jwtExpiry(jwt({ exp: -5 }))).toBeNull();
    expect(jwtExpiry(jwt({ exp: null }))).toBeNull();
    expect(jwtExpiry(jwt('{"exp":1e400}'))).toBeNull();
  });

  it('returns null for opaque tokens, without throwing', () => {
    for (const opaque of [
      'at_Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdoaWo',
      'ya29.a0AfH6SMBx-opaque-google-style',
      'gho_16C7e42F292c6912E7710c838347Ae178B4a',
      '',
      '...',
      'a.b.c',
      'not base64!.also not!.x',
    ]) {
      expect(jwtExpiry(opaque)).toBeNull();
    }
  });

  it('returns null when the payload is not a JSON object', () => {
    expect(jwtExpiry(jwt('not json'))).toBeNull();
    expect(jwtExpiry(jwt('[1,2,3]'))).toBeNull();
    expect(jwtExpiry(jwt('42'))).toBeNull();
  });

  it('returns null for a five-part JWE', () => {
    expect(jwtExpiry(`${jwt({ exp: EXP_S })}.${b64url('x')}.${b64url('y')}`)).toBeNull();
  });
});

describe('resolveExpiry', () => {
  const opaque = 'at_opaque_token_value';

  it('prefers expires_in, counted from the request start', () => {
    expect(
      resolveExpiry({ now: NOW, expiresInSeconds: 3600, accessToken: opaque, defaultLifetimeSeconds: 60 }),
    ).toEqual({
      expiresAt: NOW + 3_600_000,
      source: 'expires_in',
    });
  });

  it('prefers expires_in over an explicit expiresAt and over a JWT exp', () => {
    const result = resolveExpiry({
      now: NOW,
      expiresInSeconds: 10,
      expiresAt: NOW + 999_999,
      accessToken: jwt({ exp: EXP_S }),
      defaultLifetimeSeconds: 60,
    });
    expect(result).toEqual({ expiresAt: NOW + 10_000, source: 'expires_in' });
  });

  it('rounds a fractional expires_in to whole milliseconds', () => {
    expect(
      resolveExpiry({ now: NOW, expiresInSeconds: 1.2345, accessToken: opaque, defaultLifetimeSeconds: null })
        .expiresAt,
    ).toBe(NOW + 1_235);
  });

  it('treats expires_in 0 as already expired, not as unknown', () => {
    expect(resolveExpiry({ now: NOW, expiresInSeconds: 0, accessToken: opaque, defaultLifetimeSeconds: 3600 })).toEqual(
      {
        expiresAt: NOW,
        source: 'expires_in',
      },
    );
  });

  it('uses an explicit expiresAt next, ahead of the JWT exp', () => {
    expect(
      resolveExpiry({
        now: NOW,
        expiresAt: NOW + 42_000,
        accessToken: jwt({ exp: EXP_S }),
        defaultLifetimeSeconds: 60,
      }),
    ).toEqual({ expiresAt: NOW + 42_000, source: 'expires_at' });
  });

  it('uses the JWT exp when nothing was said', () => {
    expect(resolveExpiry({ now: NOW, accessToken: jwt({ exp: EXP_S }), defaultLifetimeSeconds: 3600 })).toEqual({
      expiresAt: EXP_S * 1_000,
      source: 'jwt',
    });
  });

  it('uses a decimal JWT exp', () => {
    expect(
      resolveExpiry({ now: NOW, accessToken: jwt({ exp: 1_900_000_000.25 }), defaultLifetimeSeconds: null }),
    ).toEqual({
      expiresAt: 1_900_000_000_250,
      source: 'jwt',
    });
  });

  it('falls back to the provider default lifetime for a JWT without exp', () => {
    expect(resolveExpiry({ now: NOW, accessToken: jwt({ sub: 'x' }), defaultLifetimeSeconds: 3600 })).toEqual({
      expiresAt: NOW + 3_600_000,
      source: 'default',
    });
  });

  it('falls back to the provider default lifetime for an opaque token', () => {
    expect(resolveExpiry({ now: NOW, accessToken: opaque, defaultLifetimeSeconds: 7200 })).toEqual({
      expiresAt: NOW + 7_200_000,
      source: 'default',
    });
  });

  it('is unknown for an opaque token from a provider that declares no lifetime', () => {
    expect(resolveExpiry({ now: NOW, accessToken: opaque, defaultLifetimeSeconds: null })).toEqual({
      expiresAt: null,
      source: 'unknown',
    });
  });

  it('treats explicitly undefined fields as absent', () => {
    expect(
      resolveExpiry({
        now: NOW,
        expiresInSeconds: undefined,
        expiresAt: undefined,
        accessToken: opaque,
        defaultLifetimeSeconds: null,
      }),
    ).toEqual({ expiresAt: null, source: 'unknown' });
  });
});

describe('resolveExpiry with issuedAt', () => {
  const HOUR = 3_600_000;

  it('counts the default lifetime from the issue time', () => {
    expect(
      resolveExpiry({ now: NOW, accessToken: 'opaque', issuedAt: NOW - 30 * 60_000, defaultLifetimeSeconds: 7200 }),
    ).toEqual({ expiresAt: NOW + 90 * 60_000, source: 'default' });
  });

  it('an issue time in the future does not extend the lifetime', () => {
    expect(
      resolveExpiry({ now: NOW, accessToken: 'opaque', issuedAt: NOW + HOUR, defaultLifetimeSeconds: 7200 }),
    ).toEqual({
      expiresAt: NOW + 2 * HOUR,
      source: 'default',
    });
  });

  it('an issue time long past can yield an expiry already past', () => {
    expect(
      resolveExpiry({ now: NOW, accessToken: 'opaque', issuedAt: NOW - 3 * HOUR, defaultLifetimeSeconds: 7200 }),
    ).toEqual({ expiresAt: NOW - HOUR, source: 'default' });
  });

  it('does not matter when the provider said expires_in, gave an expiresAt or the token has an exp', () => {
    const issuedAt = NOW - HOUR;
    expect(
      resolveExpiry({ now: NOW, accessToken: 'opaque', issuedAt, expiresInSeconds: 600, defaultLifetimeSeconds: 7200 }),
    ).toEqual({ expiresAt: NOW + 600_000, source: 'expires_in' });
    expect(
      resolveExpiry({ now: NOW, accessToken: 'opaque', issuedAt, expiresAt: NOW + 5, defaultLifetimeSeconds: 7200 }),
    ).toEqual({ expiresAt: NOW + 5, source: 'expires_at' });
    expect(
      resolveExpiry({ now: NOW, accessToken: jwt({ exp: EXP_S }), issuedAt, defaultLifetimeSeconds: 7200 }),
    ).toEqual({ expiresAt: EXP_S * 1_000, source: 'jwt' });
  });

  it('leaves the expiry unknown when the provider declares no lifetime', () => {
    expect(
      resolveExpiry({ now: NOW, accessToken: 'opaque', issuedAt: NOW - HOUR, defaultLifetimeSeconds: null }),
    ).toEqual({
      expiresAt: null,
      source: 'unknown',
    });
  });
});
