import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { existsSync } from 'node:fs';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { startRoles, type RunningRoles } from '@evergreen/runtime';
import { createEvergreen, type Evergreen } from '@evergreen/sdk';
import { verifyWebhookSignature } from '@evergreen/webhooks';
import { freePort } from '@evergreen/test-support/free-port';
import { HEADLESS_CHROMIUM_ARGS } from '@evergreen/test-support/headless-chromium';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** Debian's chromium; Playwright never downloads a browser here. */
const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
if (!HAS_CHROMIUM) console.warn(`connect-oidc.test.ts skipped: no browser at ${CHROMIUM} (apt-get install chromium)`);

const KEY = 'evg_conn_0123456789abcdefghijklmnopqrstuvwxyzABCDEF';
const verifier = {
  async verify(key: string) {
    return key === KEY
      ? {
          id: 'k-connect',
          name: 'connect',
          scopes: ['connections:write', 'connections:read'] as const,
          providers: null,
        }
      : null;
  },
};
const BASIC_SECRET = 'basic-client-secret-0123456789abcdef';
const HOOK_SECRET = 'whsec-connect-0123456789abcdef';

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

/**
 * The connect flow against panva's oidc-provider, a certified OpenID Provider none of us wrote: a confidential client
 * that must use PKCE and whose refresh tokens rotate, one authenticating with private_key_jwt, the dev login and
 * consent pages driven by headless Chromium, and the api, worker and scheduler roles of Evergreen in this process.
 */
