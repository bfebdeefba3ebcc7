import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { FakeProvider } from '@evergreen/fake-provider';
import { ConnectionLock, queueName } from '@evergreen/queue';
import {
  ConnectionNotFoundError,
  createEvergreen,
  DisconnectedError,
  NeedsReauthError,
  RefreshFailedError,
  TokenTimeoutError,
  type ConnectionEvent,
} from '@evergreen/sdk';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@evergreen/test-support/processes';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

describe('the producer SDK', () => {
  const sandbox = new Sandbox();
  let provider: FakeProvider;
  let slow: FakeProvider;
  let stack: Stack;
  let queue: Queue;

  beforeAll(async () => {
    provider = await FakeProvider.start({ accessTokenLifetimeSeconds: 3600 });
    slow = await FakeProvider.start({ accessTokenLifetimeSeconds: 3600, latencyMs: 600 });
    sandbox.useProviders([
      { id: 'acme', tokenUrl: provider.tokenUrl },
      { id: 'slow', tokenUrl: slow.tokenUrl },
    ]);
    stack = await startStack(sandbox); // no worker: every refresh here is the SDK's own
    queue = new Queue(queueName('acme'), { connection: sandbox.redis, prefix: sandbox.prefix });
  });

  afterAll(async () => {
    await queue?.close();
    await stack?.close();
    await Promise.all([provider?.close(), slow?.close()]);
    await sandbox.cleanup();
  });

  const connect = (fake: FakeProvider, providerId: string, expiresIn: number, ownerId = `o-${Math.random()}`) =>
    stack.connect(fake, { ownerId, provider: providerId, expiresIn });

  describe('getValidAccessToken()', () => {
    it('returns the stored token, decrypted, without asking the provider, while it is valid long enough', async () => {
      const { grant, connectionId } = await connect(provider, 'acme', 3600);
      const before = provider.requests.length;
      expect(await stack.evergreen.getValidAccessToken(connectionId)).toBe(grant.accessToken);
      expect(provider.requests.length).toBe(before);
    });

    it('refreshes now when the token is not valid for long enough, and reschedules the job', async () => {
      const { grant, connectionId } = await connect(provider, 'acme', 60); // less than the 300 s buffer
      const token = await stack.evergreen.getValidAccessToken(connectionId);
      expect(token).not.toBe(grant.accessToken);
      expect(provider.isAccessTokenValid(token)).toBe(true);
      const row = await stack.read(connectionId);
      // The delayed set's score is when the job wakes (ms × 0x1000 + a counter); the job's timestamp + delay is not,
      // once its delay has been changed (the timestamp stays the job's creation time).
      const score = await sandbox.redis.zscore(queue.keys.delayed!, connectionId);
      expect(Math.abs(Math.floor(Number(score) / 0x1000) - row!.refreshAt!.getTime())).toBeLessThan(1_000);
      const [event] = await sandbox.sql`select trigger from refresh_events where connection_id = ${connectionId}`;
      expect(event!.trigger).toBe('on_demand');
    });

    it('honours minValiditySeconds', async () => {
      const { grant, connectionId } = await connect(provider, 'acme', 600);
      expect(await stack.evergreen.getValidAccessToken(connectionId, { minValiditySeconds: 60 })).toBe(
        grant.accessToken,
      );
      expect(await stack.evergreen.getValidAccessToken(connectionId, { minValiditySeconds: 900 })).not.toBe(
        grant.accessToken,
      );
    });

    it('single-flight inside a process: twenty concurrent callers, one refresh', async () => {
      const { grant, connectionId } = await connect(slow, 'slow', 10);
      const tokens = await Promise.all(
        Array.from({ length: 20 }, () => stack.evergreen.getValidAccessToken(connectionId)),
      );
      expect(new Set(tokens).size).toBe(1);
      expect(slow.grant(grant.grantId)!.refreshCount).toBe(1);
    });

    it('across processes: two processes asking at once for an expiring token cause one refresh', async () => {
      const { grant, connectionId } = await connect(slow, 'slow', 10);
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'internal-packages/test-support/src/token-caller.ts', connectionId, '300'],
        {
          cwd: REPO_ROOT,
          env: sandbox.env(),
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await until(() => out.includes('ready'), { timeoutMs: 20_000, what: 'the other process' });
      child.stdin.write('go\n');
      const mine = await stack.evergreen.getValidAccessToken(connectionId);
      await until(() => out.includes('"token"') || out.includes('"error"'), {
        timeoutMs: 20_000,
        what: "the other process's token",
      });
      const theirs = JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { token?: string; error?: string };
      expect(theirs.error).toBeUndefined();
      expect(theirs.token).toBe(mine);
      expect(slow.grant(grant.grantId)!.refreshCount).toBe(1);
      expect(slow.reuseCount()).toBe(0);
    });

    it('says why it cannot: not found, needs re-auth, refresh failed (with the reason), timed out', async () => {
      await expect(stack.evergreen.getValidAccessToken('no-such-connection')).rejects.toBeInstanceOf(
        ConnectionNotFoundError,
      );

      const revoked = await connect(provider, 'acme', 10);
      provider.revoke(revoked.grant.grantId);
      await expect(stack.evergreen.getValidAccessToken(revoked.connectionId)).rejects.toBeInstanceOf(NeedsReauthError);
      await expect(stack.evergreen.getValidAccessToken(revoked.connectionId)).rejects.toBeInstanceOf(NeedsReauthError);

      const flaky = await connect(provider, 'acme', 10);
      provider.injectFaults([{ kind: 'status', status: 503 }]);
      const failed = await stack.evergreen.getValidAccessToken(flaky.connectionId).catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(RefreshFailedError);
      expect(failed).toMatchObject({ reason: 'server_error', retryable: true, code: 'ERR_REFRESH_FAILED' });
      expect((failed as Error).message).not.toContain(flaky.grant.refreshToken);

      const locked = await connect(provider, 'acme', 10);
      const held = await new ConnectionLock(sandbox.redis, sandbox.prefix).acquire(locked.connectionId, 10_000);
      const started = Date.now();
      await expect(stack.evergreen.getValidAccessToken(locked.connectionId, { timeoutMs: 500 })).rejects.toBeInstanceOf(
        TokenTimeoutError,
      );
      expect(Date.now() - started).toBeLessThan(3_000);
      await new ConnectionLock(sandbox.redis, sandbox.prefix).release(held!);
    });
  });

  describe('withFreshToken()', () => {
    let api: Server;
    let apiUrl: string;
    const rejected = new Set<string>();

    beforeAll(async () => {
      // An API that, like a real one, answers 401 to a token its provider has stopped honouring.
      api = createServer((req, res) => {
        const token = (req.headers.authorization ?? '').replace('Bearer ', '');
        res.statusCode = rejected.has(token) || !provider.isAccessTokenValid(token) ? 401 : 200;
        res.end();
      });
      await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
      apiUrl = `http://127.0.0.1:${(api.address() as { port: number }).port}/me`;
    });

    afterAll(() => new Promise<void>((resolve) => api.close(() => resolve())));

    it('on a 401 Response, refreshes once and calls again with the new token', async () => {
      const { grant, connectionId } = await connect(provider, 'acme', 3600);
      rejected.add(grant.accessToken);
      const seen: string[] = [];
      const response = await stack.evergreen.withFreshToken(connectionId, (token) => {
        seen.push(token);
        return fetch(apiUrl, { headers: { authorization: `Bearer ${token}` } });
      });
      expect(response.status).toBe(200);
      expect(seen).toHaveLength(2);
      expect(seen[0]).toBe(grant.accessToken);
      expect(provider.isAccessTokenValid(seen[1]!)).toBe(true);
    });

    it('on an error carrying status 401 too, and only once: a second 401 is the caller’s', async () => {
      const { connectionId } = await connect(provider, 'acme', 3600);
      let calls = 0;
      const result = await stack.evergreen
        .withFreshToken(connectionId, () => {
          calls += 1;
          throw Object.assign(new Error('unauthorized'), { status: 401 });
        })
        .catch((e: unknown) => e as Error);
      expect(calls).toBe(2);
      expect(result.message).toBe('unauthorized');
    });

    it('passes other results and errors straight through', async () => {
      const { connectionId } = await connect(provider, 'acme', 3600);
      expect(await stack.evergreen.withFreshToken(connectionId, () => ({ status: 404 }))).toEqual({ status: 404 });
      await expect(
        stack.evergreen.withFreshToken(connectionId, () => Promise.reject(new Error('boom'))),
      ).rejects.toThrow('boom');
    });
  });

  it('forceRefresh() refreshes a token that is still fresh and returns the connection without secrets', async () => {
    const { grant, connectionId } = await connect(provider, 'acme', 3600);
    const view = await stack.evergreen.forceRefresh(connectionId);
    expect(provider.grant(grant.grantId)!.refreshCount).toBe(1);
    expect(view).toMatchObject({ connectionId, status: 'connected', version: 2 });
    expect(JSON.stringify(view)).not.toContain(provider.grant(grant.grantId)!.currentAccessToken);
    expect(JSON.stringify(view)).not.toContain(provider.grant(grant.grantId)!.currentRefreshToken);
  });

  it('disconnect() removes the job, wipes the tokens, keeps the history', async () => {
    const { connectionId } = await connect(provider, 'acme', 60);
    await stack.evergreen.getValidAccessToken(connectionId); // a refresh: some history
    expect(await queue.getJob(connectionId)).toBeDefined();
    const view = await stack.evergreen.disconnect(connectionId);
    expect(view.status).toBe('disconnected');
    expect(await queue.getJob(connectionId)).toBeUndefined();
    const [raw] =
      await sandbox.sql`select access_token, refresh_token, previous_refresh_token, credentials, refresh_at from connections where id = ${connectionId}`;
    expect(raw).toEqual({
      access_token: null,
      refresh_token: null,
      previous_refresh_token: null,
      credentials: null,
      refresh_at: null,
    });
    const history =
      await sandbox.sql`select count(*)::int as n from refresh_events where connection_id = ${connectionId}`;
    expect(history[0]!.n).toBe(1);
    await expect(stack.evergreen.getValidAccessToken(connectionId)).rejects.toBeInstanceOf(DisconnectedError);
    await expect(stack.evergreen.disconnect('no-such-connection')).rejects.toBeInstanceOf(ConnectionNotFoundError);
  });

  it('getConnection() shows everything but secrets', async () => {
    const { grant, connectionId } = await connect(provider, 'acme', 3600, 'viewer');
    const view = await stack.evergreen.getConnection(connectionId);
    expect(view).toMatchObject({
      connectionId,
      ownerId: 'viewer',
      provider: 'acme',
      status: 'connected',
      consecutiveFailures: 0,
    });
    const text = JSON.stringify(view);
    expect(text).not.toContain(grant.accessToken);
    expect(text).not.toContain(grant.refreshToken);
    expect(text).not.toContain('evg1.');
  });

  it("a client over a process's parts uses them and leaves them open when it closes", async () => {
    const { connectionId } = await connect(provider, 'acme', 3600, 'shared-parts');
    const other = createEvergreen({ parts: stack.parts });
    expect((await other.getConnection(connectionId)).ownerId).toBe('shared-parts');
    await other.close();
    expect(stack.parts.producer.redis.status).toBe('ready');
    expect((await stack.evergreen.getConnection(connectionId)).ownerId).toBe('shared-parts');
    expect(await stack.evergreen.getValidAccessToken(connectionId)).toBeTruthy();
  });

  it('enqueueConnections() imports 10,000 in one call, reporting bad items without failing the good ones', async () => {
    const inputs = Array.from({ length: 10_000 }, (_, i) =>
      i % 1000 === 7
        ? { ownerId: `bulk-${i}`, provider: 'nope', accessToken: 'a' } // unknown provider
        : { ownerId: `bulk-${i}`, provider: 'acme', accessToken: `at-${i}`, refreshToken: `rt-${i}`, expiresIn: 3600 },
    );
    const started = Date.now();
    const { results, succeeded, failed } = await stack.evergreen.enqueueConnections(inputs);
    const ms = Date.now() - started;
    expect(succeeded).toBe(9_990);
    expect(failed).toBe(10);
    expect(results.map((r) => r.index)).toEqual(inputs.map((_, i) => i));
    const bad = results.find((r) => r.index === 7)!;
    expect(bad).toMatchObject({ ok: false, error: { code: 'ERR_INVALID_INPUT', issues: [{ field: 'provider' }] } });
    const [count] = await sandbox.sql`select count(*)::int as n from connections where owner_id like 'bulk-%'`;
    expect(count!.n).toBe(9_990);
    const delayed = await queue.getJobCounts('delayed');
    expect(delayed.delayed).toBeGreaterThanOrEqual(9_990);
    const sample = results.find((r) => r.index === 42)!;
    expect(sample).toMatchObject({ ok: true, scheduling: 'scheduled' });
    expect((await stack.read((sample as { connectionId: string }).connectionId))!.refreshToken).toBe('rt-42');
    console.info(`enqueueConnections: 10,000 items in ${ms} ms`);

    // Calling again updates the same connections (identity by owner and provider) and moves their jobs.
    const again = await stack.evergreen.enqueueConnections(inputs.slice(0, 5).map((i) => ({ ...i, expiresIn: 900 })));
    expect(again.results.map((r) => r.ok && r.connectionId)).toEqual(
      results.slice(0, 5).map((r) => r.ok && r.connectionId),
    );
    for (const result of again.results) {
      expect(result).toMatchObject({ ok: true, scheduling: 'scheduled' });
      const id = (result as { connectionId: string }).connectionId;
      const [row, score] = await Promise.all([
        stack.read(id),
        sandbox.redis.zscore(`${sandbox.prefix}:${queueName('acme')}:delayed`, id),
      ]);
      // The token now lives 15 minutes, not an hour: the job moved to the row's new, earlier refresh time (a delayed
      // job's score is its run time in ms times 4096, plus a counter).
      expect(row!.refreshAt!.getTime()).toBeLessThan(Date.now() + 900_000);
      expect(Math.abs(Math.floor(Number(score) / 4096) - row!.refreshAt!.getTime())).toBeLessThan(1_000);
    }
  });

  it('events: one per change, in the same transaction, seen by in-process subscribers, never with a token', async () => {
    const seen: ConnectionEvent[] = [];
    const unsubscribe = await stack.evergreen.subscribe((event) => void seen.push(event));
    try {
      const { grant, connectionId } = await connect(provider, 'acme', 60, 'event-owner');
      await stack.evergreen.getValidAccessToken(connectionId);
      provider.revoke(grant.grantId);
      await stack.evergreen.forceRefresh(connectionId).catch(() => {});
      const forThis = () => seen.filter((e) => 'connectionId' in e.data && e.data.connectionId === connectionId);
      await until(() => forThis().length >= 4, { what: 'four events' });
      const kinds = forThis().map((e) => e.kind);
      expect(kinds).toEqual([
        'connection.created',
        'connection.connected',
        'connection.refreshed',
        'connection.needs_reauth',
      ]);
      const rows =
        await sandbox.sql`select kind, payload from connection_events where connection_id = ${connectionId} order by id`;
      expect(rows.map((r) => r.kind)).toEqual(kinds);
      expect(rows[3]!.payload).toMatchObject({
        ownerId: 'event-owner',
        provider: 'acme',
        status: 'needs_reauth',
        reason: 'invalid_grant',
      });
      const everything = JSON.stringify(rows) + JSON.stringify(seen);
      for (const token of provider.allIssuedTokens()) expect(everything.includes(token)).toBe(false);
    } finally {
      await unsubscribe();
    }
  });
});
