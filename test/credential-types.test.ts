import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { FakeProvider } from '@evergreen/fake-provider';
import { createEvergreen, NeedsReauthError } from '@evergreen/sdk';
import { ApiKeyStore } from '@evergreen/store';
import { freePort } from '@evergreen/test-support/free-port';
import { Sandbox, type ProviderEntry } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const RSA_PKCS8 = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const RSA_PUBLIC = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const app = generateKeyPairSync('rsa', { modulusLength: 2048 });
// GitHub hands out App keys as PKCS#1.
const APP_PKCS1 = app.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const APP_PUBLIC = app.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const EC_PKCS8 = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const EC_PUBLIC = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const OTHER_PKCS8 = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

const SERVICE_ACCOUNT = 'svc@project.iam.gserviceaccount.com';
const CONSUMER_KEY = '3MVG9consumer';
const SF_USER = 'ada@example.com';
// Secrets a test hands over carry the fake's recognisable prefix, so the scans below can look for them.
const secret = () => `at_${randomBytes(18).toString('base64url')}`;
const API_KEY = secret();
const OTHER_API_KEY = secret();
const SUBJECT_TOKEN = secret();
const BASIC_PASSWORD = secret();

/** The body of a PEM, which must never appear in a log line. */
const pemBody = (pem: string) => pem.split('\n')[1]!;