describe.skipIf(!HAS_CHROMIUM)('the connect flow against oidc-provider, in headless Chromium', () => {
  const sandbox = new Sandbox();
  const logs = new LogCapture();
  const returned: string[] = [];
  const hooks: { headers: IncomingMessage['headers']; body: string }[] = [];
  let issuer: string;
  let oidcServer: Server;
  let appServer: Server;
  let hookServer: Server;
  let tamperServer: Server;
  let roles: RunningRoles;
  let browser: Browser;
  let context: BrowserContext;
  let api: string;
  let app: string;
  let evergreen: Evergreen;

  beforeAll(async () => {
    const [oidcPort, apiPort] = [await freePort(), await freePort()];
    issuer = `http://127.0.0.1:${oidcPort}`;
    api = `http://127.0.0.1:${apiPort}`;
    const redirectUri = `${api}/v1/connect/callback`;

    // The test app's returnTo: it only records where the browser came back to.
    appServer = createServer((req, res) => {
      returned.push(`${app}${req.url}`);
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><title>back in the app</title><p>connected</p>');
    });
    app = `http://127.0.0.1:${await listen(appServer)}`;

    hookServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        hooks.push({ headers: req.headers, body });
        res.end();
      });
    });
    const hookUrl = `http://127.0.0.1:${await listen(hookServer)}/hooks`;

    const signing = await generateKeyPair('RS256', { extractable: true });
    const clientKey = await generateKeyPair('RS256', { extractable: true });
    const oidc = new Provider(issuer, {
      clients: [
        {
          client_id: 'evergreen-basic',
          client_secret: BASIC_SECRET,
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        {
          client_id: 'evergreen-jwt',
          redirect_uris: [redirectUri],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          token_endpoint_auth_method: 'private_key_jwt',
          token_endpoint_auth_signing_alg: 'RS256',
          jwks: { keys: [{ ...(await exportJWK(clientKey.publicKey)), alg: 'RS256', use: 'sig' }] },
        },
      ],
      // Every client must send an S256 challenge; every refresh answers a new refresh token and retires the old one.
      pkce: { required: () => true },
      rotateRefreshToken: true,
      ttl: {
        AccessToken: 12,
        AuthorizationCode: 60,
        IdToken: 3600,
        RefreshToken: 86_400,
        Interaction: 600,
        Session: 3600,
        Grant: 86_400,
      },
      findAccount: (_ctx: unknown, id: string) => ({
        accountId: id,
        claims: () => ({ sub: id, email: `${id}@example.com` }),
      }),
      claims: { openid: ['sub'], email: ['email'] },
      features: { devInteractions: { enabled: true }, revocation: { enabled: true } },
      cookies: { keys: ['connect-test-cookie-key-0123456789'] },
      jwks: { keys: [{ ...(await exportJWK(signing.privateKey)), kid: 'sig-1', alg: 'RS256', use: 'sig' }] },
    });
    oidcServer = oidc.listen(oidcPort, '127.0.0.1');

    // A token endpoint in front of oidc-provider's that changes one character of each id_token's signature.
    tamperServer = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => void forward(body, req, res));
    });
    /** Passes the token request on and the answer back, one character of its id_token's signature changed. */
    const forward = async (body: string, req: IncomingMessage, res: ServerResponse) => {
      const upstream = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded',
          ...(req.headers.authorization && { authorization: req.headers.authorization }),
        },
        body,
      });
      const answer = (await upstream.json()) as Record<string, unknown>;
      if (typeof answer.id_token === 'string') {
        const token = answer.id_token;
        answer.id_token = token.slice(0, -4) + (token.at(-4) === 'A' ? 'B' : 'A') + token.slice(-3);
      }
      res.statusCode = upstream.status;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    };
    const tamperUrl = `http://127.0.0.1:${await listen(tamperServer)}/token`;

    const oidcScopes = { defaultScopes: ['openid', 'offline_access', 'email'], params: { prompt: 'consent' } };
    sandbox.useProviders([
      // The issuer alone: the endpoints come from its discovery document.
      {
        id: 'oidc',
        issuer,
        clientId: 'evergreen-basic',
        clientSecret: BASIC_SECRET,
        clientAuth: 'client_secret_basic',
        authorization: { ...oidcScopes, pkce: 'required' },
        rotation: { rotates: 'always' },
      },
      {
        id: 'oidc-jwt',
        issuer,
        clientId: 'evergreen-jwt',
        clientAuth: 'private_key_jwt',
        privateKey: await exportPKCS8(clientKey.privateKey),
        assertionAudience: issuer,
        authorization: oidcScopes,
      },
      {
        id: 'oidc-tampered',
        issuer,
        tokenUrl: tamperUrl,
        clientId: 'evergreen-basic',
        clientSecret: BASIC_SECRET,
        authorization: oidcScopes,
      },
      { id: 'plain', tokenUrl: 'http://127.0.0.1:9/token' },
    ]);
    roles = await startRoles(['worker', 'scheduler', 'api'], {
      env: sandbox.env({
        EVERGREEN_API_PORT: String(apiPort),
        EVERGREEN_PUBLIC_URL: api,
        EVERGREEN_CONNECT_RETURN_URLS: `${app}/done`,
        EVERGREEN_WEBHOOKS: JSON.stringify([
          {
            id: 'app',
            url: hookUrl,
            secret: HOOK_SECRET,
            events: ['connection.created', 'connection.connected', 'connection.reconnected'],
          },
        ]),
      }),
      logDestination: logs,
      apiKeys: () => verifier,
    });
    evergreen = createEvergreen({ url: api, apiKey: KEY });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: HEADLESS_CHROMIUM_ARGS });
    context = await browser.newContext();
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await evergreen?.close();
    await roles?.close();
    for (const server of [oidcServer, appServer, hookServer, tamperServer]) {
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    }
    await sandbox.cleanup();
  });

  const start = (body: Record<string, unknown>) =>
    fetch(`${api}/v1/connect/sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  /**
   * What a user does: opens the authorization URL, signs in on oidc-provider's page when it asks, consents, and is
   * sent back through Evergreen's callback to the app. Answers where the browser landed and the callback URL it passed.
   */
  async function authorize(authorizationUrl: string, options: { cancel?: boolean } = {}) {
    const page = await context.newPage();
    const callbacks: string[] = [];
    page.on('request', (request) => {
      if (request.url().startsWith(`${api}/v1/connect/callback`)) callbacks.push(request.url());
    });
    try {
      await page.goto(authorizationUrl, { waitUntil: 'domcontentloaded' });
      for (let step = 0; step < 4 && !page.url().startsWith(app); step++) {
        if (options.cancel) {
          await Promise.all([page.waitForURL((url) => url.href.startsWith(app)), page.getByText('[ Cancel ]').click()]);
          break;
        }
        if (await page.locator('input[name="login"]').count()) {
          await page.fill('input[name="login"]', 'user-1');
          await page.fill('input[name="password"]', 'any password');
          await Promise.all([
            page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
            page.click('button[type="submit"]'),
          ]);
        } else if (await page.getByText('Continue').count()) {
          await Promise.all([
            page.waitForNavigation({ waitUntil: 'domcontentloaded' }),
            page.getByText('Continue').click(),
          ]);
        } else await page.waitForURL((url) => url.href.startsWith(app), { timeout: 5_000 });
      }
      return { landed: new URL(page.url()), callback: callbacks[0]! };
    } finally {
      await page.close();
    }
  }

  let connectionId: string;
  let callbackUrl: string;

  it('connects a user with one call and one redirect: stored, id_token verified, refreshed on schedule', async () => {
    const res = await start({ ownerId: 'user-1', provider: 'oidc', returnTo: `${app}/done?flow=1` });
    expect(res.status).toBe(201);
    const session = (await res.json()) as { sessionId: string; authorizationUrl: string; expiresAt: string };
    const url = new URL(session.authorizationUrl);
    // Discovered from the issuer; the challenge is S256 and the verifier itself never leaves the server.
    expect(url.origin + url.pathname).toBe(`${issuer}/auth`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_verifier')).toBeNull();
    expect(url.searchParams.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(new Date(session.expiresAt).getTime() - Date.now()).toBeGreaterThan(9 * 60_000);

    const { landed, callback } = await authorize(session.authorizationUrl);
    callbackUrl = callback;
    expect(landed.pathname).toBe('/done');
    expect(landed.searchParams.get('flow')).toBe('1');
    expect(landed.searchParams.get('status')).toBe('connected');
    expect(landed.searchParams.has('code')).toBe(false);
    connectionId = landed.searchParams.get('connectionId')!;

    const view = await evergreen.getConnection(connectionId);
    expect(view).toMatchObject({
      ownerId: 'user-1',
      provider: 'oidc',
      status: 'connected',
      metadata: { idTokenSubject: 'user-1', idTokenIssuer: issuer },
    });
    expect(view.scopes).toEqual(expect.arrayContaining(['openid', 'offline_access', 'email']));
    expect(logs.events('connect callback').at(-1)).toMatchObject({ outcome: 'connected', identity: 'verified' });
    const stored = await roles.parts.store.find(connectionId);
    expect(stored?.refreshToken).toBeTruthy();

    // The 12-second access token is refreshed by the worker, at oidc-provider's token endpoint, with a rotated grant.
    const refreshed = await until(
      async () => {
        const row = await roles.parts.store.find(connectionId);
        return row && row.lastRefreshAt !== null ? row : null;
      },
      { timeoutMs: 30_000, what: 'the first scheduled refresh' },
    );
    expect(refreshed.status).toBe('connected');
    const [audit] = await sandbox.sql<{ outcome: string; trigger: string }[]>`
      select outcome, trigger from refresh_events where connection_id = ${connectionId} order by id limit 1`;
    expect(audit).toEqual({ outcome: 'success', trigger: 'schedule' });
    expect(refreshed.refreshToken).not.toBe(stored?.refreshToken);

    // The app heard of it: connection.created, signed.
    const created = await until(
      () =>
        hooks.find((h) => {
          const event = JSON.parse(h.body) as { type: string; data: { connectionId: string } };
          return event.type === 'connection.created' && event.data.connectionId === connectionId;
        }) ?? null,
      { timeoutMs: 15_000, what: 'the connection.created webhook' },
    );
    expect(
      verifyWebhookSignature({
        secret: HOOK_SECRET,
        header: created.headers['evergreen-signature'] as string,
        body: created.body,
        nowSeconds: Math.floor(Date.now() / 1000),
      }),
    ).toBe(true);
  }, 60_000);

  it('refuses a replayed state with a page, and changes nothing', async () => {
    const before = await evergreen.getConnection(connectionId);
    const res = await fetch(callbackUrl, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(await res.text()).toContain('already used');
    const after = await evergreen.getConnection(connectionId);
    expect(after.version).toBeGreaterThanOrEqual(before.version);
    expect(after.createdAt).toEqual(before.createdAt);
    const sessions = await sandbox.sql`select outcome from connect_sessions where outcome = 'connected'`;
    expect(sessions).toHaveLength(1);
  });

  it('sends an expired state back to returnTo with error_code state_expired, storing nothing', async () => {
    const { authorizationUrl, sessionId } = (await (
      await start({ ownerId: 'late', provider: 'oidc', returnTo: `${app}/done` })
    ).json()) as { authorizationUrl: string; sessionId: string };
    await sandbox.sql`update connect_sessions set expires_at = now() - interval '1 second' where id = ${sessionId}`;
    const state = new URL(authorizationUrl).searchParams.get('state')!;
    const res = await fetch(`${api}/v1/connect/callback?state=${state}&code=anything`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const location = new URL(res.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(`${app}/done`);
    expect(location.searchParams.get('error_code')).toBe('state_expired');
    expect(await sandbox.sql`select 1 from connections where owner_id = 'late'`).toHaveLength(0);
  });

  it('refuses a returnTo outside EVERGREEN_CONNECT_RETURN_URLS, naming the field; no session is stored', async () => {
    const before = await sandbox.sql`select count(*)::int as n from connect_sessions`;
    for (const returnTo of [`${app}/elsewhere`, `${app}.evil.example/done`, 'https://evil.example/done']) {
      const res = await start({ ownerId: 'u', provider: 'oidc', returnTo });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ code: 'ERR_INVALID_INPUT', errors: [{ field: 'returnTo' }] });
    }
    expect(await sandbox.sql`select count(*)::int as n from connect_sessions`).toEqual(before);
  });

  it('brings a refusal at the provider (access_denied) back to returnTo as error_code access_denied', async () => {
    const { authorizationUrl } = (await (
      await start({ ownerId: 'refuser', provider: 'oidc', returnTo: `${app}/done` })
    ).json()) as { authorizationUrl: string };
    const { landed } = await authorize(authorizationUrl, { cancel: true });
    expect(landed.searchParams.get('error_code')).toBe('access_denied');
    expect(landed.searchParams.get('error')).toBe('The authorization was refused.');
    expect(await sandbox.sql`select 1 from connections where owner_id = 'refuser'`).toHaveLength(0);
  }, 30_000);

  it('refuses a tampered id_token: error_code id_token_invalid, nothing stored', async () => {
    const { authorizationUrl } = (await (
      await start({ ownerId: 'tampered', provider: 'oidc-tampered', returnTo: `${app}/done` })
    ).json()) as { authorizationUrl: string };
    const { landed } = await authorize(authorizationUrl);
    expect(landed.searchParams.get('error_code')).toBe('id_token_invalid');
    expect(logs.events('connect callback').at(-1)).toMatchObject({ outcome: 'id_token_invalid', why: 'signature' });
    expect(await sandbox.sql`select 1 from connections where owner_id = 'tampered'`).toHaveLength(0);
  }, 30_000);

  it('exchanges the code with private_key_jwt client authentication', async () => {
    const { authorizationUrl } = (await (
      await start({ ownerId: 'jwt-user', provider: 'oidc-jwt', returnTo: `${app}/done` })
    ).json()) as { authorizationUrl: string };
    const { landed } = await authorize(authorizationUrl);
    expect(landed.searchParams.get('status')).toBe('connected');
    const view = await evergreen.getConnection(landed.searchParams.get('connectionId')!);
    expect(view).toMatchObject({ provider: 'oidc-jwt', status: 'connected', metadata: { idTokenSubject: 'user-1' } });
  }, 30_000);

  it('reconnects a connection in needs_reauth in place, and says so in a signed webhook', async () => {
    // The user revokes the grant at the provider: the next refresh gets invalid_grant.
    const row = await roles.parts.store.find(connectionId);
    const revoke = await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`evergreen-basic:${BASIC_SECRET}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: row!.refreshToken!, token_type_hint: 'refresh_token' }),
    });
    expect(revoke.status).toBe(200);
    await expect(evergreen.forceRefresh(connectionId)).rejects.toMatchObject({ code: 'ERR_NEEDS_REAUTH' });
    expect((await evergreen.getConnection(connectionId)).status).toBe('needs_reauth');

    const session = await evergreen.createConnectSession({
      ownerId: 'user-1',
      provider: 'oidc',
      connectionId,
      returnTo: `${app}/done`,
    });
    const { landed } = await authorize(session.authorizationUrl);
    expect(landed.searchParams.get('connectionId')).toBe(connectionId);
    expect(landed.searchParams.get('status')).toBe('connected');
    const view = await evergreen.getConnection(connectionId);
    expect(view.status).toBe('connected');
    // History kept: the audit rows of the refreshes before the reconnect are still there.
    const audits = await sandbox.sql`select 1 from refresh_events where connection_id = ${connectionId}`;
    expect(audits.length).toBeGreaterThanOrEqual(2);

    const hook = await until(() => hooks.find((h) => JSON.parse(h.body).type === 'connection.reconnected') ?? null, {
      timeoutMs: 15_000,
      what: 'the connection.reconnected webhook',
    });
    expect(
      verifyWebhookSignature({
        secret: HOOK_SECRET,
        header: hook.headers['evergreen-signature'] as string,
        body: hook.body,
        nowSeconds: Math.floor(Date.now() / 1000),
      }),
    ).toBe(true);
    expect(JSON.parse(hook.body).data).toMatchObject({
      connectionId,
      status: 'connected',
      previousStatus: 'needs_reauth',
    });
  }, 60_000);

  it('answers bad input with a problem naming the field, and stores nothing', async () => {
    const before = await sandbox.sql`select count(*)::int as n from connect_sessions`;
    const unknown = await start({ ownerId: 'u', provider: 'nope', returnTo: `${app}/done` });
    expect(unknown.status).toBe(400);
    expect(await unknown.json()).toMatchObject({ errors: [{ field: 'provider', reason: "'nope' is not configured" }] });
    const plain = await start({ ownerId: 'u', provider: 'plain', returnTo: `${app}/done` });
    expect(plain.status).toBe(400);
    expect(await plain.json()).toMatchObject({
      errors: [{ field: 'provider', reason: expect.stringContaining('authorizationUrl') }],
    });
    // The remote SDK throws the direct mode's typed error, naming the field.
    await expect(
      evergreen.createConnectSession({ ownerId: 'u', provider: 'oidc', returnTo: 'https://evil.example/done' }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT', issues: [{ field: 'returnTo' }] });
    await expect(evergreen.completeConnectSession({ state: 'x' })).rejects.toMatchObject({
      code: 'ERR_NOT_AVAILABLE_REMOTELY',
    });
    expect(await sandbox.sql`select count(*)::int as n from connect_sessions`).toEqual(before);
  });

  it('never logs a token, a code, a state or a verifier', () => {
    const text = logs.text;
    expect(text).not.toMatch(/code_verifier|"state":|eyJ[\w-]+\.eyJ/);
    expect(text).not.toContain(BASIC_SECRET);
  });
});
