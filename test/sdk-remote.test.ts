import { spawn } from 'node:child_process';
import { ApiKeyStore } from '@evergreen/store';
import { startRoles, type RunningRoles } from '@evergreen/runtime';
import {
  AmbiguousConnectionError,
  ApiAuthError,
  ConnectionNotFoundError,
  createEvergreen,
  DisconnectedError,
  InvalidInputError,
  NeedsReauthError,
  NotAvailableRemotelyError,
  RefreshFailedError,
  TokenTimeoutError,
  type Evergreen,
} from '@evergreen/sdk';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { REPO_ROOT } from '@evergreen/test-support/processes';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The remote SDK against a real api role (its stored keys) over a stack whose workers refresh: the same client and
 * the same typed errors as the direct mode, with no database, Redis or encryption key in the app.
 */
describe('the remote SDK', () => {
  let ps: ProviderStack;
  let roles: RunningRoles;
  let remote: Evergreen;
  let tokensOnly: Evergreen;
  let apiUrl: string;
  let fullKey: string;
  const logs = new LogCapture();

  beforeAll(async () => {
    ps = await startProviderStack(new Sandbox(), { roles: ['worker'] });
    roles = await startRoles(['api'], {
      env: ps.sandbox.env({ EVERGREEN_API_PORT: '0' }),
      logDestination: logs,
    });
    const keys = new ApiKeyStore(roles.parts.db);
    const full = await keys.create({
      name: 'remote sdk',
      scopes: ['connections:write', 'connections:read', 'tokens:read'],
      providers: null,
    });
    const reader = await keys.create({ name: 'tokens only', scopes: ['tokens:read'], providers: null });
    apiUrl = roles.api!.address;
    fullKey = full.key;
    remote = createEvergreen({ url: apiUrl, apiKey: full.key });
    tokensOnly = createEvergreen({ url: `${apiUrl}/v1/`, apiKey: reader.key });
  });
  afterAll(async () => {
    await remote?.close();
    await tokensOnly?.close();
    await roles?.close();
    await ps?.close();
  });

  const grantFor = (ownerId: string, expiresIn = 3600) => {
    const grant = ps.provider.issue({ expiresIn });
    return { ownerId, provider: 'acme', accessToken: grant.accessToken, refreshToken: grant.refreshToken, expiresIn };
  };

  it('enqueues, reads views and valid tokens by id and by (ownerId, provider)', async () => {
    const input = grantFor('remote-1');
    const first = await remote.enqueueConnection(input);
    expect(first).toMatchObject({ status: 'connected', scheduling: 'scheduled', created: true });
    expect(first.expiresAt).toBeInstanceOf(Date);
    expect(first.refreshAt).toBeInstanceOf(Date);
    expect((await remote.enqueueConnection(input)).created).toBe(false);

    expect(await remote.getValidAccessToken(first.connectionId)).toBe(input.accessToken);
    expect(await tokensOnly.getValidAccessToken({ ownerId: 'remote-1', provider: 'acme' })).toBe(input.accessToken);
    const token = await remote.getValidToken(first.connectionId, { minValiditySeconds: 60 });
    expect(token).toMatchObject({ tokenType: 'Bearer', provider: 'acme', accessToken: input.accessToken });
    expect(token.expiresAt).toBeInstanceOf(Date);

    const view = await remote.getConnection(first.connectionId);
    expect(view).toMatchObject({ connectionId: first.connectionId, ownerId: 'remote-1', provider: 'acme' });
    expect(view.createdAt).toBeInstanceOf(Date);
    expect(JSON.stringify(view)).not.toContain(input.accessToken);
  });

  it('reads by (ownerId, provider) in the direct mode too, and both modes refuse an ambiguous pair', async () => {
    const input = grantFor('pair-direct');
    await ps.stack.evergreen.enqueueConnection(input);
    expect(await ps.stack.evergreen.getValidAccessToken({ ownerId: 'pair-direct', provider: 'acme' })).toBe(
      input.accessToken,
    );
    await remote.enqueueConnection({ ...grantFor('pair-twice'), connectionId: 'pair-twice-a' });
    await remote.enqueueConnection({ ...grantFor('pair-twice'), connectionId: 'pair-twice-b' });
    const pair = { ownerId: 'pair-twice', provider: 'acme' };
    for (const client of [ps.stack.evergreen, remote]) {
      await expect(client.getValidAccessToken(pair)).rejects.toMatchObject({
        constructor: AmbiguousConnectionError,
        code: 'ERR_AMBIGUOUS_CONNECTION',
      });
    }
  });

  it('enqueues a batch with a result per item, bad items named by their index', async () => {
    const result = await remote.enqueueConnections([grantFor('batch-1'), { ownerId: '', provider: 'acme' }], {
      batchSize: 1,
    });
    expect(result).toMatchObject({ succeeded: 1, failed: 1 });
    expect(result.results[0]).toMatchObject({ index: 0, ok: true, created: true });
    expect(result.results[1]).toMatchObject({ index: 1, ok: false, error: { code: 'ERR_INVALID_INPUT' } });
  });

  it('reads the token the workers rotated, and refreshes by force', async () => {
    const input = grantFor('remote-rotating', 2);
    const { connectionId } = await remote.enqueueConnection(input);
    // A 2-second token: the worker refreshes it on its own, and the remote read sees the rotated token.
    const rotated = await until(
      async () => {
        const token = await remote.getValidAccessToken(connectionId, { minValiditySeconds: 0 });
        return token !== input.accessToken ? token : null;
      },
      { timeoutMs: 15_000, what: 'the worker to rotate the token' },
    );
    expect(ps.provider.isAccessTokenValid(rotated)).toBe(true);

    const before = await remote.getConnection(connectionId);
    const after = await remote.forceRefresh(connectionId);
    expect(after.version).toBeGreaterThan(before.version);
    expect(after.lastRefreshAt).toBeInstanceOf(Date);
  });

  it('withFreshToken refreshes once when the call answers 401, and calls again with the new token', async () => {
    const input = grantFor('remote-401');
    const { connectionId } = await remote.enqueueConnection(input);
    const seen: string[] = [];
    const result = await remote.withFreshToken(connectionId, async (token) => {
      seen.push(token);
      return token === input.accessToken ? new Response(null, { status: 401 }) : new Response('ok');
    });
    expect(result.status).toBe(200);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(input.accessToken);
    expect(seen[1]).not.toBe(input.accessToken);
    expect(ps.provider.isAccessTokenValid(seen[1]!)).toBe(true);
  });

  it('disconnects; the connection then answers DisconnectedError', async () => {
    const { connectionId } = await remote.enqueueConnection(grantFor('remote-gone'));
    expect((await remote.disconnect(connectionId)).status).toBe('disconnected');
    await expect(remote.getValidAccessToken(connectionId)).rejects.toMatchObject({
      constructor: DisconnectedError,
      code: 'ERR_DISCONNECTED',
      connectionId,
    });
  });

  it('disconnects with revoke: true and says what came of the revocation, as the direct mode does', async () => {
    // This stack's provider declares no revocation endpoint: the disconnect happens, and says why nothing was revoked.
    const { connectionId } = await remote.enqueueConnection(grantFor('remote-revoke'));
    const result = await remote.disconnect(connectionId, { revoke: true });
    expect(result).toMatchObject({ connectionId, status: 'disconnected' });
    expect(result.revocation).toEqual({ revoked: false, reason: 'no_endpoint' });
    expect((await remote.disconnect(connectionId)).revocation).toBeUndefined();
  });

  it('maps 404, 409 needs_reauth, 400 issues, 403 scope and 401 onto the typed errors', async () => {
    await expect(remote.getValidAccessToken('no-such-connection')).rejects.toMatchObject({
      constructor: ConnectionNotFoundError,
      connectionId: 'no-such-connection',
    });
    await expect(remote.getConnection('no-such-connection')).rejects.toBeInstanceOf(ConnectionNotFoundError);
    await expect(remote.getValidAccessToken({ ownerId: 'nobody', provider: 'acme' })).rejects.toBeInstanceOf(
      ConnectionNotFoundError,
    );

    const revoked = await ps.stack.connect(
      ps.provider,
      { ownerId: 'remote-revoked', provider: 'acme', expiresIn: 3600 },
      {
        revoked: true,
      },
    );
    await expect(remote.forceRefresh(revoked.connectionId)).rejects.toMatchObject({
      constructor: NeedsReauthError,
      code: 'ERR_NEEDS_REAUTH',
      connectionId: revoked.connectionId,
    });
    await expect(remote.getValidAccessToken(revoked.connectionId)).rejects.toBeInstanceOf(NeedsReauthError);

    const bad = await remote
      .enqueueConnection({ ownerId: '', provider: 'acme', expiresIn: -5 })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(InvalidInputError);
    const fields = (bad as InvalidInputError).issues.map((i) => i.field);
    expect(fields).toContain('ownerId');
    expect(fields.length).toBeGreaterThan(1);

    const scope = await tokensOnly.enqueueConnection(grantFor('no-scope')).catch((e: unknown) => e);
    expect(scope).toBeInstanceOf(ApiAuthError);
    expect(scope).toMatchObject({ status: 403, code: 'ERR_INSUFFICIENT_SCOPE' });

    const stranger = createEvergreen({ url: apiUrl, apiKey: `${fullKey.slice(0, -1)}x` });
    await expect(stranger.getConnection('x')).rejects.toMatchObject({ status: 401, code: 'ERR_UNAUTHORIZED' });
    expect(logs.text).not.toContain(fullKey);
  });

  it('carries the refresh failure reason: retryable for a 5xx, not for invalid_client', async () => {
    const { connectionId } = await remote.enqueueConnection(grantFor('remote-faults'));
    ps.provider.injectFaults([{ kind: 'status', status: 503 }]);
    const transient = await remote.forceRefresh(connectionId).catch((e: unknown) => e);
    expect(transient).toBeInstanceOf(RefreshFailedError);
    expect(transient).toMatchObject({ retryable: true, connectionId });
    expect((transient as RefreshFailedError).reason).not.toBe('transient');
    expect((transient as RefreshFailedError).retryAfterMs).toBeGreaterThan(0);

    ps.provider.injectFaults([{ kind: 'status', status: 401, body: '{"error":"invalid_client"}' }]);
    const lasting = await remote.forceRefresh(connectionId).catch((e: unknown) => e);
    expect(lasting).toBeInstanceOf(RefreshFailedError);
    expect(lasting).toMatchObject({ retryable: false, reason: 'invalid_client' });
  });

  it('tells the server its timeout: the api stops waiting by then and answers ERR_TOKEN_TIMEOUT itself', async () => {
    const { connectionId } = await remote.enqueueConnection(grantFor('remote-timeout', 600));
    // Another holder keeps the connection's refresh lock: a reader that needs a refresh waits for it.
    await ps.sandbox.redis.set(`${ps.sandbox.prefix}:lock:${connectionId}`, 'elsewhere', 'PX', 20_000);
    try {
      const error = await remote
        .getValidToken(connectionId, { minValiditySeconds: 3600, timeoutMs: 400 })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TokenTimeoutError);
      // The api answered it (the client alone would have given up 2 s later, with no answer to log).
      expect(logs.events('token read')).toContainEqual(
        expect.objectContaining({ connection: connectionId, outcome: 'ERR_TOKEN_TIMEOUT' }),
      );
    } finally {
      await ps.sandbox.redis.del(`${ps.sandbox.prefix}:lock:${connectionId}`);
    }
  });

  it('refuses subscribe with a typed error', async () => {
    await expect(remote.subscribe(() => {})).rejects.toMatchObject({
      constructor: NotAvailableRemotelyError,
      code: 'ERR_NOT_AVAILABLE_REMOTELY',
    });
  });

  it('runs in an app process holding only EVERGREEN_API_URL and EVERGREEN_API_KEY', async () => {
    const input = grantFor('remote-app');
    const { connectionId } = await remote.enqueueConnection(input);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/sdk-remote-app.ts', connectionId, 'remote-app', 'acme'],
      {
        cwd: REPO_ROOT,
        // No DATABASE_URL, REDIS_URL or EVERGREEN_ENCRYPTION_KEYS: the direct mode could not even start.
        env: { PATH: process.env.PATH ?? '', EVERGREEN_API_URL: apiUrl, EVERGREEN_API_KEY: fullKey },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, out).toBe(0);
    expect(JSON.parse(out.trim().split('\n').at(-1)!)).toEqual({
      byId: input.accessToken,
      byPair: input.accessToken,
      status: 'connected',
    });
  });
});
