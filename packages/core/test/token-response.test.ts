import { describe, it, expect } from 'vitest';
import { DEFAULT_RESPONSE_SHAPE, type ResponseShape } from '../src/provider-definition.ts';
import { parseAbsoluteTime, parseExpiresIn, parseTokenResponse } from '../src/token-response.ts';

const json = (value: unknown) => JSON.stringify(value);

describe('parseTokenResponse', () => {
  describe('garbage', () => {
    it('an HTML page is garbage "not_json"', () => {
      expect(parseTokenResponse('<html><body>Bad Gateway</body></html>')).toEqual({ kind: 'garbage', why: 'not_json' });
    });

    it('truncated JSON is garbage "not_json"', () => {
      expect(parseTokenResponse('{"access_token":"abc')).toEqual({ kind: 'garbage', why: 'not_json' });
    });

    it('an empty body is garbage "not_json"', () => {
      expect(parseTokenResponse('')).toEqual({ kind: 'garbage', why: 'not_json' });
    });

    for (const [label, body] of [
      ['null', 'null'],
      ['an array', '[{"access_token":"at"}]'],
      ['a number', '42'],
      ['a string', '"at_token"'],
      ['a boolean', 'true'],
    ] as const) {
      it(`JSON ${label} is garbage "not_an_object"`, () => {
        expect(parseTokenResponse(body)).toEqual({ kind: 'garbage', why: 'not_an_object' });
      });
    }

    it('an object without access_token is garbage "no_access_token"', () => {
      expect(parseTokenResponse(json({ token_type: 'Bearer' }))).toEqual({ kind: 'garbage', why: 'no_access_token' });
    });

    it('an empty access_token is garbage "no_access_token"', () => {
      expect(parseTokenResponse(json({ access_token: '' }))).toEqual({ kind: 'garbage', why: 'no_access_token' });
    });

    it('a non-string access_token is garbage "no_access_token"', () => {
      expect(parseTokenResponse(json({ access_token: 12345 }))).toEqual({ kind: 'garbage', why: 'no_access_token' });
      expect(parseTokenResponse(json({ access_token: { value: 'x' } }))).toEqual({
        kind: 'garbage',
        why: 'no_access_token',
      });
    });

    for (const bad of ['soon', '', '  ', -1, '-5', true, [], {}, '1e400']) {
      it(`expires_in ${JSON.stringify(bad)} is garbage "bad_expires_in"`, () => {
        expect(parseTokenResponse(json({ access_token: 'at', expires_in: bad }))).toEqual({
          kind: 'garbage',
          why: 'bad_expires_in',
        });
      });
    }

    it('expires_in that overflows to Infinity as a JSON number is garbage "bad_expires_in"', () => {
      expect(parseTokenResponse('{"access_token":"at","expires_in":1e400}')).toEqual({
        kind: 'garbage',
        why: 'bad_expires_in',
      });
    });
  });

  describe('OAuth errors', () => {
    it('an RFC 6749 §5.2 error object yields its error code', () => {
      expect(
        parseTokenResponse(json({ error: 'invalid_grant', error_description: 'Token has been revoked.' })),
      ).toEqual({
        kind: 'oauth_error',
        error: 'invalid_grant',
      });
    });

    it('an error code wins even next to an access token', () => {
      expect(parseTokenResponse(json({ error: 'invalid_client', access_token: 'at' }))).toEqual({
        kind: 'oauth_error',
        error: 'invalid_client',
      });
    });

    it('an empty or non-string error field is not an OAuth error', () => {
      expect(parseTokenResponse(json({ error: '', access_token: 'at' }))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'at' },
      });
      expect(parseTokenResponse(json({ error: 42 }))).toEqual({ kind: 'garbage', why: 'no_access_token' });
      expect(parseTokenResponse(json({ error: { code: 'invalid_grant' } }))).toEqual({
        kind: 'garbage',
        why: 'no_access_token',
      });
    });
  });

  describe('tokens', () => {
    it('reads every RFC 6749 §5.1 field', () => {
      expect(
        parseTokenResponse(
          json({
            access_token: 'at_1',
            refresh_token: 'rt_1',
            expires_in: 3600,
            scope: 'read write',
            token_type: 'Bearer',
          }),
        ),
      ).toEqual({
        kind: 'tokens',
        tokens: {
          accessToken: 'at_1',
          refreshToken: 'rt_1',
          expiresInSeconds: 3600,
          scope: 'read write',
          tokenType: 'Bearer',
        },
      });
    });

    it('leaves refreshToken out when the provider did not rotate', () => {
      const parsed = parseTokenResponse(json({ access_token: 'at_1', expires_in: 3600 }));
      expect(parsed).toEqual({ kind: 'tokens', tokens: { accessToken: 'at_1', expiresInSeconds: 3600 } });
      expect(parsed.kind === 'tokens' && 'refreshToken' in parsed.tokens).toBe(false);
    });

    it('treats an empty or non-string refresh_token as absent', () => {
      expect(parseTokenResponse(json({ access_token: 'at', refresh_token: '' }))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'at' },
      });
      expect(parseTokenResponse(json({ access_token: 'at', refresh_token: 7 }))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'at' },
      });
    });

    it('ignores non-string scope and token_type', () => {
      expect(parseTokenResponse(json({ access_token: 'at', scope: ['a'], token_type: 1 }))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'at' },
      });
    });

    it('reads expires_in as a number', () => {
      expect(parseTokenResponse(json({ access_token: 'at', expires_in: 3599 }))).toMatchObject({
        tokens: { expiresInSeconds: 3599 },
      });
    });

    it('reads expires_in as a numeric string', () => {
      expect(parseTokenResponse(json({ access_token: 'at', expires_in: '3599' }))).toMatchObject({
        tokens: { expiresInSeconds: 3599 },
      });
      expect(parseTokenResponse(json({ access_token: 'at', expires_in: ' 60 ' }))).toMatchObject({
        tokens: { expiresInSeconds: 60 },
      });
    });

    it('accepts expires_in 0 and decimals', () => {
      expect(parseTokenResponse(json({ access_token: 'at', expires_in: 0 }))).toMatchObject({
        tokens: { expiresInSeconds: 0 },
      });
      expect(parseTokenResponse(json({ access_token: 'at', expires_in: 1.5 }))).toMatchObject({
        tokens: { expiresInSeconds: 1.5 },
      });
    });

    it('treats a null or missing expires_in as unknown rather than garbage', () => {
      const parsed = parseTokenResponse(json({ access_token: 'at', expires_in: null }));
      expect(parsed).toEqual({ kind: 'tokens', tokens: { accessToken: 'at' } });
    });

    it('ignores unknown fields such as id_token', () => {
      expect(parseTokenResponse(json({ access_token: 'at', id_token: 'eyJ.x.y', foo: 1 }))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'at' },
      });
    });
  });

  describe('never echoing the body', () => {
    const secret = 'SECRET_VALUE_7f3a9c1b2d';
    const bodies = [
      `<html>${secret}</html>`,
      `{"access_token":"${secret}`,
      `["${secret}"]`,
      `"${secret}"`,
      json({ refresh_token: secret }),
      json({ access_token: '', note: secret }),
      json({ error: 'invalid_grant', error_description: secret, error_uri: `https://x/${secret}` }),
      json({ access_token: 'at', expires_in: secret }),
    ];

    for (const body of bodies) {
      it(`the result for ${body.slice(0, 40)}… carries no part of the body beyond parsed fields`, () => {
        const result = parseTokenResponse(body);
        expect(JSON.stringify(result)).not.toContain(secret);
        expect(Object.keys(result).sort()).toEqual(result.kind === 'garbage' ? ['kind', 'why'] : ['error', 'kind']);
      });
    }

    it('a token result holds only the parsed token fields, not the raw body', () => {
      const body = json({ access_token: 'at', expires_in: 60, extra: secret, id_token: secret });
      const result = parseTokenResponse(body);
      expect(JSON.stringify(result)).not.toContain(secret);
      expect(Object.values(result)).not.toContain(body);
    });
  });
});

