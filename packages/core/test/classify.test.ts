import { describe, it, expect } from 'vitest';
import { classify, STANDARD_RULES, type ClassifyPolicy, type ProviderRules } from '../src/classify.ts';
import { DEFAULT_RESPONSE_SHAPE } from '../src/provider-definition.ts';
import type { TokenEndpointReply } from '../src/token-endpoint-reply.ts';

const NOW = Date.parse('Wed, 21 Oct 2015 07:20:00 GMT');
const policy: ClassifyPolicy = { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 };

function reply(
  status: number,
  body: string,
  headers: Record<string, string | undefined> = {},
  truncated = false,
): TokenEndpointReply {
  return { kind: 'response', status, headers, body, truncated };
}

const json = (value: unknown) => JSON.stringify(value);
const HTML_502 =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>\n';
const HTML_404 = '<html><head><title>404 Not Found</title></head><body>nginx</body></html>';

describe('classify', () => {
  describe('network failures', () => {
    it('a connection failure is transient "network" with no status', () => {
      expect(classify({ kind: 'network', timeout: false, code: 'ECONNREFUSED' }, NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'network',
        status: null,
      });
    });

    it('a reset without an error code is transient "network"', () => {
      expect(classify({ kind: 'network', timeout: false, code: null }, NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'network',
        status: null,
      });
    });

    it('a timeout is transient "timeout" with no status', () => {
      expect(classify({ kind: 'network', timeout: true, code: 'UND_ERR_HEADERS_TIMEOUT' }, NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'timeout',
        status: null,
      });
    });
  });

  describe('429', () => {
    it('a 429 with delay-seconds Retry-After waits that many seconds', () => {
      expect(classify(reply(429, '', { 'retry-after': '30' }), NOW, policy)).toEqual({
        kind: 'rate_limited',
        reason: 'rate_limited',
        retryAfterMs: 30_000,
        status: 429,
      });
    });

    it('a 429 with an HTTP-date Retry-After waits until that date', () => {
      const outcome = classify(reply(429, '', { 'retry-after': 'Wed, 21 Oct 2015 07:28:00 GMT' }), NOW, policy);
      expect(outcome).toMatchObject({ kind: 'rate_limited', retryAfterMs: 8 * 60_000 });
    });

    it('a 429 without Retry-After waits the default', () => {
      expect(classify(reply(429, '{"error":"rate_limited"}'), NOW, policy)).toMatchObject({
        kind: 'rate_limited',
        retryAfterMs: 60_000,
      });
    });

    it('a 429 with a garbage Retry-After waits the default', () => {
      expect(classify(reply(429, '', { 'retry-after': 'later' }), NOW, policy)).toMatchObject({ retryAfterMs: 60_000 });
    });

    it('a 429 cannot pause the provider longer than maxRetryAfterMs', () => {
      expect(classify(reply(429, '', { 'retry-after': '86400' }), NOW, policy)).toMatchObject({
        retryAfterMs: 600_000,
      });
    });

    it('a 429 is rate-limited even when its body says invalid_grant', () => {
      expect(classify(reply(429, json({ error: 'invalid_grant' })), NOW, policy).kind).toBe('rate_limited');
    });
  });

  describe('5xx', () => {
    for (const status of [500, 502, 503, 504, 599]) {
      it(`a ${status} is transient "server_error"`, () => {
        expect(classify(reply(status, 'oops'), NOW, policy)).toEqual({
          kind: 'transient',
          reason: 'server_error',
          status,
        });
      });
    }

    it('an HTML 502 from a proxy is transient "server_error"', () => {
      expect(classify(reply(502, HTML_502, { 'content-type': 'text/html' }), NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'server_error',
        status: 502,
      });
    });

    it('a 503 with Retry-After is still a plain server error (only 429 pauses the provider)', () => {
      expect(classify(reply(503, '', { 'retry-after': '120' }), NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'server_error',
        status: 503,
      });
    });

    it('a 500 carrying an invalid_grant body is retried, not treated as a revocation', () => {
      expect(classify(reply(500, json({ error: 'invalid_grant' })), NOW, policy)).toMatchObject({
        kind: 'transient',
        reason: 'server_error',
      });
    });
  });

  describe('truncated bodies', () => {
    it('a body cut at the size cap is transient "bad_response", even under 200 with a valid-looking prefix', () => {
      expect(classify(reply(200, '{"access_token":"at_x","expires_in":3600}', {}, true), NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'bad_response',
        status: 200,
      });
    });

    it('a cut body is never read as invalid_grant', () => {
      expect(classify(reply(400, json({ error: 'invalid_grant' }), {}, true), NOW, policy)).toMatchObject({
        kind: 'transient',
        reason: 'bad_response',
      });
    });

    it('truncated JSON under 200 (a proxy cut the upstream short) is transient "bad_response"', () => {
      expect(classify(reply(200, '{"access_token":"abc'), NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'bad_response',
        status: 200,
      });
    });
  });

  describe('invalid_grant', () => {
    for (const status of [400, 401, 404, 200]) {
      it(`invalid_grant under ${status} means the connection needs re-authorization`, () => {
        expect(
          classify(reply(status, json({ error: 'invalid_grant', error_description: 'revoked' })), NOW, policy),
        ).toEqual({
          kind: 'reauth',
          reason: 'invalid_grant',
          status,
        });
      });
    }
  });

  describe('fatal configuration errors', () => {
    for (const error of [
      'invalid_client',
      'unauthorized_client',
      'unsupported_grant_type',
      'invalid_request',
      'invalid_scope',
    ]) {
      it(`${error} is fatal: our configuration is wrong, no retry`, () => {
        expect(classify(reply(400, json({ error })), NOW, policy)).toEqual({
          kind: 'fatal',
          reason: error,
          status: 400,
        });
      });
    }

    it('invalid_client under 401 is fatal with status 401', () => {
      expect(
        classify(reply(401, json({ error: 'invalid_client' }), { 'www-authenticate': 'Basic' }), NOW, policy),
      ).toEqual({
        kind: 'fatal',
        reason: 'invalid_client',
        status: 401,
      });
    });
  });

  describe('unknown statuses and error codes', () => {
    it('an OAuth error code we do not know (temporarily_unavailable) is transient "unexpected_status"', () => {
      expect(classify(reply(400, json({ error: 'temporarily_unavailable' })), NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'unexpected_status',
        status: 400,
      });
    });

    it('a provider\'s own error code is transient "unexpected_status"', () => {
      expect(classify(reply(403, json({ error: 'account_suspended_maybe' })), NOW, policy)).toMatchObject({
        kind: 'transient',
        reason: 'unexpected_status',
      });
    });

    it('an HTML 404 from a proxy proves nothing about the grant: transient "unexpected_status"', () => {
      expect(classify(reply(404, HTML_404, { 'content-type': 'text/html' }), NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'unexpected_status',
        status: 404,
      });
    });

    it('a 400 with an empty body is transient "unexpected_status"', () => {
      expect(classify(reply(400, ''), NOW, policy)).toMatchObject({ kind: 'transient', reason: 'unexpected_status' });
    });

    it('a redirect is transient "unexpected_status"', () => {
      expect(classify(reply(302, '', { location: 'https://elsewhere' }), NOW, policy)).toMatchObject({
        kind: 'transient',
        reason: 'unexpected_status',
        status: 302,
      });
    });
  });

  describe('2xx', () => {
    it('a 200 without access_token is transient "bad_response"', () => {
      expect(classify(reply(200, json({ token_type: 'Bearer', expires_in: 3600 })), NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'bad_response',
        status: 200,
      });
    });

    it('an HTML 200 is transient "bad_response"', () => {
      expect(classify(reply(200, '<html>login</html>'), NOW, policy)).toMatchObject({
        kind: 'transient',
        reason: 'bad_response',
      });
    });

    it('a 200 with an unusable expires_in is transient "bad_response"', () => {
      expect(classify(reply(200, json({ access_token: 'at_x', expires_in: 'soon' })), NOW, policy)).toMatchObject({
        kind: 'transient',
        reason: 'bad_response',
      });
    });

    it('a success with a numeric expires_in yields the tokens', () => {
      expect(
        classify(
          reply(200, json({ access_token: 'at_new', refresh_token: 'rt_new', expires_in: 3600, token_type: 'Bearer' })),
          NOW,
          policy,
        ),
      ).toEqual({
        kind: 'success',
        tokens: { accessToken: 'at_new', refreshToken: 'rt_new', expiresInSeconds: 3600, tokenType: 'Bearer' },
        status: 200,
      });
    });

    it('a success with expires_in as a numeric string yields the number of seconds', () => {
      expect(classify(reply(200, json({ access_token: 'at_new', expires_in: '3599' })), NOW, policy)).toEqual({
        kind: 'success',
        tokens: { accessToken: 'at_new', expiresInSeconds: 3599 },
        status: 200,
      });
    });

    it('a 201 with tokens is a success too', () => {
      expect(classify(reply(201, json({ access_token: 'at_new' })), NOW, policy)).toMatchObject({
        kind: 'success',
        status: 201,
      });
    });
  });

  describe('secrecy', () => {
    it('an outcome for a garbage or error body carries nothing from the body', () => {
      const secret = 'rt_SHOULD_NEVER_APPEAR_0123456789';
      const bodies: [number, string][] = [
        [200, `{"refresh_token":"${secret}"}`],
        [200, `<html>${secret}</html>`],
        [400, json({ error: 'invalid_grant', error_description: secret })],
        [401, json({ error: 'invalid_client', error_description: secret })],
        [403, json({ error: 'other', error_description: secret })],
        [502, `<html>${secret}</html>`],
        [429, json({ message: secret })],
        [200, `{"access_token":"${secret}`],
      ];
      for (const [status, body] of bodies) {
        expect(JSON.stringify(classify(reply(status, body), NOW, policy))).not.toContain(secret);
      }
    });
  });
});

