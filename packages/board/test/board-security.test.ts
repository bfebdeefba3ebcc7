import { randomBytes, randomUUID } from 'node:crypto';
import { loadConfig } from '@evergreen/config';
import { ConfigError } from '@evergreen/core';
import { createLogger } from '@evergreen/log';
import { LogCapture } from '@evergreen/test-support/log-capture';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_HEALTH_PAGE_CSP } from '../src/ui/token-health-page.ts';
import { basicHeader, bearer, boardFixture, PASSWORD, USER, type BoardFixture } from './board-fixture.ts';

/** What a browser that logged in with basic credentials sends along with any request, a cross-site one included. */
const basic = basicHeader(USER, PASSWORD);
/** The same, from a page the board served itself. */
const sameOrigin = {
  ...basic,
  host: '127.0.0.1:3000',
  origin: 'http://127.0.0.1:3000',
  'sec-fetch-site': 'same-origin',
};

describe('board security (issue 15)', () => {
  let f: BoardFixture;
  let app: FastifyInstance;

  const connect = async (ownerId = `owner-${randomUUID()}`) =>
    (await f.connect({ provider: 'acme', ownerId, expiresIn: 3600 })).connectionId;
  const statusOf = async (id: string) => (await f.stack.read(id))!.status;

  beforeAll(async () => {
    f = await boardFixture();
    app = f.board();
  });
  afterAll(async () => {
    await f?.close();
  });

  describe('finding 2: CSRF under basic auth', () => {
    it('refuses a cross-site form POST (enctype text/plain) to disconnect, and the tokens stay', async () => {
      const id = await connect();
      const res = await app.inject({
        method: 'POST',
        url: `/api/connections/${id}/disconnect`,
        headers: {
          ...basic,
          'content-type': 'text/plain',
          origin: 'https://evil.example',
          'sec-fetch-site': 'cross-site',
        },
        payload: '{"x":"y"}',
      });
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json()).toMatchObject({ error: 'ERR_CROSS_SITE_REQUEST' });
      expect(await statusOf(id)).toBe('connected');
    });

    it('refuses a cross-site POST that would revoke an API key, and the key stays', async () => {
      const apiKeyId = randomBytes(8).toString('hex');
      await f.sandbox.sql`insert into api_keys (id, name, secret_hash, scopes)
        values (${apiKeyId}, 'csrf test', ${'0'.repeat(64)}, ${['tokens:read']})`;
      const res = await app.inject({
        method: 'POST',
        url: `/api/api-keys/${apiKeyId}/revoke`,
        headers: { ...basic, origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      });
      expect(res.statusCode, res.body).toBe(403);
      const [row] = await f.sandbox.sql`select revoked_at from api_keys where id = ${apiKeyId}`;
      expect(row!.revoked_at).toBeNull();
    });

    it('refuses a form POST from a browser that sends no Sec-Fetch-Site or Origin: it must send JSON or x-evergreen-request', async () => {
      const id = await connect();
      for (const contentType of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
      ]) {
        const res = await app.inject({
          method: 'POST',
          url: `/api/connections/${id}/disconnect`,
          headers: { ...basic, 'content-type': contentType },
          payload: 'a=b',
        });
        expect(res.statusCode, contentType).toBe(403);
        expect(res.json()).toMatchObject({
          error: 'ERR_CSRF_HEADER_REQUIRED',
          message: expect.stringMatching(/json/i),
        });
      }
      // A bodyless POST too: a cross-site fetch in no-cors mode sends no content type at all.
      const bare = await app.inject({ method: 'POST', url: `/api/connections/${id}/refresh`, headers: basic });
      expect(bare.statusCode).toBe(403);
      expect(await statusOf(id)).toBe('connected');
    });

    it('refuses Sec-Fetch-Site cross-site and same-site, and an Origin that is not the board, even with JSON', async () => {
      const id = await connect();
      const json = { ...basic, 'content-type': 'application/json', host: 'board.internal:3000' };
      const refused: Record<string, string>[] = [
        { 'sec-fetch-site': 'cross-site' },
        { 'sec-fetch-site': 'same-site' },
        { origin: 'https://evil.example' },
        { origin: 'http://board.internal:3001' },
        { origin: 'null' },
      ];
      for (const headers of refused) {
        const res = await app.inject({
          method: 'POST',
          url: `/api/connections/${id}/disconnect`,
          headers: { ...json, ...headers },
          payload: '{}',
        });
        expect(res.statusCode, JSON.stringify(headers)).toBe(403);
        expect(res.json<{ error: string }>().error).toMatch(/^ERR_CROSS_(SITE|ORIGIN)_REQUEST$/);
      }
      expect(await statusOf(id)).toBe('connected');
    });

    it("accepts the board's own page: JSON or x-evergreen-request, same origin", async () => {
      const id = await connect();
      const viaHeader = await app.inject({
        method: 'POST',
        url: `/api/connections/${id}/refresh`,
        headers: { ...sameOrigin, 'x-evergreen-request': '1' },
      });
      expect(viaHeader.statusCode, viaHeader.body).toBe(200);
      const viaJson = await app.inject({
        method: 'POST',
        url: '/api/connections/refresh',
        headers: { ...sameOrigin, 'content-type': 'application/json' },
        payload: JSON.stringify({ ownerId: `nobody-${randomUUID()}` }),
      });
      expect(viaJson.statusCode, viaJson.body).toBe(200);
    });

    it('keeps bearer clients (curl, scripts) working without the header: a browser never adds a bearer token itself', async () => {
      const id = await connect();
      const res = await app.inject({ method: 'POST', url: `/api/connections/${id}/refresh`, headers: bearer });
      expect(res.statusCode, res.body).toBe(200);
      // ... but a bearer request a browser sent cross-site is still refused.
      const cross = await app.inject({
        method: 'POST',
        url: `/api/connections/${id}/refresh`,
        headers: { ...bearer, 'sec-fetch-site': 'cross-site' },
      });
      expect(cross.statusCode).toBe(403);
    });

    it("lets Bull Board's own same-origin buttons through (a bodyless PUT from its page), and refuses them cross-site", async () => {
      const queue = f.queues.queue('beta');
      const cross = await app.inject({
        method: 'PUT',
        url: '/board/api/queues/refresh-beta/pause',
        headers: { ...basic, 'sec-fetch-site': 'cross-site' },
      });
      expect(cross.statusCode).toBe(403);
      expect(await queue.isPaused()).toBe(false);
      const pause = await app.inject({
        method: 'PUT',
        url: '/board/api/queues/refresh-beta/pause',
        headers: sameOrigin,
      });
      expect(pause.statusCode, pause.body).toBe(200);
      expect(await queue.isPaused()).toBe(true);
      const resume = await app.inject({
        method: 'PUT',
        url: '/board/api/queues/refresh-beta/resume',
        headers: sameOrigin,
      });
      expect(resume.statusCode).toBe(200);
      expect(await queue.isPaused()).toBe(false);
    });

    it('guards a dev board (no credentials) the same way', async () => {
      const dev = f.board({ auth: {}, dev: true });
      const id = await connect();
      const res = await dev.inject({
        method: 'POST',
        url: `/api/connections/${id}/disconnect`,
        headers: { host: '127.0.0.1:3000', 'content-type': 'text/plain' },
        payload: 'x',
      });
      expect(res.statusCode).toBe(403);
      expect(await statusOf(id)).toBe('connected');
    });
  });

  describe('finding 4: read-only refuses every mutation', () => {
    it('answers 405 with Allow and a JSON error to every mutating operator route, and changes nothing', async () => {
      const readOnly = f.board({ readOnly: true });
      const id = await connect();
      const before = await f.stack.read(id);
      // An API key row (the CLI's way to make one is another process; the row is all the route needs).
      const apiKeyId = randomBytes(8).toString('hex');
      await f.sandbox.sql`insert into api_keys (id, name, secret_hash, scopes)
        values (${apiKeyId}, 'read-only test', ${'0'.repeat(64)}, ${['tokens:read']})`;
      const json = { ...bearer, 'content-type': 'application/json' };
      const mutations: { method: 'POST'; url: string; payload?: object }[] = [
        { method: 'POST', url: `/api/connections/${id}/disconnect` },
        { method: 'POST', url: `/api/connections/${id}/refresh` },
        { method: 'POST', url: '/api/connections/refresh', payload: {} },
        { method: 'POST', url: `/api/api-keys/${apiKeyId}/revoke` },
      ];
      for (const m of mutations) {
        const res = await readOnly.inject({ ...m, headers: m.payload ? json : bearer });
        expect(res.statusCode, `${m.method} ${m.url}`).toBe(405);
        expect(res.headers.allow, m.url).toBeDefined();
        expect(String(res.headers.allow)).not.toMatch(/POST/);
        expect(res.json()).toMatchObject({ error: 'ERR_READ_ONLY', message: expect.stringContaining('read-only') });
      }
      const after = await f.stack.read(id);
      expect(after).toMatchObject({ status: 'connected', version: before!.version, accessToken: before!.accessToken });
      // Reading still works.
      expect((await readOnly.inject({ url: `/api/connections/${id}`, headers: bearer })).statusCode).toBe(200);
      expect((await readOnly.inject({ url: '/api/health/tokens', headers: bearer })).statusCode).toBe(200);
      expect((await readOnly.inject({ url: '/api/api-keys', headers: bearer })).statusCode).toBe(200);
      const [apiKey] = await f.sandbox.sql`select revoked_at from api_keys where id = ${apiKeyId}`;
      expect(apiKey!.revoked_at).toBeNull();
      // Bull Board's actions too, whatever its own read-only mode covers.
      for (const url of ['/board/api/queues/refresh-acme/pause', '/board/api/queues/refresh-acme/promote']) {
        expect((await readOnly.inject({ method: 'PUT', url, headers: bearer })).statusCode, url).toBe(405);
      }
      expect(await f.queues.queue('acme').isPaused()).toBe(false);
    });

    it('tells the token-health page it is read-only, so the page hides its buttons', async () => {
      const page = await f.board({ readOnly: true }).inject({ url: '/', headers: bearer });
      expect(page.body).toContain('data-read-only="true"');
      const writable = await app.inject({ url: '/', headers: bearer });
      expect(writable.body).toContain('data-read-only="false"');
    });
  });

  describe('finding 5: failed logins are limited per address and logged', () => {
    const wrong = basicHeader(USER, 'not the password, but long');

    it('answers 429 with Retry-After after N failures from one address, to good credentials too; others are unaffected', async () => {
      const limited = f.board({ authFailures: { limit: 3, windowMs: 60_000 } });
      const from = (remoteAddress: string, headers: Record<string, string>) =>
        limited.inject({ url: '/api/connections', headers, remoteAddress });
      // Successful requests do not count.
      for (let i = 0; i < 10; i++) expect((await from('10.0.0.1', basic)).statusCode).toBe(200);
      for (let i = 0; i < 3; i++) expect((await from('10.0.0.1', wrong)).statusCode).toBe(401);
      const blocked = await from('10.0.0.1', wrong);
      expect(blocked.statusCode).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect(blocked.json()).toMatchObject({ error: 'ERR_TOO_MANY_FAILED_LOGINS' });
      // Not even the right password gets through from there now: otherwise a guesser would learn which guess was right.
      expect((await from('10.0.0.1', basic)).statusCode).toBe(429);
      expect((await from('10.0.0.1', bearer)).statusCode).toBe(429);
      // Another address is not held back; /healthz needs no login and is never limited.
      expect((await from('10.0.0.2', basic)).statusCode).toBe(200);
      expect((await limited.inject({ url: '/healthz', remoteAddress: '10.0.0.1' })).statusCode).toBe(200);
    });

    it('logs each failed login as one warn line with the address and user, never the secret', async () => {
      const logs = new LogCapture();
      const logged = f.board({ logger: createLogger({ level: 'info', destination: logs }) });
      const password = `guess-${randomUUID()}`;
      const token = `wrong-token-${randomUUID()}`;
      await logged.inject({
        url: '/api/connections',
        headers: basicHeader('mallory', password),
        remoteAddress: '10.9.9.9',
      });
      await logged.inject({ url: '/board', headers: { authorization: `Bearer ${token}` }, remoteAddress: '10.9.9.9' });
      await logged.inject({ url: '/api/connections', headers: basic, remoteAddress: '10.9.9.9' });
      const events = logs.events('board authentication failed');
      expect(events).toHaveLength(2);
      expect(events[0]).toMatchObject({ level: 'warn', address: '10.9.9.9', scheme: 'basic', user: 'mallory' });
      expect(events[1]).toMatchObject({ level: 'warn', address: '10.9.9.9', scheme: 'bearer' });
      expect(events[1]!.user).toBeUndefined();
      for (const secret of [password, token, Buffer.from(`mallory:${password}`).toString('base64'), PASSWORD]) {
        expect(logs.text).not.toContain(secret);
      }
      expect(logs.text.toLowerCase()).not.toContain('authorization');
    });

    it('requires passwords of 16 characters or more', () => {
      const settings = (password: string) =>
        loadConfig(
          {
            EVERGREEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`,
            EVERGREEN_ADMIN_USER: USER,
            EVERGREEN_ADMIN_PASSWORD: password,
          },
          { board: true },
        ).board;
      let error: unknown;
      try {
        settings('fifteen-chars!!');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).issues).toEqual([
        { field: 'EVERGREEN_ADMIN_PASSWORD', reason: 'must be at least 16 characters' },
      ]);
      expect((error as Error).message).not.toContain('fifteen-chars!!');
      expect(settings('sixteen-chars!!!').auth.password).toBe('sixteen-chars!!!');
    });
  });

  describe('finding 8: security headers on every response', () => {
    const expectSecurityHeaders = (res: LightMyRequestResponse, what: string) => {
      expect(res.headers['x-content-type-options'], what).toBe('nosniff');
      expect(res.headers['cache-control'], what).toBe('no-store');
      expect(res.headers['referrer-policy'], what).toBe('no-referrer');
      expect(res.headers['x-frame-options'], what).toBe('DENY');
      expect(String(res.headers['content-security-policy']), what).toContain("frame-ancestors 'none'");
    };

    it('sets nosniff, no-store, no-referrer, DENY and a CSP with frame-ancestors none everywhere', async () => {
      const readOnly = f.board({ readOnly: true });
      const cases: [FastifyInstance, InjectOptions & { url: string }, number][] = [
        [app, { url: '/healthz' }, 200],
        [app, { url: '/', headers: bearer }, 200],
        [app, { url: '/ui', headers: bearer }, 200],
        [app, { url: '/board', headers: bearer }, 200],
        [app, { url: '/board/api/queues', headers: bearer }, 200],
        [app, { url: '/api/connections', headers: bearer }, 200],
        [app, { url: '/api/openapi.json', headers: bearer }, 200],
        [app, { url: '/api/connections?limit=0', headers: bearer }, 400],
        [app, { url: '/api/connections/nobody-here', headers: bearer }, 404],
        [app, { url: '/nowhere', headers: bearer }, 404],
        [app, { url: '/api/connections' }, 401],
        [app, { method: 'POST', url: '/api/connections/x/refresh', headers: basic }, 403],
        [readOnly, { method: 'POST', url: '/api/connections/x/refresh', headers: bearer }, 405],
      ];
      for (const [board, options, status] of cases) {
        const res = await board.inject(options);
        const what = `${options.method ?? 'GET'} ${options.url}`;
        expect(res.statusCode, what).toBe(status);
        expectSecurityHeaders(res, what);
      }
    });

    it("keeps the token-health page's own stricter, hash-based CSP", async () => {
      const res = await app.inject({ url: '/', headers: bearer });
      expect(res.headers['content-security-policy']).toBe(TOKEN_HEALTH_PAGE_CSP);
      expect(TOKEN_HEALTH_PAGE_CSP).not.toContain('unsafe-inline');
    });

    it('gives Bull Board a CSP that allows its own scripts and styles and nothing from elsewhere', async () => {
      const res = await app.inject({ url: '/board', headers: bearer });
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toMatch(/script-src 'self'(;|$)/);
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toMatch(/https:|\*/);
    });
  });

  describe('finding 10: a dev board without credentials answers loopback Host names only', () => {
    it('refuses a rebinding Host with 421 and accepts localhost, 127.x and [::1] with any port', async () => {
      const dev = f.board({ auth: {}, dev: true });
      for (const host of ['evil.example', 'evil.example:3000', '127.0.0.1.evil.example', '10.0.0.1:3000', '0.0.0.0']) {
        const res = await dev.inject({ url: '/api/connections', headers: { host } });
        expect(res.statusCode, host).toBe(421);
        expect(res.json()).toMatchObject({ error: 'ERR_HOST_NOT_ALLOWED' });
      }
      for (const host of ['localhost', 'localhost:3000', '127.0.0.1:3000', '127.5.6.7', '[::1]:3000', 'LOCALHOST:1']) {
        expect((await dev.inject({ url: '/api/connections', headers: { host } })).statusCode, host).toBe(200);
      }
    });

    it('leaves boards with credentials reachable under any name (a proxy or a Service in front)', async () => {
      const res = await app.inject({ url: '/api/connections', headers: { ...bearer, host: 'board.example.com' } });
      expect(res.statusCode).toBe(200);
    });
  });
});
