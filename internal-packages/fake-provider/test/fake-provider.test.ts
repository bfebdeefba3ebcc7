import { describe, expect, it, vi } from 'vitest';
import { FakeProvider } from '../src/index.ts';
import { providerStarter } from './provider-starter.ts';

const start = providerStarter();

interface RefreshOptions {
  auth?: 'basic' | 'post' | 'both' | 'none';
  clientId?: string;
  clientSecret?: string;
  json?: boolean;
  params?: Record<string, string>;
  signal?: AbortSignal;
}

function basic(id: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode each part before base64.
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(id)}:${encode(secret)}`).toString('base64')}`;
}

function refresh(provider: FakeProvider, refreshToken: string | null, options: RefreshOptions = {}): Promise<Response> {
  const clientId = options.clientId ?? 'client-id';
  const clientSecret = options.clientSecret ?? 'client-secret';
  const auth = options.auth ?? 'basic';
  const params: Record<string, string> = { grant_type: 'refresh_token', ...options.params };
  if (refreshToken !== null) params.refresh_token = refreshToken;
  const headers: Record<string, string> = {};
  if (auth === 'basic' || auth === 'both') headers.authorization = basic(clientId, clientSecret);
  if (auth === 'post' || auth === 'both') {
    params.client_id = clientId;
    params.client_secret = clientSecret;
  }
  headers['content-type'] = options.json ? 'application/json' : 'application/x-www-form-urlencoded';
  const body = options.json ? JSON.stringify(params) : new URLSearchParams(params).toString();
  const init: RequestInit = { method: 'POST', headers, body };
  if (options.signal !== undefined) init.signal = options.signal;
  return fetch(provider.tokenUrl, init);
}

interface TokenReply {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}

async function refreshOk(provider: FakeProvider, refreshToken: string, options?: RefreshOptions): Promise<TokenReply> {
  const response = await refresh(provider, refreshToken, options);
  expect(response.status).toBe(200);
  return (await response.json()) as TokenReply;
}

async function expectError(response: Response, status: number, error: string): Promise<void> {
  expect(response.status).toBe(status);
  expect(await response.json()).toEqual({ error });
}

