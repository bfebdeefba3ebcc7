import { constants, generateKeyPairSync, verify } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { freePort as closedPort } from '@evergreen/test-support/free-port';
import { afterEach, describe, it, expect } from 'vitest';
import { Agent, MockAgent } from 'undici';
import {
  classify,
  parseProviderEntry,
  resolveTokenUrl,
  type ProviderDefinition,
  type ProviderEntry,
  type TokenEndpointReply,
} from '@evergreen/core';
import { FakeProvider, type FakeProviderOptions } from '@evergreen/fake-provider';
import { TokenClient, type TokenClientOptions } from '../src/index.ts';

const started: FakeProvider[] = [];
const clients: TokenClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

async function fake(options?: FakeProviderOptions): Promise<FakeProvider> {
  const provider = await FakeProvider.start(options);
  started.push(provider);
  return provider;
}

const defaults: TokenClientOptions = {
  connectTimeoutMs: 2_000,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 10_000,
  deadlineMs: 10_000,
  maxResponseBytes: 64 * 1024,
};

function client(options: Partial<TokenClientOptions> = {}): TokenClient {
  const c = new TokenClient({ ...defaults, ...options });
  clients.push(c);
  return c;
}

function definition(tokenUrl: string, patch: Partial<ProviderEntry> = {}): ProviderDefinition {
  const result = parseProviderEntry({
    id: 'fake',
    tokenUrl,
    clientId: 'client-id',
    clientSecret: 'client-secret',
    clientAuth: 'client_secret_basic',
    ...patch,
  });
  if (!result.ok) throw new Error(`bad test provider: ${JSON.stringify(result.issues)}`);
  return result.provider;
}

/** One refresh_token-grant request to the provider's own token URL. */
function refresh(
  tokens: TokenClient,
  provider: ProviderDefinition,
  refreshToken: string,
  signal?: AbortSignal,
): ReturnType<TokenClient['request']> {
  return tokens.request(provider, provider.tokenUrl, { refreshToken, scopes: [] }, signal);
}

const policy = { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 };