describe('parseExpiresIn', () => {
  it('accepts non-negative finite numbers and numeric strings', () => {
    expect(parseExpiresIn(3600)).toBe(3600);
    expect(parseExpiresIn('3600')).toBe(3600);
    expect(parseExpiresIn(0)).toBe(0);
    expect(parseExpiresIn('0')).toBe(0);
    expect(parseExpiresIn(2.5)).toBe(2.5);
  });

  it('rejects negatives, non-finite values, blanks and other types', () => {
    for (const bad of [-1, '-1', Number.NaN, Number.POSITIVE_INFINITY, '', ' ', 'abc', null, undefined, true, {}, []]) {
      expect(parseExpiresIn(bad)).toBeNull();
    }
  });
});

describe('parseExpiresIn with non-decimal strings', () => {
  it.each(['0x10', '1e3', '0b11', 'Infinity', '3600s'])('rejects %j', (value) => {
    expect(parseExpiresIn(value)).toBeNull();
  });
});

describe("parseTokenResponse with a provider's response shape", () => {
  const shape = (patch: Partial<ResponseShape>): ResponseShape => ({ ...DEFAULT_RESPONSE_SHAPE, ...patch });

  it('reads dotted paths into nested objects', () => {
    const slackUser = shape({
      accessToken: 'authed_user.access_token',
      refreshToken: 'authed_user.refresh_token',
      expiresIn: 'authed_user.expires_in',
    });
    expect(
      parseTokenResponse(
        json({ ok: true, authed_user: { access_token: 'xoxe.xoxp-1', refresh_token: 'xoxe-1-r', expires_in: 43_200 } }),
        slackUser,
      ),
    ).toEqual({
      kind: 'tokens',
      tokens: { accessToken: 'xoxe.xoxp-1', refreshToken: 'xoxe-1-r', expiresInSeconds: 43_200 },
    });
  });

  it('a dotted path that leads nowhere is absent, never a crash', () => {
    const nested = shape({ accessToken: 'data.token', refreshToken: 'data.refresh.value', error: 'data.error.code' });
    for (const body of [{}, { data: null }, { data: 'x' }, { data: { refresh: 3 } }, { data: [] }]) {
      expect(parseTokenResponse(json(body), nested)).toEqual({ kind: 'garbage', why: 'no_access_token' });
    }
    expect(parseTokenResponse(json({ data: { token: 't', refresh: { value: 'r' } } }), nested)).toEqual({
      kind: 'tokens',
      tokens: { accessToken: 't', refreshToken: 'r' },
    });
  });

  it('does not follow inherited properties', () => {
    expect(parseTokenResponse(json({ access_token: 'at' }), shape({ refreshToken: 'constructor.name' }))).toEqual({
      kind: 'tokens',
      tokens: { accessToken: 'at' },
    });
  });

  it('custom field names (the custom JSON endpoint)', () => {
    const custom = shape({ accessToken: 'accessToken', refreshToken: 'refreshToken', expiresIn: 'expiresIn' });
    expect(parseTokenResponse(json({ accessToken: 'a', refreshToken: 'r', expiresIn: 60 }), custom)).toEqual({
      kind: 'tokens',
      tokens: { accessToken: 'a', refreshToken: 'r', expiresInSeconds: 60 },
    });
    expect(parseTokenResponse(json({ access_token: 'a' }), custom)).toEqual({
      kind: 'garbage',
      why: 'no_access_token',
    });
  });

  it('refreshToken null ignores a refresh token in the answer', () => {
    expect(
      parseTokenResponse(
        json({ token: 'jwt', refresh_token: 'r' }),
        shape({ accessToken: 'token', refreshToken: null }),
      ),
    ).toEqual({ kind: 'tokens', tokens: { accessToken: 'jwt' } });
  });

  it('expiresIn null ignores expires_in entirely, even a bad one', () => {
    expect(parseTokenResponse(json({ access_token: 'a', expires_in: 'soon' }), shape({ expiresIn: null }))).toEqual({
      kind: 'tokens',
      tokens: { accessToken: 'a' },
    });
  });

  it('expiresIn in milliseconds becomes seconds', () => {
    const ms = shape({ expiresInUnit: 'milliseconds' });
    expect(parseTokenResponse(json({ access_token: 'a', expires_in: 3_600_000 }), ms)).toMatchObject({
      tokens: { expiresInSeconds: 3600 },
    });
    expect(parseTokenResponse(json({ access_token: 'a', expires_in: '1500' }), ms)).toMatchObject({
      tokens: { expiresInSeconds: 1.5 },
    });
    expect(parseTokenResponse(json({ access_token: 'a', expires_in: 'soon' }), ms)).toEqual({
      kind: 'garbage',
      why: 'bad_expires_in',
    });
  });

  describe('expiresAt', () => {
    const at = (format: ResponseShape['expiresAtFormat']) =>
      shape({ expiresAt: 'expires_at', expiresAtFormat: format });

    it('epoch seconds (a number or a numeric string) becomes epoch ms', () => {
      expect(parseTokenResponse(json({ access_token: 'a', expires_at: 1_900_000_000 }), at('epoch_seconds'))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'a', expiresAt: 1_900_000_000_000 },
      });
      expect(
        parseTokenResponse(json({ access_token: 'a', expires_at: '1900000000.5' }), at('epoch_seconds')),
      ).toMatchObject({ tokens: { expiresAt: 1_900_000_000_500 } });
    });

    it('epoch milliseconds stays as it is', () => {
      expect(
        parseTokenResponse(json({ access_token: 'a', expires_at: 1_900_000_000_123 }), at('epoch_milliseconds')),
      ).toMatchObject({ tokens: { expiresAt: 1_900_000_000_123 } });
      expect(
        parseTokenResponse(json({ access_token: 'a', expires_at: '1900000000123' }), at('epoch_milliseconds')),
      ).toMatchObject({ tokens: { expiresAt: 1_900_000_000_123 } });
    });

    it('ISO 8601, with Z or an offset', () => {
      expect(
        parseTokenResponse(json({ access_token: 'a', expires_at: '2030-01-01T00:00:00Z' }), at('iso8601')),
      ).toMatchObject({
        tokens: { expiresAt: Date.UTC(2030, 0, 1) },
      });
      expect(
        parseTokenResponse(json({ access_token: 'a', expires_at: '2030-01-01T02:00:00.250+02:00' }), at('iso8601')),
      ).toMatchObject({ tokens: { expiresAt: Date.UTC(2030, 0, 1) + 250 } });
    });

    it('an unreadable expiresAt is garbage "bad_expires_in"; a missing or null one is unknown', () => {
      for (const [format, value] of [
        ['iso8601', 'tomorrow'],
        ['iso8601', 1_900_000_000],
        ['iso8601', '2030-01-01'],
        ['iso8601', '2030-13-45T00:00:00Z'],
        ['epoch_seconds', '2030-01-01T00:00:00Z'],
        ['epoch_seconds', -5],
        ['epoch_milliseconds', 'soon'],
      ] as const) {
        expect(parseTokenResponse(json({ access_token: 'a', expires_at: value }), at(format))).toEqual({
          kind: 'garbage',
          why: 'bad_expires_in',
        });
      }
      expect(parseTokenResponse(json({ access_token: 'a', expires_at: null }), at('iso8601'))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'a' },
      });
      expect(parseTokenResponse(json({ access_token: 'a' }), at('iso8601'))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'a' },
      });
    });

    it('is read alongside expires_in when both are present (resolveExpiry picks)', () => {
      expect(
        parseTokenResponse(json({ access_token: 'a', expires_in: 60, expires_at: 1_900_000_000 }), at('epoch_seconds')),
      ).toEqual({ kind: 'tokens', tokens: { accessToken: 'a', expiresInSeconds: 60, expiresAt: 1_900_000_000_000 } });
    });
  });

  describe('issuedAt (Salesforce)', () => {
    const salesforce = shape({
      expiresIn: null,
      issuedAt: 'issued_at',
      issuedAtFormat: 'epoch_milliseconds',
      metadata: { instance_url: 'instance_url' },
    });
    const body = {
      access_token: '00Dxx0000001gPL!AR8AQJXg',
      signature: 'CMJ4l+CCaPQiKjoOEwEig9H4wqhpuLSk4J2urAe+fVg=',
      scope: 'refresh_token api',
      instance_url: 'https://acme.my.salesforce.com',
      id: 'https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS',
      token_type: 'Bearer',
      issued_at: '1700000000123',
    };

    it('reads the issue time (a millisecond string) and copies the instance URL into metadata', () => {
      expect(parseTokenResponse(json(body), salesforce)).toEqual({
        kind: 'tokens',
        tokens: {
          accessToken: '00Dxx0000001gPL!AR8AQJXg',
          issuedAt: 1_700_000_000_123,
          scope: 'refresh_token api',
          tokenType: 'Bearer',
          metadata: { instance_url: 'https://acme.my.salesforce.com' },
        },
      });
    });

    it('ignores an unreadable issue time rather than rejecting the tokens', () => {
      expect(parseTokenResponse(json({ ...body, issued_at: 'yesterday' }), salesforce)).toMatchObject({
        kind: 'tokens',
        tokens: { accessToken: body.access_token },
      });
      const parsed = parseTokenResponse(json({ ...body, issued_at: 'yesterday' }), salesforce);
      expect(parsed.kind === 'tokens' && 'issuedAt' in parsed.tokens).toBe(false);
    });

    it('reads issued_at in epoch seconds or ISO 8601 when the shape says so', () => {
      expect(
        parseTokenResponse(
          json({ access_token: 'a', iat: 1_700_000_000 }),
          shape({ issuedAt: 'iat', issuedAtFormat: 'epoch_seconds' }),
        ),
      ).toMatchObject({ tokens: { issuedAt: 1_700_000_000_000 } });
      expect(
        parseTokenResponse(
          json({ access_token: 'a', created: '2023-11-14T22:13:20Z' }),
          shape({ issuedAt: 'created', issuedAtFormat: 'iso8601' }),
        ),
      ).toMatchObject({ tokens: { issuedAt: 1_700_000_000_000 } });
    });
  });

  describe('metadata', () => {
    it('copies each configured path that holds a non-empty string, and nothing else', () => {
      const meta = shape({ metadata: { instance_url: 'instance_url', org: 'org.id', team: 'team.name', n: 'n' } });
      expect(
        parseTokenResponse(
          json({
            access_token: 'a',
            instance_url: 'https://x.my.salesforce.com',
            org: { id: 'o1' },
            team: { name: '' },
            n: 5,
          }),
          meta,
        ),
      ).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'a', metadata: { instance_url: 'https://x.my.salesforce.com', org: 'o1' } },
      });
    });

    it('leaves metadata out when nothing was found', () => {
      const parsed = parseTokenResponse(
        json({ access_token: 'a' }),
        shape({ metadata: { instance_url: 'instance_url' } }),
      );
      expect(parsed).toEqual({ kind: 'tokens', tokens: { accessToken: 'a' } });
    });
  });

  describe('refresh_token_expires_in', () => {
    it('is read in seconds, as a number or a numeric string', () => {
      expect(
        parseTokenResponse(json({ access_token: 'a', refresh_token: 'r', refresh_token_expires_in: 15_897_600 })),
      ).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'a', refreshToken: 'r', refreshTokenExpiresInSeconds: 15_897_600 },
      });
      expect(parseTokenResponse(json({ access_token: 'a', refresh_token_expires_in: '86400' }))).toMatchObject({
        tokens: { refreshTokenExpiresInSeconds: 86_400 },
      });
    });

    it('an unreadable value is ignored, not garbage', () => {
      expect(parseTokenResponse(json({ access_token: 'a', refresh_token_expires_in: 'never' }))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'a' },
      });
    });

    it('is not read when the shape says null', () => {
      expect(
        parseTokenResponse(
          json({ access_token: 'a', refresh_token_expires_in: 60 }),
          shape({ refreshTokenExpiresIn: null }),
        ),
      ).toEqual({ kind: 'tokens', tokens: { accessToken: 'a' } });
    });
  });

  describe('successFlag (Slack)', () => {
    const slack = shape({ successFlag: 'ok' });

    it('ok: true with tokens is a success', () => {
      expect(
        parseTokenResponse(
          json({ ok: true, access_token: 'xoxe.xoxb-1', refresh_token: 'xoxe-1', expires_in: 43_200 }),
          slack,
        ),
      ).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'xoxe.xoxb-1', refreshToken: 'xoxe-1', expiresInSeconds: 43_200 },
      });
    });

    it('ok: false yields the error code when there is one', () => {
      expect(parseTokenResponse(json({ ok: false, error: 'invalid_refresh_token' }), slack)).toEqual({
        kind: 'oauth_error',
        error: 'invalid_refresh_token',
      });
    });

    it("ok: false (or a missing or non-true ok) without an error code is oauth_error 'unsuccessful'", () => {
      for (const body of [
        { ok: false },
        { ok: false, error: '' },
        { access_token: 'a' },
        { ok: 'true', access_token: 'a' },
        { ok: 1, access_token: 'a' },
      ]) {
        expect(parseTokenResponse(json(body), slack)).toEqual({ kind: 'oauth_error', error: 'unsuccessful' });
      }
    });

    it('is not checked without a successFlag', () => {
      expect(parseTokenResponse(json({ ok: false, access_token: 'a' }))).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'a' },
      });
    });
  });

  describe('form-urlencoded bodies (GitHub)', () => {
    const GITHUB_FORM =
      'access_token=ghu_16C7e42F292c6912E7710c838347Ae178B4a&expires_in=28800&refresh_token=ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498&refresh_token_expires_in=15897600&scope=&token_type=bearer';
    const expected = {
      kind: 'tokens',
      tokens: {
        accessToken: 'ghu_16C7e42F292c6912E7710c838347Ae178B4a',
        refreshToken: 'ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498',
        expiresInSeconds: 28_800,
        refreshTokenExpiresInSeconds: 15_897_600,
        scope: '',
        tokenType: 'bearer',
      },
    };

    it('reads a form body with a form content type', () => {
      expect(
        parseTokenResponse(GITHUB_FORM, DEFAULT_RESPONSE_SHAPE, 'application/x-www-form-urlencoded; charset=utf-8'),
      ).toEqual(expected);
    });

    it('reads a form body without a content type', () => {
      expect(parseTokenResponse(GITHUB_FORM)).toEqual(expected);
      expect(parseTokenResponse(`${GITHUB_FORM}\n`)).toEqual(expected);
    });

    it('reads a form body under a misleading content type', () => {
      expect(parseTokenResponse(GITHUB_FORM, DEFAULT_RESPONSE_SHAPE, 'text/plain')).toEqual(expected);
    });

    it('decodes percent-escapes and "+"', () => {
      expect(parseTokenResponse('access_token=a%2Bb%3D&scope=repo+user')).toEqual({
        kind: 'tokens',
        tokens: { accessToken: 'a+b=', scope: 'repo user' },
      });
    });

    it('a form error answer yields its code', () => {
      expect(
        parseTokenResponse(
          'error=bad_refresh_token&error_description=The+refresh+token+passed+is+incorrect+or+expired.&error_uri=https%3A%2F%2Fdocs.github.com',
        ),
      ).toEqual({ kind: 'oauth_error', error: 'bad_refresh_token' });
    });

    it("GitHub's JSON error under HTTP 200 yields its code", () => {
      expect(parseTokenResponse(json({ error: 'bad_refresh_token', error_description: 'x', error_uri: 'y' }))).toEqual({
        kind: 'oauth_error',
        error: 'bad_refresh_token',
      });
    });

    it('plain text and HTML are still "not_json"', () => {
      for (const body of ['Bad Gateway', '<html><body>a=b</body></html>', 'a=b c', 'upstream connect error']) {
        expect(parseTokenResponse(body)).toEqual({ kind: 'garbage', why: 'not_json' });
      }
    });

    it('a form body without an access token is "no_access_token"', () => {
      expect(parseTokenResponse('token_type=bearer&scope=repo')).toEqual({ kind: 'garbage', why: 'no_access_token' });
    });

    it('never echoes the body', () => {
      const secret = 'SECRET_FORM_VALUE_9a1c';
      for (const body of [
        `refresh_token=${secret}`,
        `access_token=a&expires_in=${secret}`,
        `error=x&error_description=${secret}`,
      ]) {
        expect(JSON.stringify(parseTokenResponse(body))).not.toContain(secret);
      }
    });
  });
});