describe('FakeProvider basics', () => {
  it('listens on 127.0.0.1 and answers /healthz', async () => {
    const provider = await start();
    expect(provider.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(provider.tokenUrl).toBe(`${provider.url}/token`);
    const response = await fetch(`${provider.url}/healthz`);
    expect(response.status).toBe(200);
    await response.body?.cancel();
    expect(provider.requests).toHaveLength(0);
  });

  it('answers 404 elsewhere and 405 for GET /token', async () => {
    const provider = await start();
    const missing = await fetch(`${provider.url}/nope`);
    expect(missing.status).toBe(404);
    await missing.body?.cancel();
    const get = await fetch(provider.tokenUrl);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    await get.body?.cancel();
    expect(provider.requests.map((r) => r.outcome)).toEqual(['bad_request']);
  });

  it('close() is idempotent', async () => {
    const provider = await start();
    await Promise.all([provider.close(), provider.close()]);
    await provider.close();
  });
});

describe('client authentication', () => {
  it('accepts client_secret_basic and answers a RFC 6749 §5.1 token response', async () => {
    const provider = await start();
    const grant = provider.issue();
    const response = await refresh(provider, grant.refreshToken, { auth: 'basic' });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = (await response.json()) as TokenReply;
    expect(body).toEqual({
      access_token: expect.stringMatching(/^at_[A-Za-z0-9_-]{43}$/),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.stringMatching(/^rt_[A-Za-z0-9_-]{43}$/),
    });
    expect(body.refresh_token).not.toBe(grant.refreshToken);
  });

  it('accepts client_secret_post, as a form or as JSON', async () => {
    const provider = await start();
    const grant = provider.issue();
    const first = await refreshOk(provider, grant.refreshToken, { auth: 'post' });
    await refreshOk(provider, first.refresh_token ?? '', { auth: 'post', json: true });
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(2);
  });

  it('form-urlencodes Basic credentials before base64, and decodes them so', async () => {
    const clientId = 'my client:1';
    const clientSecret = 'se+cr/t%ü';
    const provider = await start({ clientId, clientSecret });
    const grant = provider.issue();
    await refreshOk(provider, grant.refreshToken, { clientId, clientSecret });

    // A client that skips the urlencoding step sends `+` raw, which decodes to a space: the secret no longer matches.
    const raw = `Basic ${Buffer.from(`my+client%3A1:${clientSecret}`).toString('base64')}`;
    const response = await fetch(provider.tokenUrl, {
      method: 'POST',
      headers: { authorization: raw, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: grant.refreshToken }).toString(),
    });
    expect(response.status).toBe(401);
    await response.body?.cancel();
  });

  it('rejects a wrong Basic secret with 401 invalid_client and a Basic challenge', async () => {
    const provider = await start();
    const grant = provider.issue();
    const response = await refresh(provider, grant.refreshToken, { clientSecret: 'wrong' });
    expect(response.headers.get('www-authenticate')).toBe('Basic');
    await expectError(response, 401, 'invalid_client');
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(0);
    expect(provider.requests.at(-1)).toMatchObject({ outcome: 'bad_client', status: 401, grantId: grant.grantId });
  });

  it('rejects wrong or missing body credentials with 401 and no challenge', async () => {
    const provider = await start();
    const grant = provider.issue();
    const wrongId = await refresh(provider, grant.refreshToken, { auth: 'post', clientId: 'other' });
    expect(wrongId.headers.get('www-authenticate')).toBeNull();
    await expectError(wrongId, 401, 'invalid_client');
    await expectError(await refresh(provider, grant.refreshToken, { auth: 'none' }), 401, 'invalid_client');
    expect(provider.requests.map((r) => r.outcome)).toEqual(['bad_client', 'bad_client']);
  });

  it('only accepts the configured method', async () => {
    const basicOnly = await start({ clientAuth: 'client_secret_basic' });
    const a = basicOnly.issue();
    await expectError(await refresh(basicOnly, a.refreshToken, { auth: 'post' }), 401, 'invalid_client');
    await refreshOk(basicOnly, a.refreshToken, { auth: 'basic' });

    const postOnly = await start({ clientAuth: 'client_secret_post' });
    const b = postOnly.issue();
    const viaBasic = await refresh(postOnly, b.refreshToken, { auth: 'basic' });
    expect(viaBasic.headers.get('www-authenticate')).toBe('Basic');
    await expectError(viaBasic, 401, 'invalid_client');
    await refreshOk(postOnly, b.refreshToken, { auth: 'post' });
  });

  it('refuses two authentication methods in one request (RFC 6749 §2.3)', async () => {
    const provider = await start();
    const grant = provider.issue();
    await expectError(await refresh(provider, grant.refreshToken, { auth: 'both' }), 400, 'invalid_request');
  });
});

describe('request validation', () => {
  it('answers invalid_request and unsupported_grant_type', async () => {
    const provider = await start();
    const grant = provider.issue();
    await expectError(await refresh(provider, null), 400, 'invalid_request');
    await expectError(
      await refresh(provider, grant.refreshToken, { params: { grant_type: 'authorization_code' } }),
      400,
      'unsupported_grant_type',
    );
    await expectError(
      await refresh(provider, grant.refreshToken, { params: { grant_type: '' } }),
      400,
      'invalid_request',
    );
    const noType = await fetch(provider.tokenUrl, {
      method: 'POST',
      headers: { authorization: basic('client-id', 'client-secret'), 'content-type': 'text/plain' },
      body: 'grant_type=refresh_token',
    });
    await expectError(noType, 400, 'invalid_request');
    expect(provider.requests.map((r) => r.outcome)).toEqual([
      'bad_request',
      'bad_request',
      'bad_request',
      'bad_request',
    ]);
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(0);
  });

  it('answers invalid_grant for a refresh token it never issued', async () => {
    const provider = await start();
    await expectError(await refresh(provider, 'rt_never-issued'), 400, 'invalid_grant');
    expect(provider.requests[0]).toMatchObject({
      outcome: 'unknown_token',
      grantId: null,
      refreshTokenPresented: 'rt_never-issued',
    });
  });
});