function response(reply: TokenEndpointReply): Extract<TokenEndpointReply, { kind: 'response' }> {
  if (reply.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(reply)}`);
  return reply;
}

describe('TokenClient against the fake provider', () => {
  it('a successful refresh comes back as a 200 response with the new tokens', async () => {
    const provider = await fake({ accessTokenLifetimeSeconds: 1800 });
    const { refreshToken } = provider.issue();
    const before = Date.now();
    const exchange = await refresh(client(), definition(provider.tokenUrl), refreshToken);
    const reply = response(exchange.reply);

    expect(reply.status).toBe(200);
    expect(reply.truncated).toBe(false);
    expect(reply.headers['content-type']).toContain('application/json');
    expect(reply.headers['cache-control']).toBe('no-store');
    const outcome = classify(reply, exchange.startedAt, policy);
    expect(outcome.kind).toBe('success');
    if (outcome.kind !== 'success') return;
    expect(outcome.tokens.expiresInSeconds).toBe(1800);
    expect(outcome.tokens.tokenType).toBe('Bearer');
    expect(provider.isAccessTokenValid(outcome.tokens.accessToken)).toBe(true);
    expect(outcome.tokens.refreshToken).toMatch(/^rt_/);
    expect(outcome.tokens.refreshToken).not.toBe(refreshToken);

    expect(exchange.startedAt).toBeGreaterThanOrEqual(before);
    expect(exchange.durationMs).toBeGreaterThanOrEqual(0);
    expect(exchange.startedAt + exchange.durationMs).toBeLessThanOrEqual(Date.now());
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0]).toMatchObject({ refreshTokenPresented: refreshToken, status: 200, outcome: 'ok' });
  });

  it('client_secret_basic with a secret containing ":", "+", " " and non-ASCII is accepted by a strict RFC 6749 server', async () => {
    const provider = await fake({
      clientAuth: 'client_secret_basic',
      clientId: 'id:with+odd chars',
      clientSecret: 'p:a+s s/é%ü🔑',
    });
    const { refreshToken } = provider.issue();
    const exchange = await refresh(
      client(),
      definition(provider.tokenUrl, { clientId: 'id:with+odd chars', clientSecret: 'p:a+s s/é%ü🔑' }),
      refreshToken,
    );
    expect(response(exchange.reply).status).toBe(200);
  });

  it('client_secret_post is accepted by a server that only takes credentials in the body', async () => {
    const provider = await fake({ clientAuth: 'client_secret_post', clientSecret: 'p:a+s s/é' });
    const { refreshToken } = provider.issue();
    const exchange = await refresh(
      client(),
      definition(provider.tokenUrl, { clientAuth: 'client_secret_post', clientSecret: 'p:a+s s/é' }),
      refreshToken,
    );
    expect(response(exchange.reply).status).toBe(200);
  });

  it('a wrong client secret comes back as 401 invalid_client, which classifies as fatal', async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    const exchange = await refresh(client(), definition(provider.tokenUrl, { clientSecret: 'wrong' }), refreshToken);
    const reply = response(exchange.reply);
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('Basic');
    expect(classify(reply, exchange.startedAt, policy)).toEqual({
      kind: 'fatal',
      reason: 'invalid_client',
      status: 401,
    });
  });

  it('an unknown refresh token comes back as 400 invalid_grant, which classifies as reauth', async () => {
    const provider = await fake();
    const exchange = await refresh(client(), definition(provider.tokenUrl), 'rt_never_issued');
    const reply = response(exchange.reply);
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({ error: 'invalid_grant' });
    expect(classify(reply, exchange.startedAt, policy)).toEqual({
      kind: 'reauth',
      reason: 'invalid_grant',
      status: 400,
    });
  });

  it('a reused (already rotated) refresh token comes back as 400 invalid_grant', async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    const tokens = client();
    expect(response((await refresh(tokens, definition(provider.tokenUrl), refreshToken)).reply).status).toBe(200);
    const reply = response((await refresh(tokens, definition(provider.tokenUrl), refreshToken)).reply);
    expect(reply.status).toBe(400);
    expect(classify(reply, Date.now(), policy).kind).toBe('reauth');
    expect(provider.reuseCount()).toBe(1);
  });

  it("an 'invalid-grant' fault comes back as 400 invalid_grant", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'invalid-grant' }]);
    const reply = response((await refresh(client(), definition(provider.tokenUrl), refreshToken)).reply);
    expect(reply.status).toBe(400);
    expect(classify(reply, Date.now(), policy).kind).toBe('reauth');
  });

  it('a refused connection comes back as a network reply, not a timeout, with ECONNREFUSED', async () => {
    const port = await closedPort();
    const exchange = await refresh(client(), definition(`http://127.0.0.1:${port}/token`), 'rt_secret_refused');
    expect(exchange.reply).toEqual({ kind: 'network', timeout: false, code: 'ECONNREFUSED' });
    expect(classify(exchange.reply, exchange.startedAt, policy)).toEqual({
      kind: 'transient',
      reason: 'network',
      status: null,
    });
  });

  it("a 'hang' fault comes back as a timeout reply within the deadline", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'hang' }]);
    const deadlineMs = 300;
    const exchange = await refresh(client({ deadlineMs }), definition(provider.tokenUrl), refreshToken);
    expect(exchange.reply).toMatchObject({ kind: 'network', timeout: true });
    expect(exchange.durationMs).toBeGreaterThanOrEqual(deadlineMs - 20);
    expect(exchange.durationMs).toBeLessThan(deadlineMs + 2_000);
    expect(classify(exchange.reply, exchange.startedAt, policy)).toEqual({
      kind: 'transient',
      reason: 'timeout',
      status: null,
    });
    expect(provider.requests[0]).toMatchObject({ fault: 'hang', status: 0 });
  });

  it('a server slower than the headers timeout comes back as a timeout reply before the deadline', async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'hang' }]);
    const exchange = await refresh(
      client({ headersTimeoutMs: 200, deadlineMs: 10_000 }),
      definition(provider.tokenUrl),
      refreshToken,
    );
    expect(exchange.reply).toEqual({ kind: 'network', timeout: true, code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect(exchange.durationMs).toBeLessThan(5_000);
  });

  it("a 'delay' fault longer than the deadline comes back as a timeout reply", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'delay', ms: 5_000 }]);
    const exchange = await refresh(client({ deadlineMs: 250 }), definition(provider.tokenUrl), refreshToken);
    expect(exchange.reply).toMatchObject({ kind: 'network', timeout: true });
    expect(exchange.durationMs).toBeLessThan(2_500);
  });

  it("a 'reset' fault comes back as a network reply, not a timeout", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'reset' }]);
    const exchange = await refresh(client(), definition(provider.tokenUrl), refreshToken);
    expect(exchange.reply).toMatchObject({ kind: 'network', timeout: false });
    expect(classify(exchange.reply, exchange.startedAt, policy)).toEqual({
      kind: 'transient',
      reason: 'network',
      status: null,
    });
  });

  it('a body over maxResponseBytes is cut at the cap and marked truncated', async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    const big = JSON.stringify({ access_token: `at_${'a'.repeat(200_000)}`, expires_in: 3600 });
    provider.injectFaults([{ kind: 'status', status: 200, body: big }]);
    const exchange = await refresh(client({ maxResponseBytes: 1024 }), definition(provider.tokenUrl), refreshToken);
    const reply = response(exchange.reply);
    expect(reply.truncated).toBe(true);
    expect(Buffer.byteLength(reply.body)).toBe(1024);
    expect(big.startsWith(reply.body)).toBe(true);
    expect(classify(reply, exchange.startedAt, policy)).toEqual({
      kind: 'transient',
      reason: 'bad_response',
      status: 200,
    });
  });

  it('a body of exactly maxResponseBytes is read whole; one byte more is truncated', async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    const exact = JSON.stringify({ access_token: 'at_x', pad: '' }).length;
    const body = (size: number) => JSON.stringify({ access_token: 'at_x', pad: 'p'.repeat(size - exact) });
    provider.injectFaults([
      { kind: 'status', status: 200, body: body(2048) },
      { kind: 'status', status: 200, body: body(2049) },
    ]);
    const tokens = client({ maxResponseBytes: 2048 });
    const whole = response((await refresh(tokens, definition(provider.tokenUrl), refreshToken)).reply);
    expect(whole.truncated).toBe(false);
    expect(whole.body).toBe(body(2048));
    const cut = response((await refresh(tokens, definition(provider.tokenUrl), refreshToken)).reply);
    expect(cut.truncated).toBe(true);
    expect(cut.body.length).toBe(2048);
  });

  it("an 'html' fault comes back as a 502 with the page, classified as a server error", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'html' }]);
    const exchange = await refresh(client(), definition(provider.tokenUrl), refreshToken);
    const reply = response(exchange.reply);
    expect(reply.status).toBe(502);
    expect(reply.body).toContain('<html>');
    expect(classify(reply, exchange.startedAt, policy)).toEqual({
      kind: 'transient',
      reason: 'server_error',
      status: 502,
    });
  });

  it("a 'truncated-json' fault comes back whole but unusable: bad_response", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'truncated-json' }]);
    const exchange = await refresh(client(), definition(provider.tokenUrl), refreshToken);
    const reply = response(exchange.reply);
    expect(reply).toMatchObject({ status: 200, truncated: false, body: '{"access_token":"abc' });
    expect(classify(reply, exchange.startedAt, policy)).toMatchObject({ kind: 'transient', reason: 'bad_response' });
  });

  it('a 429 keeps its Retry-After header, lower-cased, for the classifier', async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([
      { kind: 'status', status: 429, headers: { 'Retry-After': '7' }, body: '{"error":"slow_down"}' },
    ]);
    const exchange = await refresh(client(), definition(provider.tokenUrl), refreshToken);
    const reply = response(exchange.reply);
    expect(reply.headers['retry-after']).toBe('7');
    expect(classify(reply, exchange.startedAt, policy)).toEqual({
      kind: 'rate_limited',
      reason: 'rate_limited',
      retryAfterMs: 7_000,
      status: 429,
    });
  });

  it('an already-aborted caller signal comes back as a network reply without waiting for the deadline', async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    const controller = new AbortController();
    controller.abort();
    const exchange = await refresh(client(), definition(provider.tokenUrl), refreshToken, controller.signal);
    expect(exchange.reply).toMatchObject({ kind: 'network', timeout: false });
    expect(exchange.durationMs).toBeLessThan(5_000);
  });

  it('a network reply carries no token', async () => {
    const port = await closedPort();
    const exchange = await refresh(
      client(),
      definition(`http://127.0.0.1:${port}/token`, { clientSecret: 'cs_hidden' }),
      'rt_hidden_123',
    );
    const text = JSON.stringify(exchange);
    expect(text).not.toContain('rt_hidden_123');
    expect(text).not.toContain('cs_hidden');
  });

  it('does not close a dispatcher it was given', async () => {
    const provider = await fake();
    const agent = new Agent();
    try {
      const first = new TokenClient({ ...defaults, dispatcher: agent });
      await first.close();
      expect(agent.closed).toBe(false);
      const { refreshToken } = provider.issue();
      const exchange = await refresh(
        new TokenClient({ ...defaults, dispatcher: agent }),
        definition(provider.tokenUrl),
        refreshToken,
      );
      expect(response(exchange.reply).status).toBe(200);
    } finally {
      await agent.close();
    }
  });
});