describe('credential types beyond the refresh token, against local fakes speaking each dialect', () => {
  const sandbox = new Sandbox();
  let stack: Stack;
  let api: string;
  let apiKey: string;
  let sfPort: number;
  const f: Record<string, FakeProvider> = {};

  beforeAll(async () => {
    sfPort = await freePort();
    f.google = await FakeProvider.start({
      clientAuth: 'none',
      accessTokenLifetimeSeconds: 3599,
      jwtBearer: { publicKeyPem: RSA_PUBLIC, issuer: SERVICE_ACCOUNT },
    });
    f.salesforce = await FakeProvider.start({
      port: sfPort,
      clientAuth: 'none',
      responseFields: { expiresIn: null },
      issuedAt: 'epoch_ms_string',
      extraResponse: { instance_url: `http://127.0.0.1:${sfPort}` },
      jwtBearer: {
        publicKeyPem: RSA_PUBLIC,
        issuer: CONSUMER_KEY,
        subject: SF_USER,
        audience: `http://127.0.0.1:${sfPort}`,
      },
    });
    f.generic = await FakeProvider.start({
      clientAuth: 'none',
      accessTokenLifetimeSeconds: 600,
      jwtBearer: { publicKeyPem: EC_PUBLIC, issuer: 'issuer-ec' },
    });
    f.github = await FakeProvider.start({
      githubApp: { appId: '12345', publicKeyPem: APP_PUBLIC, installations: ['777', '778', '779'] },
    });
    f.keys = await FakeProvider.start({
      credentialCheck: {
        apiKeys: [API_KEY, OTHER_API_KEY],
        header: 'x-api-key',
        basicUsers: { alice: BASIC_PASSWORD },
      },
    });
    f.sts = await FakeProvider.start({
      clientAuth: 'client_secret_basic',
      tokenExchange: { subjectTokens: [SUBJECT_TOKEN] },
    });
    const entries: ProviderEntry[] = [
      {
        id: 'acme-key',
        extends: 'api-key',
        apiKey: { in: 'header', name: 'X-Api-Key', prefix: '' },
        check: { url: `${f.keys.url}/check`, intervalSeconds: 3600 },
      },
      { id: 'plain-key', extends: 'api-key', apiKey: { in: 'query', name: 'api_key' } },
      { id: 'acme-basic', extends: 'basic', check: { url: `${f.keys.url}/check`, intervalSeconds: 3600 } },
      { id: 'google-service-account', tokenUrl: f.google.tokenUrl },
      {
        id: 'salesforce-jwt',
        tokenUrlHosts: ['127.0.0.1'],
        metadataDefaults: { login_url: `http://127.0.0.1:${sfPort}` },
      },
      // No client: the assertion's iss must come from each connection.
      { id: 'ec-bearer', extends: 'jwt-bearer', tokenUrl: f.generic.tokenUrl, clientId: undefined },
      {
        id: 'github-app-installation',
        tokenUrl: `${f.github.url}/app/installations/{installation_id}/access_tokens`,
        tokenUrlHosts: ['127.0.0.1'],
        clientId: '12345',
        privateKey: APP_PKCS1,
      },
      {
        id: 'gh-own-key',
        extends: 'github-app-installation',
        tokenUrl: `${f.github.url}/app/installations/{installation_id}/access_tokens`,
        tokenUrlHosts: ['127.0.0.1'],
      },
      {
        id: 'sts',
        extends: 'token-exchange',
        tokenUrl: f.sts.tokenUrl,
        clientId: 'client-id',
        clientSecret: 'client-secret',
      },
    ];
    sandbox.useProviders(entries);
    stack = await startStack(sandbox, {
      roles: ['worker', 'scheduler', 'api'],
      env: { EVERGREEN_API_PORT: '0' },
    });
    api = stack.roles!.api!.address;
    apiKey = (
      await new ApiKeyStore(stack.parts.db).create({
        name: 'credentials test',
        scopes: ['connections:write', 'connections:read', 'tokens:read'],
        providers: null,
      })
    ).key;
  });

  afterAll(async () => {
    // No credential a test handed over, and no private key, in any log line of the run.
    const logs = stack?.logs.text ?? '';
    for (const s of [API_KEY, OTHER_API_KEY, SUBJECT_TOKEN, BASIC_PASSWORD, pemBody(RSA_PKCS8), pemBody(APP_PKCS1)]) {
      expect(logs).not.toContain(s);
    }
    await stack?.close();
    await Promise.all(Object.values(f).map((fake) => fake.close()));
    await sandbox.cleanup();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, ...(body !== undefined && { 'content-type': 'application/json' }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  /** Waits until the row shows `count` successful renewals (or checks), and returns it. */
  const renewed = (connectionId: string, count: number) => stack.waitForRefreshes(connectionId, count);

  const near = (actual: Date | null, expectedMs: number, toleranceMs = 15_000) => {
    expect(actual).not.toBeNull();
    expect(Math.abs(actual!.getTime() - expectedMs)).toBeLessThan(toleranceMs);
  };

  const lastEvent = async (connectionId: string) => {
    const [event] = await sandbox.sql<{ outcome: string; reason: string | null; http_status: number | null }[]>`
      select outcome, reason, http_status from refresh_events where connection_id = ${connectionId}
      order by id desc limit 1`;
    return event;
  };

  describe('API keys and Basic logins', () => {
    it('an API key is stored encrypted, served as the key with how to send it, and checked on its interval', async () => {
      const result = await stack.evergreen.enqueueConnection({
        ownerId: 'key-1',
        provider: 'acme-key',
        credentials: { apiKey: API_KEY },
      });
      expect(result.scheduling).toBe('scheduled');
      expect(result.expiresAt).toBeNull();
      near(result.refreshAt, Date.now() + 3600_000, 60_000);
      const [row] = await sandbox.sql<{ access_token: string; credentials: string | null }[]>`
        select access_token, credentials from connections where id = ${result.connectionId}`;
      expect(row!.access_token).not.toContain(API_KEY);
      expect(row!.credentials).toBeNull();

      expect(await stack.evergreen.getValidAccessToken(result.connectionId)).toBe(API_KEY);
      const token = await stack.evergreen.getValidToken(result.connectionId);
      expect(token).toMatchObject({
        type: 'api_key',
        tokenType: 'ApiKey',
        apiKey: API_KEY,
        accessToken: API_KEY,
        expiresAt: null,
        send: { in: 'header', name: 'X-Api-Key', value: API_KEY },
      });

      const checksBefore = f.keys!.credentialEndpoints.checks.length;
      await stack.forceRefresh(result.connectionId);
      const after = await renewed(result.connectionId, 1);
      expect(f.keys!.credentialEndpoints.checks.slice(checksBefore)).toEqual([{ status: 200 }]);
      expect(after.accessToken).toBe(API_KEY);
      near(after.refreshAt, Date.now() + 3600_000, 60_000);
    });

    it('a revoked key turns needs_reauth at its next check; reads then say so', async () => {
      const { connectionId } = await stack.evergreen.enqueueConnection({
        ownerId: 'key-2',
        provider: 'acme-key',
        credentials: { apiKey: OTHER_API_KEY },
      });
      f.keys!.credentialEndpoints.revokeApiKey(OTHER_API_KEY);
      await stack.forceRefresh(connectionId);
      const dead = await stack.waitForStatus(connectionId, 'needs_reauth', { timeoutMs: 10_000 });
      expect(dead.refreshAt).toBeNull();
      expect(await lastEvent(connectionId)).toEqual({ outcome: 'reauth', reason: 'invalid_grant', http_status: 401 });
      await expect(stack.evergreen.getValidAccessToken(connectionId)).rejects.toBeInstanceOf(NeedsReauthError);
    });

    it('a check the provider fails (503) or rate-limits never marks the key revoked', async () => {
      const { connectionId } = await stack.evergreen.enqueueConnection({
        ownerId: 'key-3',
        provider: 'acme-key',
        credentials: { apiKey: API_KEY },
      });
      f.keys!.injectFaults([{ kind: 'status', status: 503 }]);
      await stack.forceRefresh(connectionId);
      const row = await until(async () => {
        const r = await stack.read(connectionId);
        return r && r.consecutiveFailures === 1 ? r : null;
      });
      expect(row.status).toBe('connected');
      expect(await lastEvent(connectionId)).toMatchObject({ outcome: 'transient', http_status: 503 });
      expect(await stack.evergreen.getValidAccessToken(connectionId)).toBe(API_KEY);
    });

    it('a key without a check is stored and served, never scheduled; a query placement says so', async () => {
      const key = secret();
      const result = await stack.evergreen.enqueueConnection({
        ownerId: 'key-4',
        provider: 'plain-key',
        credentials: { apiKey: key },
      });
      expect(result).toMatchObject({ scheduling: 'not_needed', refreshAt: null, expiresAt: null });
      expect(await stack.evergreen.getValidToken(result.connectionId)).toMatchObject({
        type: 'api_key',
        send: { in: 'query', name: 'api_key', value: key },
      });
    });

    it('Basic credentials through the api route: stored, served as username, password and header, checked', async () => {
      const created = await call('POST', '/connections', {
        ownerId: 'basic-1',
        provider: 'acme-basic',
        credentials: { username: 'alice', password: BASIC_PASSWORD },
      });
      expect(created.status).toBe(201);
      const id = created.body.connectionId as string;
      const token = await call('GET', `/connections/${id}/token`);
      expect(token.status).toBe(200);
      const basic = Buffer.from(`alice:${BASIC_PASSWORD}`).toString('base64');
      expect(token.body).toEqual({
        type: 'basic',
        tokenType: 'Basic',
        username: 'alice',
        password: BASIC_PASSWORD,
        accessToken: basic,
        expiresAt: null,
        scopes: [],
        provider: 'acme-basic',
        send: { in: 'header', name: 'Authorization', value: `Basic ${basic}` },
      });
      // The remote SDK reads the same answer through the api.
      const remote = createEvergreen({ url: api, apiKey });
      try {
        expect(await remote.getValidToken(id)).toMatchObject({
          type: 'basic',
          username: 'alice',
          password: BASIC_PASSWORD,
        });
        expect(await remote.getValidAccessToken(id)).toBe(basic);
      } finally {
        await remote.close();
      }
      const checksBefore = f.keys!.credentialEndpoints.checks.length;
      await stack.forceRefresh(id);
      await renewed(id, 1);
      expect(f.keys!.credentialEndpoints.checks.slice(checksBefore)).toEqual([{ status: 200 }]);
    });
  });

  describe('the JWT bearer grant (RFC 7523)', () => {
    it('google-service-account: logs in on its own with a signed assertion (scope claim, kid), then signs anew', async () => {
      const { connectionId, scheduling } = await stack.evergreen.enqueueConnection({
        ownerId: 'sa-1',
        provider: 'google-service-account',
        credentials: { privateKey: RSA_PKCS8, keyId: 'key-1', issuer: SERVICE_ACCOUNT },
        scopes: ['https://www.googleapis.com/auth/drive.readonly', 'openid'],
      });
      expect(scheduling).toBe('scheduled');
      const row = await renewed(connectionId, 1);
      expect(f.google!.isAccessTokenValid(row.accessToken!)).toBe(true);
      near(row.expiresAt, Date.now() + 3599_000);
      const [assertion] = f.google!.credentialEndpoints.assertions;
      expect(assertion).toMatchObject({
        iss: SERVICE_ACCOUNT,
        aud: f.google!.tokenUrl,
        scope: 'https://www.googleapis.com/auth/drive.readonly openid',
        kid: 'key-1',
        alg: 'RS256',
        requestScope: null,
      });
      // The fake refuses a jti it has seen: a second renewal passes only with a newly signed assertion.
      await stack.forceRefresh(connectionId);
      const again = await renewed(connectionId, 2);
      expect(again.accessToken).not.toBe(row.accessToken);
      expect((await stack.evergreen.getValidToken(connectionId)).type).toBe('bearer');
      const [stored] = await sandbox.sql<{ credentials: string }[]>`
        select credentials from connections where id = ${connectionId}`;
      expect(stored!.credentials).not.toContain(pemBody(RSA_PKCS8));
    });

    it('salesforce-jwt: sub is the username, aud the login URL; issued_at sets the expiry; instance_url kept', async () => {
      const { connectionId } = await stack.evergreen.enqueueConnection({
        ownerId: 'sf-1',
        provider: 'salesforce-jwt',
        credentials: { privateKey: RSA_PKCS8, issuer: CONSUMER_KEY, subject: SF_USER },
      });
      const row = await renewed(connectionId, 1);
      near(row.expiresAt, Date.now() + 2 * 3600_000);
      expect(row.metadata.instance_url).toBe(`http://127.0.0.1:${sfPort}`);
      expect(f.salesforce!.credentialEndpoints.assertions.at(-1)).toMatchObject({
        iss: CONSUMER_KEY,
        sub: SF_USER,
        aud: `http://127.0.0.1:${sfPort}`,
        scope: undefined,
      });
    });

    it('an ES256 key and scopes in the request; a key the server does not know needs re-auth', async () => {
      const { connectionId } = await stack.evergreen.enqueueConnection({
        ownerId: 'ec-1',
        provider: 'ec-bearer',
        credentials: { privateKey: EC_PKCS8, algorithm: 'ES256', issuer: 'issuer-ec' },
        scopes: ['read', 'write'],
      });
      await renewed(connectionId, 1);
      expect(f.generic!.credentialEndpoints.assertions.at(-1)).toMatchObject({
        alg: 'ES256',
        requestScope: 'read write',
      });

      const wrong = await stack.evergreen.enqueueConnection({
        ownerId: 'ec-2',
        provider: 'ec-bearer',
        credentials: { privateKey: OTHER_PKCS8, algorithm: 'RS256', issuer: 'issuer-ec' },
      });
      await stack.waitForStatus(wrong.connectionId, 'needs_reauth', { timeoutMs: 15_000 });
      expect(await lastEvent(wrong.connectionId)).toEqual({
        outcome: 'reauth',
        reason: 'invalid_grant',
        http_status: 400,
      });
    });
  });

  describe('GitHub App installation tokens', () => {
    it("with the provider's App key: a one-hour token from an app JWT of at most 10 minutes, renewed before it lapses", async () => {
      const { connectionId } = await stack.evergreen.enqueueConnection({
        ownerId: 'gh-1',
        provider: 'github-app-installation',
        metadata: { installation_id: 777 },
      });
      const row = await renewed(connectionId, 1);
      expect(f.github!.isAccessTokenValid(row.accessToken!)).toBe(true);
      near(row.expiresAt, Date.now() + 3600_000);
      near(row.refreshAt, Date.now() + 3300_000, 60_000);
      expect(row.metadata.installation_id).toBe('777');
      const request = f.github!.credentialEndpoints.installationRequests.at(-1)!;
      expect(request).toMatchObject({ installationId: '777', status: 201, iss: '12345' });
      expect(request.lifetimeSeconds).toBeLessThanOrEqual(600);
      expect(await stack.evergreen.getValidAccessToken(connectionId)).toBe(row.accessToken);
    });

    it("with the connection's own PKCS#1 key and App id; 5xx is retried, a removed installation (404) needs re-auth", async () => {
      const { connectionId } = await stack.evergreen.enqueueConnection({
        ownerId: 'gh-2',
        provider: 'gh-own-key',
        credentials: { appId: '12345', privateKey: APP_PKCS1 },
        metadata: { installation_id: '778' },
      });
      await renewed(connectionId, 1);

      f.github!.injectFaults([{ kind: 'status', status: 502 }]);
      await stack.forceRefresh(connectionId);
      expect(await lastEvent(connectionId)).toMatchObject({ outcome: 'transient', http_status: 502 });
      expect((await stack.read(connectionId))!.status).toBe('connected');

      f.github!.credentialEndpoints.removeInstallation('778');
      await stack.forceRefresh(connectionId);
      await stack.waitForStatus(connectionId, 'needs_reauth', { timeoutMs: 10_000 });
      expect(await lastEvent(connectionId)).toEqual({ outcome: 'reauth', reason: 'invalid_grant', http_status: 404 });
    });

    it('an App id the server does not know is refused with 401: needs re-auth', async () => {
      const { connectionId } = await stack.evergreen.enqueueConnection({
        ownerId: 'gh-3',
        provider: 'gh-own-key',
        credentials: { appId: '99999', privateKey: APP_PKCS1 },
        metadata: { installation_id: '779' },
      });
      await stack.waitForStatus(connectionId, 'needs_reauth', { timeoutMs: 15_000 });
      expect(await lastEvent(connectionId)).toEqual({ outcome: 'reauth', reason: 'invalid_grant', http_status: 401 });
    });
  });

  describe('token exchange (RFC 8693)', () => {
    it('through the api route: the stored subject token is exchanged, again on each renewal, until it is revoked', async () => {
      const created = await call('POST', '/connections', {
        ownerId: 'sts-1',
        provider: 'sts',
        credentials: { subjectToken: SUBJECT_TOKEN },
      });
      expect(created.status).toBe(201);
      const id = created.body.connectionId as string;
      const row = await renewed(id, 1);
      const token = await call('GET', `/connections/${id}/token`);
      expect(token.body).toMatchObject({ type: 'bearer', tokenType: 'Bearer', accessToken: row.accessToken });
      expect(f.sts!.isAccessTokenValid(row.accessToken!)).toBe(true);

      f.sts!.credentialEndpoints.revokeSubjectToken(SUBJECT_TOKEN);
      await stack.forceRefresh(id);
      await stack.waitForStatus(id, 'needs_reauth', { timeoutMs: 10_000 });
      expect(await lastEvent(id)).toEqual({ outcome: 'reauth', reason: 'invalid_grant', http_status: 400 });
    });
  });

  describe('bad input is refused at enqueue, naming the field, never quoting the secret', () => {
    const refused = async (input: Record<string, unknown>) => {
      const error = (await stack.evergreen
        .enqueueConnection({ ownerId: 'bad', ...input } as never)
        .catch((e: unknown) => e)) as { code: string; issues: { field: string; reason: string }[]; message: string };
      expect(error.code).toBe('ERR_INVALID_INPUT');
      return error;
    };

    it('a missing API key, a username with a colon, an access token where a key belongs', async () => {
      expect((await refused({ provider: 'acme-key' })).issues).toEqual([
        { field: 'credentials.apiKey', reason: 'is required by acme-key (api_key)' },
      ]);
      expect(
        (await refused({ provider: 'acme-basic', credentials: { username: 'a:b', password: 'p' } })).issues,
      ).toEqual([{ field: 'credentials.username', reason: 'must not contain ":"' }]);
      const fields = (await refused({ provider: 'acme-key', accessToken: 'k', credentials: { apiKey: 'k' } })).issues;
      expect(fields.map((i) => i.field)).toEqual(['accessToken']);
    });

    it('a malformed PEM, a missing issuer, a bad installation id', async () => {
      const truncated = RSA_PKCS8.slice(0, 300);
      const pem = await refused({
        provider: 'ec-bearer',
        credentials: { privateKey: 'not a key' },
      });
      expect(pem.issues).toEqual([
        {
          field: 'credentials.privateKey',
          reason: 'must be a PEM private key (BEGIN PRIVATE KEY, or BEGIN RSA PRIVATE KEY)',
        },
        {
          field: 'credentials.issuer',
          reason: "is required by ec-bearer (jwt_bearer: the assertion's iss)",
        },
      ]);
      const broken = await refused({
        provider: 'google-service-account',
        credentials: { privateKey: `${truncated}\n-----END PRIVATE KEY-----\n`, issuer: SERVICE_ACCOUNT },
      });
      expect(broken.issues).toEqual([{ field: 'credentials.privateKey', reason: 'is not a readable PEM private key' }]);
      expect(broken.message).not.toContain(pemBody(RSA_PKCS8));
      const installation = await refused({
        provider: 'github-app-installation',
        metadata: { installation_id: '../../users' },
      });
      expect(installation.issues).toEqual([
        { field: 'metadata.installation_id', reason: 'must be the installation id, a positive whole number' },
      ]);
    });

    it('through the api route too: 400 with the fields', async () => {
      const res = await call('POST', '/connections', { ownerId: 'bad', provider: 'sts' });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([
        { field: 'credentials.subjectToken', reason: 'is required by sts (token_exchange)' },
      ]);
    });
  });
});