describe('rotation and reuse', () => {
  it('rotates on every refresh and invalidates the previous access token', async () => {
    const provider = await start();
    const grant = provider.issue();
    expect(provider.isAccessTokenValid(grant.accessToken)).toBe(true);

    const chain = [grant.refreshToken];
    const accessTokens = [grant.accessToken];
    for (let i = 0; i < 3; i += 1) {
      const reply = await refreshOk(provider, chain.at(-1) ?? '');
      chain.push(reply.refresh_token ?? '');
      accessTokens.push(reply.access_token);
    }

    expect(new Set(chain).size).toBe(4);
    expect(provider.grant(grant.grantId)).toEqual({
      revoked: false,
      revokedBecause: null,
      refreshCount: 3,
      currentRefreshToken: chain[3],
      currentAccessToken: accessTokens[3],
    });
    expect(accessTokens.map((t) => provider.isAccessTokenValid(t))).toEqual([false, false, false, true]);
    for (const token of chain) expect(provider.grantIdForRefreshToken(token)).toBe(grant.grantId);
    expect(provider.allIssuedTokens().sort()).toEqual([...chain, ...accessTokens].sort());
    expect(provider.reuseCount()).toBe(0);
  });

  it('revokes the whole grant when a used refresh token comes back', async () => {
    const provider = await start();
    const grant = provider.issue();
    const other = provider.issue();
    const next = await refreshOk(provider, grant.refreshToken);

    await expectError(await refresh(provider, grant.refreshToken), 400, 'invalid_grant');
    expect(provider.reuseCount()).toBe(1);
    expect(provider.grant(grant.grantId)).toMatchObject({ revoked: true, revokedBecause: 'reuse' });
    expect(provider.isAccessTokenValid(next.access_token)).toBe(false);

    // The newest token of the grant dies with it.
    await expectError(await refresh(provider, next.refresh_token ?? ''), 400, 'invalid_grant');
    expect(provider.requests.map((r) => r.outcome)).toEqual(['ok', 'reused', 'revoked']);
    expect(provider.requests.map((r) => r.grantId)).toEqual([grant.grantId, grant.grantId, grant.grantId]);

    // Other grants are untouched.
    await refreshOk(provider, other.refreshToken);
    expect(provider.reuseCount()).toBe(1);
  });

  it('decides concurrent refreshes with one token exactly once', async () => {
    const provider = await start();
    const grant = provider.issue();
    const responses = await Promise.all([refresh(provider, grant.refreshToken), refresh(provider, grant.refreshToken)]);
    await Promise.all(responses.map(async (r) => r.body?.cancel()));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 400]);
    expect(provider.reuseCount()).toBe(1);
    expect(provider.grant(grant.grantId)?.revokedBecause).toBe('reuse');
  });

  it('with revokeOnReuse off, refuses the used token but keeps the grant', async () => {
    const provider = await start({ revokeOnReuse: false });
    const grant = provider.issue();
    const next = await refreshOk(provider, grant.refreshToken);
    await expectError(await refresh(provider, grant.refreshToken), 400, 'invalid_grant');
    expect(provider.reuseCount()).toBe(1);
    expect(provider.grant(grant.grantId)?.revoked).toBe(false);
    await refreshOk(provider, next.refresh_token ?? '');
    expect(provider.requests.map((r) => r.outcome)).toEqual(['ok', 'reused', 'ok']);
  });

  it('without rotation, keeps the refresh token and omits it from the response', async () => {
    const provider = await start({ rotateRefreshTokens: false, accessTokenLifetimeSeconds: 60 });
    const grant = provider.issue();
    const first = await refreshOk(provider, grant.refreshToken);
    const second = await refreshOk(provider, grant.refreshToken);
    expect(first).not.toHaveProperty('refresh_token');
    expect(first.expires_in).toBe(60);
    expect(first.access_token).not.toBe(second.access_token);
    expect(provider.isAccessTokenValid(first.access_token)).toBe(false);
    expect(provider.isAccessTokenValid(second.access_token)).toBe(true);
    expect(provider.grant(grant.grantId)).toMatchObject({ refreshCount: 2, currentRefreshToken: grant.refreshToken });
    expect(provider.reuseCount()).toBe(0);
  });

  it('answers invalid_grant for a manually revoked grant', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.revoke(grant.grantId);
    expect(provider.isAccessTokenValid(grant.accessToken)).toBe(false);
    await expectError(await refresh(provider, grant.refreshToken), 400, 'invalid_grant');
    expect(provider.grant(grant.grantId)).toMatchObject({ revoked: true, revokedBecause: 'manual', refreshCount: 0 });
    expect(provider.requests[0]?.outcome).toBe('revoked');
    expect(() => provider.revoke('grant_nope')).toThrow(/no grant/);
  });

  it('honours expiresIn, scope and setAccessTokenLifetime', async () => {
    const provider = await start();
    const expired = provider.issue({ expiresIn: 0 });
    expect(expired.expiresIn).toBe(0);
    expect(provider.isAccessTokenValid(expired.accessToken)).toBe(false);
    expect(provider.isAccessTokenValid('at_unknown')).toBe(false);

    provider.setAccessTokenLifetime(120);
    const grant = provider.issue({ scope: 'openid email' });
    expect(grant.expiresIn).toBe(120);
    const reply = await refreshOk(provider, grant.refreshToken);
    expect(reply).toMatchObject({ expires_in: 120, scope: 'openid email' });
    expect(() => provider.setAccessTokenLifetime(-1)).toThrow(RangeError);
  });
});