describe('classify with provider rules', () => {
  const github: ProviderRules = {
    response: DEFAULT_RESPONSE_SHAPE,
    errors: {
      bad_refresh_token: 'invalid_grant',
      incorrect_client_credentials: 'invalid_client',
      unverified_user_email: 'invalid_grant',
    },
  };
  const slack: ProviderRules = {
    response: { ...DEFAULT_RESPONSE_SHAPE, successFlag: 'ok' },
    errors: {
      invalid_refresh_token: 'invalid_grant',
      token_revoked: 'invalid_grant',
      invalid_client_id: 'invalid_client',
      bad_client_secret: 'invalid_client',
      invalid_grant_type: 'unsupported_grant_type',
      ratelimited: 'transient',
    },
  };

  it('STANDARD_RULES is the default', () => {
    const body = json({ error: 'bad_refresh_token' });
    expect(classify(reply(200, body), NOW, policy, STANDARD_RULES)).toEqual(classify(reply(200, body), NOW, policy));
  });

  describe('GitHub: errors with HTTP 200', () => {
    it('bad_refresh_token is reauth, even under HTTP 200', () => {
      expect(
        classify(reply(200, json({ error: 'bad_refresh_token', error_description: 'x' })), NOW, policy, github),
      ).toEqual({
        kind: 'reauth',
        reason: 'invalid_grant',
        status: 200,
      });
    });

    it('bad_refresh_token in a form-encoded answer is reauth too', () => {
      const body = 'error=bad_refresh_token&error_description=The+refresh+token+passed+is+incorrect+or+expired.';
      expect(
        classify(reply(200, body, { 'content-type': 'application/x-www-form-urlencoded' }), NOW, policy, github),
      ).toEqual({
        kind: 'reauth',
        reason: 'invalid_grant',
        status: 200,
      });
    });

    it('incorrect_client_credentials is fatal invalid_client', () => {
      expect(classify(reply(200, json({ error: 'incorrect_client_credentials' })), NOW, policy, github)).toEqual({
        kind: 'fatal',
        reason: 'invalid_client',
        status: 200,
      });
    });

    it('without the rules, an unknown code under 200 is only transient', () => {
      expect(classify(reply(200, json({ error: 'bad_refresh_token' })), NOW, policy)).toEqual({
        kind: 'transient',
        reason: 'unexpected_status',
        status: 200,
      });
    });

    it('a form-encoded success is a success', () => {
      const body =
        'access_token=ghu_x&expires_in=28800&refresh_token=ghr_y&refresh_token_expires_in=15897600&token_type=bearer';
      expect(classify(reply(200, body), NOW, policy, github)).toEqual({
        kind: 'success',
        tokens: {
          accessToken: 'ghu_x',
          refreshToken: 'ghr_y',
          expiresInSeconds: 28_800,
          refreshTokenExpiresInSeconds: 15_897_600,
          tokenType: 'bearer',
        },
        status: 200,
      });
    });
  });

  describe('Slack: ok false', () => {
    it('invalid_refresh_token is reauth', () => {
      expect(classify(reply(200, json({ ok: false, error: 'invalid_refresh_token' })), NOW, policy, slack)).toEqual({
        kind: 'reauth',
        reason: 'invalid_grant',
        status: 200,
      });
    });

    it('ratelimited is transient', () => {
      expect(classify(reply(200, json({ ok: false, error: 'ratelimited' })), NOW, policy, slack)).toEqual({
        kind: 'transient',
        reason: 'unexpected_status',
        status: 200,
      });
    });

    it('invalid_client_id is fatal invalid_client', () => {
      expect(classify(reply(200, json({ ok: false, error: 'invalid_client_id' })), NOW, policy, slack)).toEqual({
        kind: 'fatal',
        reason: 'invalid_client',
        status: 200,
      });
    });

    it('invalid_grant_type is fatal unsupported_grant_type', () => {
      expect(classify(reply(200, json({ ok: false, error: 'invalid_grant_type' })), NOW, policy, slack)).toEqual({
        kind: 'fatal',
        reason: 'unsupported_grant_type',
        status: 200,
      });
    });

    it('ok false without an error code is transient, never success', () => {
      expect(classify(reply(200, json({ ok: false })), NOW, policy, slack)).toEqual({
        kind: 'transient',
        reason: 'unexpected_status',
        status: 200,
      });
      expect(classify(reply(200, json({ access_token: 'xoxe.xoxb-1' })), NOW, policy, slack)).toEqual({
        kind: 'transient',
        reason: 'unexpected_status',
        status: 200,
      });
    });

    it('ok true with tokens is a success', () => {
      expect(
        classify(
          reply(200, json({ ok: true, access_token: 'xoxe.xoxb-1', refresh_token: 'xoxe-1-r', expires_in: 43_200 })),
          NOW,
          policy,
          slack,
        ),
      ).toEqual({
        kind: 'success',
        tokens: { accessToken: 'xoxe.xoxb-1', refreshToken: 'xoxe-1-r', expiresInSeconds: 43_200 },
        status: 200,
      });
    });
  });

  it('standard RFC 6749 codes keep their meaning next to provider rules', () => {
    expect(classify(reply(400, json({ error: 'invalid_grant' })), NOW, policy, slack).kind).toBe('reauth');
    expect(classify(reply(401, json({ error: 'invalid_client' })), NOW, policy, github)).toEqual({
      kind: 'fatal',
      reason: 'invalid_client',
      status: 401,
    });
  });

  it('a provider may downgrade a standard code (its invalid_grant is a bad moment)', () => {
    const lenient: ProviderRules = { response: DEFAULT_RESPONSE_SHAPE, errors: { invalid_grant: 'transient' } };
    expect(classify(reply(400, json({ error: 'invalid_grant' })), NOW, policy, lenient)).toEqual({
      kind: 'transient',
      reason: 'unexpected_status',
      status: 400,
    });
  });

  it('error codes that are Object.prototype names are just unknown codes', () => {
    for (const error of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(classify(reply(400, json({ error })), NOW, policy, github)).toEqual({
        kind: 'transient',
        reason: 'unexpected_status',
        status: 400,
      });
    }
  });

  it("reads the error through the provider's error path", () => {
    const nested: ProviderRules = {
      response: { ...DEFAULT_RESPONSE_SHAPE, error: 'error.code' },
      errors: { EXPIRED: 'invalid_grant' },
    };
    expect(classify(reply(400, json({ error: { code: 'EXPIRED' } })), NOW, policy, nested)).toEqual({
      kind: 'reauth',
      reason: 'invalid_grant',
      status: 400,
    });
  });

  it('429 and 5xx are decided before the rules are consulted', () => {
    expect(classify(reply(429, json({ ok: false, error: 'invalid_refresh_token' })), NOW, policy, slack).kind).toBe(
      'rate_limited',
    );
    expect(classify(reply(503, json({ error: 'bad_refresh_token' })), NOW, policy, github)).toEqual({
      kind: 'transient',
      reason: 'server_error',
      status: 503,
    });
  });
});