describe('TokenClient with a MockAgent (what the fake cannot send)', () => {
  it('joins a repeated response header into one comma-separated value', async () => {
    const mock = new MockAgent();
    mock.disableNetConnect();
    mock
      .get('https://auth.example')
      .intercept({ path: '/token', method: 'POST' })
      .reply(200, JSON.stringify({ access_token: 'at_mock', expires_in: 60 }), {
        headers: { 'content-type': 'application/json', warning: ['199 - "one"', '199 - "two"'] },
      });
    try {
      const exchange = await refresh(
        new TokenClient({ ...defaults, dispatcher: mock }),
        definition('https://auth.example/token'),
        'rt_x',
      );
      const reply = response(exchange.reply);
      expect(reply.status).toBe(200);
      expect(reply.headers.warning).toBe('199 - "one", 199 - "two"');
      expect(classify(reply, exchange.startedAt, policy)).toMatchObject({
        kind: 'success',
        tokens: { accessToken: 'at_mock', expiresInSeconds: 60 },
      });
    } finally {
      await mock.close();
    }
  });
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  form: Record<string, string>;
}

/** A token endpoint that records each request and answers with fresh tokens. */
async function recordingServer(): Promise<{ origin: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({
        path: req.url ?? '',
        headers: req.headers,
        form: Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ access_token: `at_${received.length}`, expires_in: 3600, token_type: 'Bearer' }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function decodeJwt(jwt: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: Buffer;
  signature: Buffer;
} {
  const parts = jwt.split('.');
  expect(parts).toHaveLength(3);
  const [h, p, sig] = parts as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: Buffer.from(`${h}.${p}`),
    signature: Buffer.from(sig, 'base64url'),
  };
}

describe('TokenClient with private_key_jwt (RFC 7523)', () => {
  const servers: Awaited<ReturnType<typeof recordingServer>>[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function server() {
    const s = await recordingServer();
    servers.push(s);
    return s;
  }

  const rsa = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const ec = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });

  function signed(tokenUrl: string, patch: Partial<ProviderEntry> = {}): ProviderDefinition {
    return definition(tokenUrl, {
      id: 'signed',
      clientAuth: 'private_key_jwt',
      clientId: 'jwt-client',
      clientSecret: undefined,
      privateKey: rsa.privateKey,
      ...patch,
    });
  }

  /** Sends one refresh and returns the assertion the server received, with the clock around the request. */
  async function exchange(provider: ProviderDefinition, url = provider.tokenUrl, tokens = client()) {
    const endpoint = servers.at(-1)!;
    const before = Math.floor(Date.now() / 1_000);
    const result = await tokens.request(provider, url, { refreshToken: 'rt_signed', scopes: [] });
    const after = Math.ceil(Date.now() / 1_000);
    expect(response(result.reply).status).toBe(200);
    const received = endpoint.received.at(-1)!;
    return { received, jwt: decodeJwt(received.form.client_assertion ?? ''), before, after, result };
  }

  function expectClaims(
    payload: Record<string, unknown>,
    expected: { clientId: string; aud: string },
    before: number,
    after: number,
  ) {
    expect(payload.iss).toBe(expected.clientId);
    expect(payload.sub).toBe(expected.clientId);
    expect(payload.aud).toBe(expected.aud);
    expect(typeof payload.jti).toBe('string');
    expect((payload.jti as string).length).toBeGreaterThan(0);
    const iat = payload.iat as number;
    const exp = payload.exp as number;
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(iat).toBeLessThanOrEqual(after);
    expect(exp).toBeGreaterThan(after);
    expect(exp).toBeLessThanOrEqual(after + 120);
    expect(exp - iat).toBeLessThanOrEqual(120);
  }

  it('RS256: the server receives a client assertion signed with the private key', async () => {
    const endpoint = await server();
    const provider = signed(`${endpoint.origin}/token`);
    const { received, jwt, before, after, result } = await exchange(provider);

    expect(received.headers.authorization).toBeUndefined();
    expect(received.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(received.form).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt_signed',
      client_id: 'jwt-client',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: expect.any(String),
    });
    expect(jwt.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expectClaims(jwt.payload, { clientId: 'jwt-client', aud: `${endpoint.origin}/token` }, before, after);

    expect(verify('sha256', jwt.signingInput, rsa.publicKey, jwt.signature)).toBe(true);
    const tampered = Buffer.from(jwt.signingInput.toString().replace(/\.[^.]+$/, '.e30'));
    expect(verify('sha256', tampered, rsa.publicKey, jwt.signature)).toBe(false);
    expect(classify(result.reply, result.startedAt, policy)).toMatchObject({
      kind: 'success',
      tokens: { accessToken: 'at_1' },
    });
  });

  it('ES256: a P-256 signature in the JWS (r || s) form', async () => {
    const endpoint = await server();
    const provider = signed(`${endpoint.origin}/token`, {
      id: 'signed-ec',
      privateKey: ec.privateKey,
      privateKeyAlgorithm: 'ES256',
    });
    const { jwt, before, after } = await exchange(provider);

    expect(jwt.header).toEqual({ alg: 'ES256', typ: 'JWT' });
    expectClaims(jwt.payload, { clientId: 'jwt-client', aud: `${endpoint.origin}/token` }, before, after);
    expect(jwt.signature).toHaveLength(64);
    const key = { key: ec.publicKey, dsaEncoding: 'ieee-p1363' as const };
    expect(verify('sha256', jwt.signingInput, key, jwt.signature)).toBe(true);
    expect(verify('sha256', jwt.signingInput, rsa.publicKey, jwt.signature)).toBe(false);
  });

  it('PS256: an RSA-PSS signature', async () => {
    const endpoint = await server();
    const provider = signed(`${endpoint.origin}/token`, { id: 'signed-ps', privateKeyAlgorithm: 'PS256' });
    const { jwt } = await exchange(provider);
    expect(jwt.header.alg).toBe('PS256');
    const key = { key: rsa.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 };
    expect(verify('sha256', jwt.signingInput, key, jwt.signature)).toBe(true);
  });

  it('names the key (kid) and uses the configured audience when there is one', async () => {
    const endpoint = await server();
    const provider = signed(`${endpoint.origin}/token`, {
      id: 'signed-kid',
      keyId: 'key-2024-01',
      assertionAudience: 'https://issuer.example.com',
    });
    const { jwt, before, after } = await exchange(provider);
    expect(jwt.header).toEqual({ alg: 'RS256', typ: 'JWT', kid: 'key-2024-01' });
    expectClaims(jwt.payload, { clientId: 'jwt-client', aud: 'https://issuer.example.com' }, before, after);
  });

  it('the audience is the resolved token URL the request goes to, not the template', async () => {
    const endpoint = await server();
    const provider = signed(`${endpoint.origin}/{tenant}/oauth2/token`, {
      id: 'signed-tenant',
      metadataDefaults: { tenant: 'common' },
    });
    const resolved = resolveTokenUrl(provider, { tenant: 'contoso' });
    if (!resolved.ok) throw new Error(resolved.reason);
    const { received, jwt } = await exchange(provider, resolved.url);
    expect(received.path).toBe('/contoso/oauth2/token');
    expect(jwt.payload.aud).toBe(`${endpoint.origin}/contoso/oauth2/token`);
  });

  it('signs a fresh, single-use assertion for every request', async () => {
    const endpoint = await server();
    const provider = signed(`${endpoint.origin}/token`, { id: 'signed-twice' });
    const tokens = client();
    const first = await exchange(provider, provider.tokenUrl, tokens);
    const second = await exchange(provider, provider.tokenUrl, tokens);
    expect(endpoint.received).toHaveLength(2);
    expect(second.jwt.payload.jti).not.toBe(first.jwt.payload.jti);
    expect(verify('sha256', second.jwt.signingInput, rsa.publicKey, second.jwt.signature)).toBe(true);
  });

  it('never puts the private key into the request', async () => {
    const endpoint = await server();
    const provider = signed(`${endpoint.origin}/token`, { id: 'signed-secret' });
    const { received, result } = await exchange(provider);
    const pemBody = rsa.privateKey.split('\n')[1] as string;
    expect(JSON.stringify(received)).not.toContain(pemBody);
    expect(JSON.stringify(result)).not.toContain(pemBody);
  });
});
