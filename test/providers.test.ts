import { generateKeyPairSync } from 'node:crypto';
import { FakeProvider, type FakeProviderOptions } from '@evergreen/fake-provider';
import { queueName } from '@evergreen/queue';
import type { EnqueueConnectionInput } from '@evergreen/sdk';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox, type ProviderEntry } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';
import { freePort } from '@evergreen/test-support/free-port';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PRIVATE_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const PUBLIC_PEM = publicKey.export({ type: 'spki', format: 'pem' }).toString();

describe('the built-in providers, each against a local fake that behaves as the provider documents', () => {
  const sandbox = new Sandbox();
  const fakes: Record<string, FakeProvider> = {};
  let stack: Stack;
  let salesforcePort: number;

  beforeAll(async () => {
    salesforcePort = await freePort();
    const options: Record<string, FakeProviderOptions> = {
      google: { rotation: 'never', clientAuth: 'client_secret_post', accessTokenLifetimeSeconds: 3599 },
      microsoft: { rotation: 'always', revokeOnReuse: false, requireScope: true, clientAuth: 'client_secret_post' },
      spotify: { rotation: 'alternate', clientAuth: 'client_secret_basic' },
      discord: { rotation: 'always', clientAuth: 'client_secret_post', accessTokenLifetimeSeconds: 604_800 },
      salesforce: {
        port: salesforcePort,
        rotation: 'never',
        clientAuth: 'client_secret_post',
        responseFields: { expiresIn: null },
        issuedAt: 'epoch_ms_string',
        extraResponse: { instance_url: `http://127.0.0.1:${salesforcePort}`, signature: 'sig' },
      },
      xero: {
        rotation: 'always',
        clientAuth: 'client_secret_basic',
        reuseGraceSeconds: 1800,
        accessTokenLifetimeSeconds: 1800,
      },
      hubspot: {
        rotation: 'never',
        echoRefreshToken: true,
        clientAuth: 'client_secret_post',
        accessTokenLifetimeSeconds: 1800,
      },
      github: {
        rotation: 'always',
        expiresInFormat: 'string',
        refreshTokenExpiresIn: 15_897_600,
        errorStyle: 'github',
        responseFormat: 'form',
        clientAuth: 'client_secret_post',
        accessTokenLifetimeSeconds: 28_800,
      },
      zendesk: {
        rotation: 'never',
        echoRefreshToken: true,
        responseFields: { expiresIn: null },
        clientAuth: 'client_secret_post',
      },
      slack: {
        rotation: 'always',
        errorStyle: 'slack',
        clientAuth: 'client_secret_post',
        accessTokenLifetimeSeconds: 43_200,
      },
      zoom: { rotation: 'always', clientAuth: 'client_secret_basic' },
      custom: {
        clientAuth: 'none',
        requestFields: { grantType: null, refreshToken: 'refreshToken' },
        responseFields: { accessToken: 'accessToken', refreshToken: 'refreshToken', expiresIn: null, tokenType: null },
      },
      credentials: { clientCredentials: true, clientAuth: 'client_secret_basic', accessTokenLifetimeSeconds: 3600 },
      password: {
        passwordUsers: { alice: 'wonderland' },
        clientAuth: 'client_secret_basic',
        accessTokenLifetimeSeconds: 3600,
      },
      login: {
        clientAuth: 'none',
        passwordUsers: { 'alice@example.com': 'wonderland' },
        loginEndpoint: { path: '/api/login', usernameField: 'email', passwordField: 'password', tokenField: 'token' },
        accessTokenLifetimeSeconds: 1800,
      },
      signed: { privateKeyJwt: { publicKeyPem: PUBLIC_PEM } },
      strict404: { invalidGrantStatus: 404 },
      lapsing: { rotation: 'never', echoRefreshToken: true, refreshTokenExpiresIn: 3 * 86_400 },
      limited: { accessTokenLifetimeSeconds: 3600 },
    };
    for (const [name, o] of Object.entries(options)) fakes[name] = await FakeProvider.start(o);
    const f = fakes;
    const entries: ProviderEntry[] = [
      { id: 'google', tokenUrl: f.google!.tokenUrl },
      { id: 'microsoft', tokenUrl: `${f.microsoft!.url}/{tenant}/oauth2/v2.0/token`, tokenUrlHosts: ['127.0.0.1'] },
      { id: 'spotify', tokenUrl: f.spotify!.tokenUrl },
      { id: 'discord', tokenUrl: f.discord!.tokenUrl },
      { id: 'salesforce', tokenUrlHosts: ['127.0.0.1', 'localhost'] },
      { id: 'xero', tokenUrl: f.xero!.tokenUrl },
      { id: 'hubspot', tokenUrl: f.hubspot!.tokenUrl },
      { id: 'github-app', tokenUrl: f.github!.tokenUrl },
      {
        id: 'zendesk',
        tokenUrl: `http://{subdomain}:${new URL(f.zendesk!.url).port}/token`,
        tokenUrlHosts: ['127.0.0.1'],
      },
      { id: 'slack', tokenUrl: f.slack!.tokenUrl },
      { id: 'zoom', tokenUrl: f.zoom!.tokenUrl },
      { id: 'custom', extends: 'custom-json', tokenUrl: f.custom!.tokenUrl },
      { id: 'github-pat' },
      { id: 'service', extends: 'client-credentials', tokenUrl: f.credentials!.tokenUrl },
      { id: 'legacy', extends: 'password', tokenUrl: f.password!.tokenUrl },
      { id: 'login', extends: 'json-login', tokenUrl: `${f.login!.url}/api/login` },
      { id: 'signed', tokenUrl: f.signed!.tokenUrl, clientAuth: 'private_key_jwt', privateKey: PRIVATE_PEM },
      { id: 'strict404', tokenUrl: f.strict404!.tokenUrl },
      { id: 'lapsing', tokenUrl: f.lapsing!.tokenUrl, rotation: { rotates: 'never' } },
      { id: 'limited', tokenUrl: f.limited!.tokenUrl, rateLimit: { max: 2, durationMs: 1000 } },
    ];
    sandbox.useProviders(entries);
    stack = await startStack(sandbox, { roles: ['worker', 'scheduler'] });
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all(Object.values(fakes).map((f) => f.close()));
    await sandbox.cleanup();
  });

  /** Enqueues a grant of `fake` with a token about to expire and waits for Evergreen's first refresh to be stored. */
  async function firstRefresh(provider: string, fake: FakeProvider, extra: Partial<EnqueueConnectionInput> = {}) {
    const grant = fake.issue({ expiresIn: 2 });
    const { connectionId } = await stack.evergreen.enqueueConnection({
      ownerId: `owner-${provider}-${grant.grantId}`,
      provider,
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 2,
      ...extra,
    });
    const row = await refreshed(connectionId, 1);
    return { grant, connectionId, row };
  }

  /** Waits until the row shows `count` successful refreshes, and returns it. */
  const refreshed = (connectionId: string, count: number) => stack.waitForRefreshes(connectionId, count);

  const near = (actual: Date | null, expectedMs: number, toleranceMs = 15_000) => {
    expect(actual).not.toBeNull();
    expect(Math.abs(actual!.getTime() - expectedMs)).toBeLessThan(toleranceMs);
  };

  it('google: no refresh_token in the answer keeps the stored one; the next refresh follows expires_in', async () => {
    const { grant, row } = await firstRefresh('google', fakes.google!);
    expect(row.refreshToken).toBe(grant.refreshToken);
    expect(fakes.google!.isAccessTokenValid(row.accessToken!)).toBe(true);
    near(row.expiresAt, Date.now() + 3599_000);
    near(row.refreshAt, Date.now() + 3599_000 - 300_000, 45_000);
  });

  it("microsoft: sends the connection's scopes on refresh, fills the tenant, and stores the rotated token", async () => {
    const { grant, row } = await firstRefresh('microsoft', fakes.microsoft!, {
      scopes: ['offline_access', 'User.Read'],
      metadata: { tenant: 'contoso' },
    });
    const request = fakes.microsoft!.requests.find((r) => r.grantId === grant.grantId && r.outcome === 'ok')!;
    expect(request.scope).toBe('offline_access User.Read');
    expect(row.refreshToken).toBe(fakes.microsoft!.grant(grant.grantId)!.currentRefreshToken);
    expect(row.previousRefreshToken).toBe(grant.refreshToken);
  });

  it('spotify: basic auth; a new refresh token only sometimes, and the right one is always kept', async () => {
    const { grant, connectionId } = await firstRefresh('spotify', fakes.spotify!);
    // Force two more refreshes: the alternate answers carry a new refresh token, the others none.
    for (let i = 0; i < 2; i++) await stack.forceRefresh(connectionId);
    const row = await refreshed(connectionId, 3);
    expect(fakes.spotify!.grant(grant.grantId)!.refreshCount).toBe(3);
    expect(row.refreshToken).toBe(fakes.spotify!.grant(grant.grantId)!.currentRefreshToken);
    expect(fakes.spotify!.reuseCount()).toBe(0);
  });

  it('discord: rotating refresh tokens and week-long access tokens', async () => {
    const { grant, row } = await firstRefresh('discord', fakes.discord!);
    expect(row.refreshToken).toBe(fakes.discord!.grant(grant.grantId)!.currentRefreshToken);
    near(row.expiresAt, Date.now() + 604_800_000);
  });

  it('salesforce: no expires_in, so the session timeout counts from issued_at (ms); instance_url is kept and used', async () => {
    const { grant, connectionId, row } = await firstRefresh('salesforce', fakes.salesforce!, {
      metadata: { instance_url: `http://localhost:${salesforcePort}` },
    });
    near(row.expiresAt, Date.now() + 2 * 3600_000);
    expect(row.metadata.instance_url).toBe(`http://127.0.0.1:${salesforcePort}`);
    expect(row.refreshToken).toBe(grant.refreshToken);
    await stack.forceRefresh(connectionId);
    await refreshed(connectionId, 2);
  });

  it('xero: a rotation lost by the provider is retried once with the previous refresh token, inside its grace period', async () => {
    const { grant, connectionId, row } = await firstRefresh('xero', fakes.xero!);
    near(row.expiresAt, Date.now() + 1800_000);
    // The provider never committed the rotation it answered with: the token we stored is unknown to it.
    fakes.xero!.forgetRefreshToken(row.refreshToken!);
    await stack.forceRefresh(connectionId);
    const after = await refreshed(connectionId, 2);
    expect(after.refreshToken).toBe(fakes.xero!.grant(grant.grantId)!.currentRefreshToken);
    expect(
      stack.logs.events('retried with the previous refresh token').some((e) => e.connection === connectionId),
    ).toBe(true);
  });

  it('hubspot: the same refresh token comes back and is kept; 30-minute access tokens', async () => {
    const { grant, row } = await firstRefresh('hubspot', fakes.hubspot!);
    expect(row.refreshToken).toBe(grant.refreshToken);
    expect(row.previousRefreshToken).toBeNull();
    near(row.expiresAt, Date.now() + 1800_000);
  });

  it('github-app: expires_in as a string, refresh_token_expires_in tracked; a bad token under HTTP 200 needs re-auth', async () => {
    const { grant, row } = await firstRefresh('github-app', fakes.github!);
    near(row.expiresAt, Date.now() + 28_800_000);
    near(row.refreshTokenExpiresAt, Date.now() + 15_897_600_000);
    expect(row.refreshToken).toBe(fakes.github!.grant(grant.grantId)!.currentRefreshToken);

    const { connectionId } = await stack.connect(
      fakes.github!,
      { ownerId: 'gh-revoked', provider: 'github-app', expiresIn: 2 },
      { revoked: true },
    );
    const dead = await stack.waitForStatus(connectionId, 'needs_reauth', { timeoutMs: 15_000, what: 'needs_reauth' });
    expect(dead.refreshAt).toBeNull();
    const [event] =
      await sandbox.sql`select reason, http_status from refresh_events where connection_id = ${connectionId}`;
    expect(event).toEqual({ reason: 'invalid_grant', http_status: 200 });
  });

  it('zendesk: no expires_in is never "no refresh": the keep-alive schedules one within a day; subdomain filled in', async () => {
    const { grant, row } = await firstRefresh('zendesk', fakes.zendesk!, { metadata: { subdomain: '127.0.0.1' } });
    expect(row.expiresAt).toBeNull();
    near(row.refreshAt, Date.now() + 86_400_000, 60_000);
    expect(row.refreshToken).toBe(grant.refreshToken);
  });

  it('zendesk: a subdomain that would change the host is refused at enqueue, naming the field', async () => {
    const error = await stack.evergreen
      .enqueueConnection({
        ownerId: 'z',
        provider: 'zendesk',
        accessToken: 'a',
        refreshToken: 'r',
        metadata: { subdomain: 'evil.example/x' },
      })
      .then(
        () => ({ field: null }),
        (e: unknown) => e as Error & { field: string },
      );
    expect(error.field).toBe('metadata.subdomain');
  });

  it('slack: {"ok": true} answers refresh; {"ok": false, "error": "invalid_refresh_token"} under HTTP 200 needs re-auth', async () => {
    const { grant, row } = await firstRefresh('slack', fakes.slack!);
    expect(row.refreshToken).toBe(fakes.slack!.grant(grant.grantId)!.currentRefreshToken);
    near(row.expiresAt, Date.now() + 43_200_000);
    const { connectionId } = await stack.connect(
      fakes.slack!,
      { ownerId: 'slack-revoked', provider: 'slack', expiresIn: 2 },
      { revoked: true },
    );
    await stack.waitForStatus(connectionId, 'needs_reauth', { timeoutMs: 15_000, what: 'needs_reauth' });
  });

  it('zoom: basic auth and rotation', async () => {
    const { grant, row } = await firstRefresh('zoom', fakes.zoom!);
    expect(row.refreshToken).toBe(fakes.zoom!.grant(grant.grantId)!.currentRefreshToken);
  });

  it("the reference documents' custom endpoint: POST {refreshToken} → {accessToken, refreshToken}", async () => {
    const { grant, row } = await firstRefresh('custom', fakes.custom!);
    expect(row.refreshToken).toBe(fakes.custom!.grant(grant.grantId)!.currentRefreshToken);
    expect(fakes.custom!.isAccessTokenValid(row.accessToken!)).toBe(true);
  });

  it('a personal access token that never expires is stored and never scheduled', async () => {
    const result = await stack.evergreen.enqueueConnection({
      ownerId: 'dev',
      provider: 'github-pat',
      accessToken: 'ghp_example',
    });
    expect(result).toMatchObject({ refreshAt: null, expiresAt: null, scheduling: 'not_needed' });
    const queue = new Queue(queueName('github-pat'), { connection: sandbox.redis, prefix: sandbox.prefix });
    expect(await queue.getJob(result.connectionId)).toBeUndefined();
    await queue.close();
    expect((await stack.read(result.connectionId))!.accessToken).toBe('ghp_example');
  });

  it('client credentials: a connection handed over without a token logs in at once and renews before expiry', async () => {
    const { connectionId } = await stack.evergreen.enqueueConnection({ ownerId: 'svc', provider: 'service' });
    const row = await refreshed(connectionId, 1);
    expect(fakes.credentials!.isAccessTokenValid(row.accessToken!)).toBe(true);
    expect(fakes.credentials!.requests.at(-1)!.grantType).toBe('client_credentials');
    near(row.refreshAt, Date.now() + 3600_000 - 300_000, 45_000);
  });

  it('password grant: the stored login renews the connection; the password is stored encrypted', async () => {
    const { connectionId } = await stack.evergreen.enqueueConnection({
      ownerId: 'alice',
      provider: 'legacy',
      credentials: { username: 'alice', password: 'wonderland' },
    });
    const row = await refreshed(connectionId, 1);
    expect(fakes.password!.isAccessTokenValid(row.accessToken!)).toBe(true);
    const [raw] = await sandbox.sql`select credentials from connections where id = ${connectionId}`;
    expect(String(raw!.credentials)).not.toContain('wonderland');
    const missing = await stack.evergreen
      .enqueueConnection({ ownerId: 'bob', provider: 'legacy', credentials: { username: 'bob' } })
      .then(
        () => ({ field: null }),
        (e: unknown) => e as Error & { field: string },
      );
    expect(missing.field).toBe('credentials.password');
  });

  it("reference 003's JSON login: POST {email, password} → {token}, expiry read from the JWT's exp", async () => {
    const { connectionId } = await stack.evergreen.enqueueConnection({
      ownerId: 'alice',
      provider: 'login',
      credentials: { username: 'alice@example.com', password: 'wonderland' },
    });
    const row = await refreshed(connectionId, 1);
    near(row.expiresAt, Date.now() + 1800_000);
    near(row.refreshAt, Date.now() + 1800_000 - 300_000, 45_000);
  });

  it('private_key_jwt: every request carries a fresh RFC 7523 assertion the provider verifies', async () => {
    const { connectionId, row } = await firstRefresh('signed', fakes.signed!);
    expect(row.status).toBe('connected');
    await stack.forceRefresh(connectionId);
    await refreshed(connectionId, 2); // a replayed jti would have been refused
  });

  it('invalid_grant under HTTP 404 still means re-auth', async () => {
    const grant = fakes.strict404!.issue({ expiresIn: 2 });
    fakes.strict404!.revoke(grant.grantId);
    const { connectionId } = await stack.evergreen.enqueueConnection({
      ownerId: 'o',
      provider: 'strict404',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 2,
    });
    await until(async () => (await stack.read(connectionId))?.status === 'needs_reauth', {
      timeoutMs: 15_000,
      what: 'needs_reauth',
    });
    const [event] = await sandbox.sql`select http_status from refresh_events where connection_id = ${connectionId}`;
    expect(event!.http_status).toBe(404);
  });

  it('warns once when a refresh token that nothing will replace comes within its warning window', async () => {
    const { connectionId, row } = await firstRefresh('lapsing', fakes.lapsing!);
    near(row.refreshTokenExpiresAt, Date.now() + 3 * 86_400_000);
    expect(row.refreshTokenWarnedAt).not.toBeNull();
    await stack.forceRefresh(connectionId);
    await refreshed(connectionId, 2);
    const warnings = stack.logs.events('refresh token expiring').filter((e) => e.connection === connectionId);
    expect(warnings).toHaveLength(1);
    const events =
      await sandbox.sql`select payload from connection_events where connection_id = ${connectionId} and kind = 'connection.refresh_token_expiring'`;
    expect(events).toHaveLength(1);
    expect(events[0]!.payload).toMatchObject({ provider: 'lapsing', status: 'connected' });
    expect(JSON.stringify(warnings)).not.toContain(row.refreshToken!);
  });

  it("keeps to the provider's declared rate limit across the queue", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) {
      const grant = fakes.limited!.issue({ expiresIn: 1 });
      const r = await stack.evergreen.enqueueConnection({
        ownerId: `rl-${i}`,
        provider: 'limited',
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresIn: 1,
      });
      ids.push(r.connectionId);
    }
    for (const id of ids) await refreshed(id, 1);
    const times = fakes.limited!.requests.map((r) => r.at).sort((a, b) => a - b);
    expect(times).toHaveLength(8);
    // The declared rate holds in any span of a second, not only in BullMQ's fixed windows: no three requests ever
    // share one (BullMQ limits job starts; requests reach the provider a few milliseconds of work later, hence 900).
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(2_900);
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 2]!).toBeGreaterThanOrEqual(900);
  });
});