describe('faults', () => {
  it('answers status faults, with custom headers and body', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.injectFaults([
      { kind: 'status', status: 503 },
      { kind: 'status', status: 429, headers: { 'Retry-After': '7' }, body: '{"error":"rate_limited"}' },
    ]);

    const unavailable = await refresh(provider, grant.refreshToken);
    expect(unavailable.status).toBe(503);
    expect(await unavailable.text()).toBe('Service Unavailable');

    const limited = await refresh(provider, grant.refreshToken);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('7');
    expect(limited.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await limited.json()).toEqual({ error: 'rate_limited' });

    // Faults never touch grant state, and normal behaviour resumes once they are used up.
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(0);
    await refreshOk(provider, grant.refreshToken);
    expect(provider.requests.map((r) => [r.status, r.outcome, r.fault, r.grantId])).toEqual([
      [503, 'fault', 'status', grant.grantId],
      [429, 'fault', 'status', grant.grantId],
      [200, 'ok', null, grant.grantId],
    ]);
  });

  it('answers an HTML 502', async () => {
    const provider = await start();
    provider.injectFaults([{ kind: 'html' }]);
    const response = await refresh(provider, provider.issue().refreshToken);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await response.text()).toMatch(/<html>/);
  });

  it('answers 200 with truncated JSON', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.injectFaults([{ kind: 'truncated-json' }]);
    const response = await refresh(provider, grant.refreshToken);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toBe('{"access_token":"abc');
    expect(() => JSON.parse(text) as unknown).toThrow(SyntaxError);
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(0);
  });

  it('answers invalid_grant without revoking anything', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.injectFaults([{ kind: 'invalid-grant' }]);
    await expectError(await refresh(provider, grant.refreshToken), 400, 'invalid_grant');
    expect(provider.grant(grant.grantId)).toMatchObject({ revoked: false, refreshCount: 0 });
    await refreshOk(provider, grant.refreshToken);
    expect(provider.reuseCount()).toBe(0);
  });

  it('delays a normal answer', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.injectFaults([{ kind: 'delay', ms: 150 }]);
    const began = performance.now();
    const reply = await refreshOk(provider, grant.refreshToken);
    expect(performance.now() - began).toBeGreaterThanOrEqual(140);
    expect(provider.grant(grant.grantId)?.currentRefreshToken).toBe(reply.refresh_token);
    expect(provider.requests[0]).toMatchObject({ status: 200, outcome: 'ok', fault: 'delay' });
  });

  it('rotates during a delay even when the client gives up, so the old token is then a reuse', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.injectFaults([{ kind: 'delay', ms: 60_000 }]);
    const controller = new AbortController();
    const pending = refresh(provider, grant.refreshToken, { signal: controller.signal });
    await vi.waitFor(() => expect(provider.requests).toHaveLength(1));
    controller.abort();
    await expect(pending).rejects.toThrow();

    expect(provider.grant(grant.grantId)?.refreshCount).toBe(1);
    await expectError(await refresh(provider, grant.refreshToken), 400, 'invalid_grant');
    expect(provider.reuseCount()).toBe(1);
  });

  it('adds latencyMs before every answer', async () => {
    const provider = await start({ latencyMs: 100 });
    const began = performance.now();
    await refreshOk(provider, provider.issue().refreshToken);
    expect(performance.now() - began).toBeGreaterThanOrEqual(90);
  });

  it('hangs until the client times out, and close() still resolves promptly', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.injectFaults([{ kind: 'hang' }, { kind: 'hang' }]);

    const timedOut = refresh(provider, grant.refreshToken, { signal: AbortSignal.timeout(100) });
    await expect(timedOut).rejects.toMatchObject({ name: 'TimeoutError' });

    // A second hang with no client timeout: only close() can end it.
    const stuck = refresh(provider, grant.refreshToken);
    const stuckOutcome = stuck.then(
      () => 'answered',
      () => 'failed',
    );
    await vi.waitFor(() => expect(provider.requests).toHaveLength(2));
    const began = performance.now();
    await provider.close();
    expect(performance.now() - began).toBeLessThan(1_000);
    expect(await stuckOutcome).toBe('failed');
    expect(provider.requests.map((r) => [r.status, r.outcome, r.fault])).toEqual([
      [0, 'fault', 'hang'],
      [0, 'fault', 'hang'],
    ]);
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(0);
  });

  it('close() ends pending delays at once', async () => {
    const provider = await start({ latencyMs: 60_000 });
    const pending = refresh(provider, provider.issue().refreshToken).then(
      () => 'answered',
      () => 'failed',
    );
    await vi.waitFor(() => expect(provider.requests).toHaveLength(1));
    const began = performance.now();
    await provider.close();
    expect(performance.now() - began).toBeLessThan(1_000);
    expect(await pending).toBe('failed');
  });

  it('resets the connection without answering', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.injectFaults([{ kind: 'reset' }]);
    await expect(refresh(provider, grant.refreshToken)).rejects.toThrow(TypeError);
    expect(provider.requests[0]).toMatchObject({ status: 0, outcome: 'fault', fault: 'reset', grantId: grant.grantId });
    expect(provider.grant(grant.grantId)?.refreshCount).toBe(0);
    await refreshOk(provider, grant.refreshToken);
  });

  it('keeps a persistent fault until cleared, after any injected ones', async () => {
    const provider = await start();
    const grant = provider.issue();
    provider.setFaultForAll({ kind: 'status', status: 500 });
    provider.injectFaults([{ kind: 'invalid-grant' }]);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await refresh(provider, grant.refreshToken);
      statuses.push(response.status);
      await response.body?.cancel();
    }
    expect(statuses).toEqual([400, 500, 500]);
    provider.setFaultForAll(null);
    await refreshOk(provider, grant.refreshToken);
    expect(provider.requests.map((r) => r.outcome)).toEqual(['fault', 'fault', 'fault', 'ok']);
  });

  it('hits only the given fraction of requests with a persistent fault, as its random source decides', async () => {
    const provider = await start();
    const grant = provider.issue();
    // A seeded-like source: below 0.3 on the 1st and 3rd draws only.
    const draws = [0.1, 0.9, 0.2, 0.5];
    provider.setFaultForAll(
      { kind: 'status', status: 429, headers: { 'retry-after': '5' } },
      { fraction: 0.3, random: () => draws.shift() ?? 1 },
    );
    let token = grant.refreshToken;
    const answers: string[] = [];
    for (let i = 0; i < 4; i += 1) {
      const response = await refresh(provider, token);
      answers.push(`${response.status} ${response.headers.get('retry-after') ?? '-'}`);
      const text = await response.text();
      if (response.status === 200) token = (JSON.parse(text) as { refresh_token?: string }).refresh_token ?? token;
    }
    expect(answers).toEqual(['429 5', '200 -', '429 5', '200 -']);
  });

  it('rejects nonsense faults up front', async () => {
    const provider = await start();
    expect(() => provider.injectFaults([{ kind: 'status', status: 42 }])).toThrow(RangeError);
    expect(() => provider.setFaultForAll({ kind: 'delay', ms: -1 })).toThrow(RangeError);
    expect(() => provider.setFaultForAll({ kind: 'status', status: 429 }, { fraction: 0 })).toThrow(/fraction/);
    expect(() => provider.setFaultForAll({ kind: 'status', status: 429 }, { fraction: 1.5 })).toThrow(/fraction/);
  });
});

