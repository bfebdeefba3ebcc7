import { describe, it, expect } from 'vitest';
import { parseExpiresIn, parseTokenResponse } from '../src/token-response.ts';

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