describe('parseAbsoluteTime', () => {
  it('converts each format to epoch milliseconds', () => {
    expect(parseAbsoluteTime(1_900_000_000, 'epoch_seconds')).toBe(1_900_000_000_000);
    expect(parseAbsoluteTime('1900000000', 'epoch_seconds')).toBe(1_900_000_000_000);
    expect(parseAbsoluteTime(1_900_000_000_123, 'epoch_milliseconds')).toBe(1_900_000_000_123);
    expect(parseAbsoluteTime('1900000000123.4', 'epoch_milliseconds')).toBe(1_900_000_000_123);
    expect(parseAbsoluteTime('2030-01-01T00:00:00Z', 'iso8601')).toBe(Date.UTC(2030, 0, 1));
  });

  it('returns null for anything unreadable', () => {
    for (const [value, format] of [
      ['x', 'epoch_seconds'],
      [null, 'epoch_seconds'],
      [-1, 'epoch_milliseconds'],
      ['1e3', 'epoch_milliseconds'],
      [1_900_000_000, 'iso8601'],
      ['Wed, 01 Jan 2030 00:00:00 GMT', 'iso8601'],
      ['2030-02-30T99:00:00Z', 'iso8601'],
    ] as const) {
      expect(parseAbsoluteTime(value, format)).toBeNull();
    }
  });
});