describe('records', () => {
  it('records every /token request in order, with what was presented', async () => {
    const provider = await start();
    const grant = provider.issue();
    const before = Date.now();
    provider.injectFaults([{ kind: 'status', status: 503 }]);
    await (await refresh(provider, grant.refreshToken)).body?.cancel();
    const reply = await refreshOk(provider, grant.refreshToken);
    await (await refresh(provider, grant.refreshToken, { clientSecret: 'nope' })).body?.cancel();
    await (await refresh(provider, 'rt_bogus')).body?.cancel();

    const records = provider.requests;
    expect(records).toEqual([
      {
        at: expect.any(Number),
        grantId: grant.grantId,
        refreshTokenPresented: grant.refreshToken,
        grantType: 'refresh_token',
        scope: null,
        mediaType: 'application/x-www-form-urlencoded',
        status: 503,
        outcome: 'fault',
        fault: 'status',
      },
      {
        at: expect.any(Number),
        grantId: grant.grantId,
        refreshTokenPresented: grant.refreshToken,
        grantType: 'refresh_token',
        scope: null,
        mediaType: 'application/x-www-form-urlencoded',
        status: 200,
        outcome: 'ok',
        fault: null,
      },
      {
        at: expect.any(Number),
        grantId: grant.grantId,
        refreshTokenPresented: grant.refreshToken,
        grantType: 'refresh_token',
        scope: null,
        mediaType: 'application/x-www-form-urlencoded',
        status: 401,
        outcome: 'bad_client',
        fault: null,
      },
      {
        at: expect.any(Number),
        grantId: null,
        refreshTokenPresented: 'rt_bogus',
        grantType: 'refresh_token',
        scope: null,
        mediaType: 'application/x-www-form-urlencoded',
        status: 400,
        outcome: 'unknown_token',
        fault: null,
      },
    ]);
    const times = records.map((r) => r.at);
    expect(times[0]).toBeGreaterThanOrEqual(before);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // The bad_client request carried a used token but was refused before the token was looked at: no reuse.
    expect(provider.reuseCount()).toBe(0);
    expect(provider.grant(grant.grantId)?.currentRefreshToken).toBe(reply.refresh_token);
  });
});

describe('reuse grace period', () => {
  it('forgives the just-replaced refresh token once inside the grace period, answering with the current one', async () => {
    const provider = await FakeProvider.start({ reuseGraceSeconds: 30 });
    try {
      const grant = provider.issue();
      const form = (token: string) =>
        fetch(provider.tokenUrl, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from('client-id:client-secret').toString('base64')}`,
          },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }).toString(),
        });
      const first = (await (await form(grant.refreshToken)).json()) as { refresh_token: string };
      const again = await form(grant.refreshToken);
      expect(again.status).toBe(200);
      expect(((await again.json()) as { refresh_token: string }).refresh_token).toBe(first.refresh_token);
      expect(provider.graceReuseCount()).toBe(1);
      expect(provider.reuseCount()).toBe(0);
      // Once the successor has been used, the old token is plain reuse again.
      await form(first.refresh_token);
      expect((await form(grant.refreshToken)).status).toBe(400);
      expect(provider.reuseCount()).toBe(1);
      expect(provider.grant(grant.grantId)!.revoked).toBe(true);
    } finally {
      await provider.close();
    }
  });
});
