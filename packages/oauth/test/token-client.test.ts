import { createServer } from 'node:net';
import { afterEach, describe, it, expect } from 'vitest';
import { Agent, MockAgent } from 'undici';
import { classify, type ProviderDefinition, type TokenEndpointReply } from '@evergreen/core';
import { FakeProvider, type FakeProviderOptions } from '../../fake-provider/src/index.ts';
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

function definition(tokenUrl: string, patch: Partial<ProviderDefinition> = {}): ProviderDefinition {
  return {
    id: 'fake',
    tokenUrl,
    clientId: 'client-id',
    clientSecret: 'client-secret',
    clientAuth: 'client_secret_basic',
    scope: null,
    refreshBufferSeconds: 300,
    defaultLifetimeSeconds: 3600,
    rateLimit: null,
    ...patch,
  };
}

const policy = { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 };

function response(reply: TokenEndpointReply): Extract<TokenEndpointReply, { kind: 'response' }> {
  if (reply.kind !== 'response') throw new Error(`expected a response, got ${JSON.stringify(reply)}`);
  return reply;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('TokenClient against the fake provider', () => {
  it('a successful refresh comes back as a 200 response with the new tokens', async () => {
    const provider = await fake({ accessTokenLifetimeSeconds: 1800 });
    const { refreshToken } = provider.issue();
    const before = Date.now();
    const exchange = await client().refresh(definition(provider.tokenUrl), refreshToken);
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
    const exchange = await client().refresh(
      definition(provider.tokenUrl, { clientId: 'id:with+odd chars', clientSecret: 'p:a+s s/é%ü🔑' }),
      refreshToken,
    );
    expect(response(exchange.reply).status).toBe(200);
  });

  it('client_secret_post is accepted by a server that only takes credentials in the body', async () => {
    const provider = await fake({ clientAuth: 'client_secret_post', clientSecret: 'p:a+s s/é' });
    const { refreshToken } = provider.issue();
    const exchange = await client().refresh(
      definition(provider.tokenUrl, { clientAuth: 'client_secret_post', clientSecret: 'p:a+s s/é' }),
      refreshToken,
    );
    expect(response(exchange.reply).status).toBe(200);
  });

  it('a wrong client secret comes back as 401 invalid_client, which classifies as fatal', async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    const exchange = await client().refresh(definition(provider.tokenUrl, { clientSecret: 'wrong' }), refreshToken);
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
    const exchange = await client().refresh(definition(provider.tokenUrl), 'rt_never_issued');
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
    expect(response((await tokens.refresh(definition(provider.tokenUrl), refreshToken)).reply).status).toBe(200);
    const reply = response((await tokens.refresh(definition(provider.tokenUrl), refreshToken)).reply);
    expect(reply.status).toBe(400);
    expect(classify(reply, Date.now(), policy).kind).toBe('reauth');
    expect(provider.reuseCount()).toBe(1);
  });

  it("an 'invalid-grant' fault comes back as 400 invalid_grant", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'invalid-grant' }]);
    const reply = response((await client().refresh(definition(provider.tokenUrl), refreshToken)).reply);
    expect(reply.status).toBe(400);
    expect(classify(reply, Date.now(), policy).kind).toBe('reauth');
  });

  it('a refused connection comes back as a network reply, not a timeout, with ECONNREFUSED', async () => {
    const port = await closedPort();
    const exchange = await client().refresh(definition(`http://127.0.0.1:${port}/token`), 'rt_secret_refused');
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
    const exchange = await client({ deadlineMs }).refresh(definition(provider.tokenUrl), refreshToken);
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
    const exchange = await client({ headersTimeoutMs: 200, deadlineMs: 10_000 }).refresh(
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
    const exchange = await client({ deadlineMs: 250 }).refresh(definition(provider.tokenUrl), refreshToken);
    expect(exchange.reply).toMatchObject({ kind: 'network', timeout: true });
    expect(exchange.durationMs).toBeLessThan(2_500);
  });

  it("a 'reset' fault comes back as a network reply, not a timeout", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'reset' }]);
    const exchange = await client().refresh(definition(provider.tokenUrl), refreshToken);
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
    const exchange = await client({ maxResponseBytes: 1024 }).refresh(definition(provider.tokenUrl), refreshToken);
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
    const whole = response((await tokens.refresh(definition(provider.tokenUrl), refreshToken)).reply);
    expect(whole.truncated).toBe(false);
    expect(whole.body).toBe(body(2048));
    const cut = response((await tokens.refresh(definition(provider.tokenUrl), refreshToken)).reply);
    expect(cut.truncated).toBe(true);
    expect(cut.body.length).toBe(2048);
  });

  it("an 'html' fault comes back as a 502 with the page, classified as a server error", async () => {
    const provider = await fake();
    const { refreshToken } = provider.issue();
    provider.injectFaults([{ kind: 'html' }]);
    const exchange = await client().refresh(definition(provider.tokenUrl), refreshToken);
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
    const exchange = await client().refresh(definition(provider.tokenUrl), refreshToken);
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
    const exchange = await client().refresh(definition(provider.tokenUrl), refreshToken);
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
    const exchange = await client().refresh(definition(provider.tokenUrl), refreshToken, controller.signal);
    expect(exchange.reply).toMatchObject({ kind: 'network', timeout: false });
    expect(exchange.durationMs).toBeLessThan(5_000);
  });

  it('a network reply carries no token', async () => {
    const port = await closedPort();
    const exchange = await client().refresh(
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
      const exchange = await new TokenClient({ ...defaults, dispatcher: agent }).refresh(
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
      const exchange = await new TokenClient({ ...defaults, dispatcher: mock }).refresh(
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
