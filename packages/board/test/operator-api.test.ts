import { randomUUID } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, boardFixture, type BoardFixture } from './board-fixture.ts';

interface Issue {
  field: string;
  reason: string;
}

describe('the operator API and Bull Board', () => {
  let f: BoardFixture;
  let app: FastifyInstance;
  /** Every response body of this file, scanned for tokens at the end. */
  const bodies: string[] = [];

  const call = async (options: InjectOptions): Promise<LightMyRequestResponse> => {
    const res = await app.inject({ ...options, headers: { ...bearer, ...options.headers } });
    bodies.push(res.body);
    return res;
  };
  const get = (url: string) => call({ method: 'GET', url });
  const post = (url: string, payload?: unknown) =>
    call({ method: 'POST', url, ...(payload !== undefined && { payload: payload as Record<string, unknown> }) });

  const connect = (provider: 'acme' | 'beta', ownerId: string, expiresIn = 3600, connectionId?: string) =>
    f.connect({ ...(connectionId !== undefined && { connectionId }), ownerId, provider, expiresIn });

  const expect400 = (res: LightMyRequestResponse, field: string) => {
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json<{ error: string; issues: Issue[] }>();
    expect(body.error).toBe('ERR_INVALID_INPUT');
    expect(body.issues.map((i) => i.field)).toContain(field);
    for (const issue of body.issues) expect(issue.reason).toEqual(expect.any(String));
  };

  beforeAll(async () => {
    f = await boardFixture();
    app = f.board();
  });
  afterAll(async () => {
    await f?.close();
  });

  describe('GET /api/connections', () => {
    it('pages by id with a cursor and filters by provider, owner, status and expiry', async () => {
      const owner = `owner-${randomUUID()}`;
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        ids.push(
          (await connect(i < 3 ? 'acme' : 'beta', owner, i === 0 ? 600 : 7200, `page-${owner}-${i}`)).connectionId,
        );
      }
      ids.sort();
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res = await get(
          `/api/connections?ownerId=${owner}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(res.statusCode).toBe(200);
        const page = res.json<{ items: { connectionId: string }[]; nextCursor: string | null }>();
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((i) => i.connectionId));
        cursor = page.nextCursor;
        pages += 1;
      } while (cursor !== null);
      expect(seen).toEqual(ids);
      expect(pages).toBe(3);

      const beta = (await get(`/api/connections?ownerId=${owner}&provider=beta`)).json<{
        items: { provider: string; ownerId: string; status: string }[];
      }>();
      expect(beta.items).toHaveLength(2);
      expect(beta.items.every((i) => i.provider === 'beta' && i.ownerId === owner && i.status === 'connected')).toBe(
        true,
      );
      const expiring = (await get(`/api/connections?ownerId=${owner}&expiringWithinSeconds=3600`)).json<{
        items: { connectionId: string }[];
      }>();
      expect(expiring.items.map((i) => i.connectionId)).toEqual([`page-${owner}-0`]);
      const none = (await get(`/api/connections?ownerId=${owner}&status=needs_reauth`)).json<{ items: unknown[] }>();
      expect(none.items).toEqual([]);
    });

    it('shows the view fields, and never a token field', async () => {
      const { connectionId } = await connect('acme', `owner-${randomUUID()}`);
      const res = await get(`/api/connections?limit=500`);
      const item = res.json<{ items: Record<string, unknown>[] }>().items.find((i) => i.connectionId === connectionId);
      expect(item).toMatchObject({ provider: 'acme', status: 'connected', consecutiveFailures: 0, version: 1 });
      expect(Object.keys(item!).sort()).toEqual(
        [
          'connectionId',
          'ownerId',
          'provider',
          'status',
          'scopes',
          'metadata',
          'expiresAt',
          'refreshAt',
          'refreshTokenExpiresAt',
          'lastRefreshAt',
          'lastRefreshOutcome',
          'lastRefreshReason',
          'consecutiveFailures',
          'version',
          'createdAt',
          'updatedAt',
        ].sort(),
      );
    });

    it.each([
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=1.5', 'limit'],
      ['status=alive', 'status'],
      ['provider=ACME!', 'provider'],
      ['expiringWithinSeconds=-1', 'expiringWithinSeconds'],
      ['expiringWithinSeconds=soon', 'expiringWithinSeconds'],
      ['cursor=a%20b', 'cursor'],
      ['colour=green', 'colour'],
    ])('answers 400 naming the field for %s', async (query, field) => {
      expect400(await get(`/api/connections?${query}`), field);
    });
  });

  describe('GET /api/connections/:id', () => {
    it('answers the view and its refresh attempts, newest first', async () => {
      const { connectionId } = await connect('acme', `owner-${randomUUID()}`);
      expect((await post(`/api/connections/${connectionId}/refresh`)).statusCode).toBe(200);
      expect((await post(`/api/connections/${connectionId}/refresh`)).statusCode).toBe(200);
      const res = await get(`/api/connections/${connectionId}`);
      expect(res.statusCode).toBe(200);
      const body = res.json<{ connectionId: string; version: number; refreshEvents: Record<string, unknown>[] }>();
      expect(body.connectionId).toBe(connectionId);
      expect(body.version).toBe(3);
      expect(body.refreshEvents).toHaveLength(2);
      expect(body.refreshEvents[0]).toMatchObject({
        outcome: 'success',
        reason: null,
        httpStatus: 200,
        applied: true,
        trigger: 'forced',
        durationMs: expect.any(Number),
        process: expect.any(String),
        createdAt: expect.any(String),
      });
      const [a, b] = body.refreshEvents.map((e) => Date.parse(e.createdAt as string));
      expect(a!).toBeGreaterThanOrEqual(b!);
    });

    it('keeps only the last 50 attempts', async () => {
      const { connectionId } = await connect('acme', `owner-${randomUUID()}`);
      await f.sandbox.sql`
        insert into refresh_events (connection_id, provider, outcome, reason, http_status, duration_ms, applied, trigger, process, created_at)
        select ${connectionId}, 'acme', 'transient', 'server_error', 503, 10, false, 'schedule', 'test', now() - make_interval(secs => g)
        from generate_series(1, 60) g`;
      const body = (await get(`/api/connections/${connectionId}`)).json<{ refreshEvents: unknown[] }>();
      expect(body.refreshEvents).toHaveLength(50);
    });

    it('answers 404 for an unknown connection and 400 for a malformed id', async () => {
      const res = await get('/api/connections/no-such-connection');
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ error: 'ERR_CONNECTION_NOT_FOUND' });
      expect400(await get('/api/connections/bad%3Aid'), 'id');
    });
  });

  describe('POST /api/connections/:id/refresh', () => {
    it('refreshes at the provider now and answers the new view', async () => {
      const { grant, connectionId } = await connect('acme', `owner-${randomUUID()}`);
      const before = f.acme.grant(grant.grantId)!.refreshCount;
      const res = await post(`/api/connections/${connectionId}/refresh`);
      expect(res.statusCode, res.body).toBe(200);
      expect(f.acme.grant(grant.grantId)!.refreshCount).toBe(before + 1);
      expect(res.json()).toMatchObject({
        connectionId,
        status: 'connected',
        version: 2,
        lastRefreshOutcome: 'success',
      });
      const stored = await f.stack.read(connectionId);
      expect(stored!.accessToken).not.toBe(grant.accessToken);
      expect(f.acme.isAccessTokenValid(stored!.accessToken!)).toBe(true);
    });

    it('answers 404 for an unknown connection, 400 for a malformed id, 409 for a disconnected one', async () => {
      expect((await post('/api/connections/nobody-here/refresh')).statusCode).toBe(404);
      expect400(await post('/api/connections/%20/refresh'), 'id');
      const { connectionId } = await connect('beta', `owner-${randomUUID()}`);
      await post(`/api/connections/${connectionId}/disconnect`);
      const res = await post(`/api/connections/${connectionId}/refresh`);
      expect(res.statusCode).toBe(409);
      expect(res.json()).toMatchObject({ error: 'ERR_DISCONNECTED' });
    });
  });

  describe('POST /api/connections/refresh (bulk)', () => {
    it('makes the matching live connections due now and moves their jobs, and leaves the others alone', async () => {
      const owner = `owner-${randomUUID()}`;
      const a = await connect('acme', owner, 7200, `bulk-${owner}-a`);
      const b = await connect('beta', owner, 7200, `bulk-${owner}-b`);
      const gone = await connect('acme', owner, 7200, `bulk-${owner}-gone`);
      await post(`/api/connections/${gone.connectionId}/disconnect`);
      const other = await connect('acme', `owner-${randomUUID()}`, 7200);

      const started = Date.now();
      const res = await post('/api/connections/refresh', { ownerId: owner });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual({ scheduled: 2, deferred: 0 });

      for (const [provider, id] of [
        ['acme', a.connectionId],
        ['beta', b.connectionId],
      ] as const) {
        const job = await f.queues.queue(provider).getJob(id);
        expect(job!.timestamp + job!.delay).toBeLessThanOrEqual(Date.now());
        expect(job!.timestamp + job!.delay).toBeGreaterThanOrEqual(started - 1_000);
        const [row] = await f.sandbox.sql<{ refresh_at: Date }[]>`select refresh_at from connections where id = ${id}`;
        expect(Math.abs(row!.refresh_at.getTime() - Date.now())).toBeLessThan(5_000);
      }
      expect(await f.queues.queue('acme').getJob(gone.connectionId)).toBeUndefined();
      const untouched = await f.queues.queue('acme').getJob(other.connectionId);
      expect(untouched!.timestamp + untouched!.delay).toBeGreaterThan(Date.now() + 30 * 60_000);
    });

    it('filters by provider and caps at limit', async () => {
      const owner = `owner-${randomUUID()}`;
      for (let i = 0; i < 3; i++) await connect('beta', owner, 7200, `cap-${owner}-${i}`);
      await connect('acme', owner, 7200, `cap-${owner}-acme`);
      const res = await post('/api/connections/refresh', { ownerId: owner, provider: 'beta', limit: 2 });
      expect(res.json()).toEqual({ scheduled: 2, deferred: 0 });
      const rows = await f.sandbox.sql<{ id: string }[]>`
        select id from connections where owner_id = ${owner} and refresh_at < now() + interval '1 minute' order by id`;
      expect(rows.map((r) => r.id)).toEqual([`cap-${owner}-0`, `cap-${owner}-1`]);
    });

    it('matches by expiry window and status', async () => {
      const owner = `owner-${randomUUID()}`;
      await connect('acme', owner, 900, `win-${owner}-soon`);
      await connect('beta', owner, 20_000, `win-${owner}-late`);
      const res = await post('/api/connections/refresh', {
        ownerId: owner,
        status: 'connected',
        expiringWithinSeconds: 1800,
      });
      expect(res.json()).toEqual({ scheduled: 1, deferred: 0 });
    });

    it.each([
      [{ limit: 1001 }, 'limit'],
      [{ limit: 0 }, 'limit'],
      [{ status: 'needs_reauth' }, 'status'],
      [{ provider: 'nope' }, 'provider'],
      [{ provider: 'Bad Provider' }, 'provider'],
      [{ expiringWithinSeconds: '60' }, 'expiringWithinSeconds'],
      [{ ownerId: '' }, 'ownerId'],
      [{ everything: true }, 'everything'],
    ])('answers 400 for %j naming the field', async (payload, field) => {
      expect400(await post('/api/connections/refresh', payload), field);
    });

    it('answers 400 for a body that is not JSON', async () => {
      const res = await call({
        method: 'POST',
        url: '/api/connections/refresh',
        headers: { 'content-type': 'application/json' },
        payload: '{"limit":',
      });
      expect400(res, 'body');
      expect400(await post('/api/connections/refresh', [1, 2]), 'body');
    });

    it('accepts an empty body (every live connection, up to 1000)', async () => {
      const res = await call({ method: 'POST', url: '/api/connections/refresh' });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json<{ scheduled: number }>().scheduled).toBeGreaterThan(0);
    });
  });

  describe('POST /api/connections/:id/disconnect', () => {
    it('wipes the tokens, removes the job and answers the disconnected view', async () => {
      const { connectionId } = await connect('acme', `owner-${randomUUID()}`);
      expect(await f.queues.queue('acme').getJob(connectionId)).toBeDefined();
      const res = await post(`/api/connections/${connectionId}/disconnect`);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ connectionId, status: 'disconnected', refreshAt: null });
      const stored = await f.stack.read(connectionId);
      expect(stored).toMatchObject({ status: 'disconnected', accessToken: null, refreshToken: null });
      expect(await f.queues.queue('acme').getJob(connectionId)).toBeUndefined();
      expect((await get(`/api/connections/${connectionId}`)).json()).toMatchObject({ status: 'disconnected' });
    });

    it('answers 404 for an unknown connection and 400 for a malformed id', async () => {
      expect((await post('/api/connections/nobody-here/disconnect')).statusCode).toBe(404);
      expect400(await post(`/api/connections/${'x'.repeat(129)}/disconnect`), 'id');
    });
  });

  describe('GET /api/health/tokens', () => {
    it('answers the summary (numbers are checked against inserted rows in token-health.test.ts)', async () => {
      const res = await get('/api/health/tokens');
      expect(res.statusCode).toBe(200);
      const body = res.json<{ total: number; byStatus: Record<string, number>; refreshes: { buckets: unknown[] } }>();
      expect(body.total).toBeGreaterThan(0);
      expect(Object.keys(body.byStatus).sort()).toEqual(
        ['connected', 'disconnected', 'error', 'needs_reauth', 'token_expired'].sort(),
      );
      expect(body.refreshes.buckets).toHaveLength(72);
    });
  });

  describe('GET /api/openapi.json', () => {
    it('documents every route with its parameters', async () => {
      const res = await get('/api/openapi.json');
      expect(res.statusCode).toBe(200);
      const doc = res.json<{
        openapi: string;
        paths: Record<string, Record<string, { parameters?: { name: string }[]; requestBody?: unknown }>>;
      }>();
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths).sort()).toEqual(
        [
          '/api/connections',
          '/api/connections/refresh',
          '/api/connections/{id}',
          '/api/connections/{id}/refresh',
          '/api/connections/{id}/disconnect',
          '/api/connections/{id}/reconnect',
          '/api/health/tokens',
          '/api/api-keys',
          '/api/api-keys/{id}/revoke',
        ].sort(),
      );
      const listParams = doc.paths['/api/connections']!.get!.parameters!.map((p) => p.name);
      expect(listParams).toEqual(
        expect.arrayContaining(['status', 'provider', 'ownerId', 'expiringWithinSeconds', 'limit', 'cursor']),
      );
      expect(doc.paths['/api/connections/refresh']!.post!.requestBody).toBeDefined();
    });
  });

  describe('Bull Board at /board', () => {
    it('serves the UI and lists every provider queue', async () => {
      const page = await get('/board');
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      const res = await get('/board/api/queues');
      expect(res.statusCode).toBe(200);
      const queues = res.json<{ queues: { name: string; readOnlyMode: boolean }[] }>().queues;
      expect(queues.map((q) => q.name).sort()).toEqual(['refresh-acme', 'refresh-beta']);
      expect(queues.every((q) => !q.readOnlyMode)).toBe(true);
    });

    it("shows a job's data as { connectionId } only", async () => {
      const queue = f.queues.queue('beta');
      const leak = `at_${randomUUID()}`;
      await queue.add('refresh', { connectionId: 'masked-job', accessToken: leak } as { connectionId: string }, {
        jobId: 'masked-job',
        delay: 3_600_000,
      });
      try {
        const res = await app.inject({ url: '/board/api/queues/refresh-beta/masked-job', headers: bearer });
        expect(res.statusCode).toBe(200);
        expect(res.json<{ job: { data: unknown } }>().job.data).toEqual({ connectionId: 'masked-job' });
        expect(res.body).not.toContain(leak);
        const list = await app.inject({
          url: '/board/api/queues?activeQueue=refresh-beta&status=delayed&page=1&jobsPerPage=1000',
          headers: bearer,
        });
        expect(list.statusCode).toBe(200);
        expect(list.body).toContain('masked-job');
        expect(list.body).not.toContain(leak);
      } finally {
        await queue.remove('masked-job');
      }
    });

    it('is read-only when asked: every queue flagged, and actions refused', async () => {
      const { connectionId } = await connect('acme', `owner-${randomUUID()}`);
      const readOnly = f.board({ readOnly: true });
      const res = await readOnly.inject({ url: '/board/api/queues', headers: bearer });
      bodies.push(res.body);
      const queues = res.json<{ queues: { name: string; readOnlyMode: boolean; allowRetries: boolean }[] }>().queues;
      expect(queues).toHaveLength(2);
      expect(queues.every((q) => q.readOnlyMode)).toBe(true);
      const pause = await readOnly.inject({
        method: 'PUT',
        url: '/board/api/queues/refresh-acme/pause',
        headers: bearer,
      });
      expect(pause.statusCode).toBe(405);
      const promote = await readOnly.inject({
        method: 'PUT',
        url: `/board/api/queues/refresh-acme/${connectionId}/promote`,
        headers: bearer,
      });
      expect(promote.statusCode).toBe(405);
      expect(await f.queues.queue('acme').isPaused()).toBe(false);
      expect(await f.queues.queue('acme').getJobState(connectionId)).toBe('delayed');
    });
  });

  it('never answers a token the providers issued, in any response', async () => {
    // Bull Board's listings of every state too.
    for (const q of ['refresh-acme', 'refresh-beta']) {
      for (const status of ['latest', 'delayed', 'waiting', 'completed', 'failed']) {
        await get(`/board/api/queues?activeQueue=${q}&status=${status}&page=1&jobsPerPage=1000`);
      }
    }
    const tokens = [...f.acme.allIssuedTokens(), ...f.beta.allIssuedTokens()];
    expect(tokens.length).toBeGreaterThan(20);
    expect(bodies.length).toBeGreaterThan(50);
    const all = bodies.join('\n');
    for (const token of tokens) expect(all.includes(token), 'a token leaked into a response').toBe(false);
    expect(all).not.toMatch(/\b(at|rt)_[A-Za-z0-9_-]{43}\b/);
  });
});
