import { loadConfig } from '@evergreen/config';
import { ConfigError } from '@evergreen/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCanStart, isLoopbackHost } from '../src/assert-can-start.ts';
import { basicHeader, bearer, boardFixture, PASSWORD, TOKEN, USER, type BoardFixture } from './board-fixture.ts';

/** The board's settings as a process running the board reads them (config.board), beside a valid key. */
const readBoardSettings = (env: Record<string, string>) =>
  loadConfig({ EVERGREEN_ENCRYPTION_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64')}`, ...env }, { board: true })
    .board;

describe('board settings', () => {
  it('defaults to port 3000 on 127.0.0.1, writable, not dev', () => {
    expect(readBoardSettings({ EVERGREEN_ADMIN_TOKEN: TOKEN })).toEqual({
      port: 3000,
      host: '127.0.0.1',
      auth: { token: TOKEN, user: undefined, password: undefined },
      readOnly: false,
      dev: false,
    });
  });

  it('reads every variable', () => {
    const s = readBoardSettings({
      EVERGREEN_BOARD_PORT: '8080',
      EVERGREEN_BOARD_HOST: '0.0.0.0',
      EVERGREEN_ADMIN_USER: USER,
      EVERGREEN_ADMIN_PASSWORD: PASSWORD,
      EVERGREEN_BOARD_READ_ONLY: 'true',
      EVERGREEN_BOARD_DEV: 'false',
    });
    expect(s).toMatchObject({ port: 8080, host: '0.0.0.0', readOnly: true, dev: false });
    expect(s.auth).toMatchObject({ user: USER, password: PASSWORD });
  });

  it('names every bad variable in one ConfigError, without echoing secrets', () => {
    let error: unknown;
    try {
      readBoardSettings({
        EVERGREEN_BOARD_PORT: 'http',
        EVERGREEN_ADMIN_TOKEN: 'short-secret',
        EVERGREEN_ADMIN_USER: 'someone',
        EVERGREEN_BOARD_READ_ONLY: 'maybe',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const fields = (error as ConfigError).issues.map((i) => i.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'EVERGREEN_BOARD_PORT',
        'EVERGREEN_ADMIN_TOKEN',
        'EVERGREEN_ADMIN_PASSWORD',
        'EVERGREEN_BOARD_READ_ONLY',
      ]),
    );
    expect((error as Error).message).not.toContain('short-secret');
  });

  it('knows loopback hosts', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) {
      expect(isLoopbackHost(h), h).toBe(true);
    }
    for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopbackHost(h), h).toBe(false);
  });

  it('refuses to start without credentials, naming EVERGREEN_ADMIN_TOKEN, unless dev on loopback', () => {
    expect(() => assertCanStart({}, '127.0.0.1', false)).toThrow(/EVERGREEN_ADMIN_TOKEN/);
    expect(() => assertCanStart({}, '0.0.0.0', true)).toThrow(/EVERGREEN_ADMIN_TOKEN/);
    expect(() => assertCanStart({}, '127.0.0.1', true)).not.toThrow();
    expect(() => assertCanStart({ token: TOKEN }, '0.0.0.0', false)).not.toThrow();
    expect(() => assertCanStart({ user: USER, password: PASSWORD }, '0.0.0.0', false)).not.toThrow();
  });
});

describe('the board behind auth', () => {
  let f: BoardFixture;

  beforeAll(async () => {
    f = await boardFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  it('buildBoard throws a ConfigError naming EVERGREEN_ADMIN_TOKEN when no credentials are configured', () => {
    let error: unknown;
    try {
      f.board({ auth: {}, host: '127.0.0.1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).issues[0]!.field).toBe('EVERGREEN_ADMIN_TOKEN');
    expect(() => f.board({ auth: {}, host: '0.0.0.0', dev: true })).toThrow(ConfigError);
  });

  it('a dev board on loopback starts without credentials and answers without them', async () => {
    const app = f.board({ auth: {}, host: '127.0.0.1', dev: true });
    const res = await app.inject({ method: 'GET', url: '/api/connections' });
    expect(res.statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/board/api/queues' })).statusCode).toBe(200);
  });

  it('refuses requests without credentials, with a wrong bearer, with wrong basic credentials', async () => {
    // Dozens of failed logins from one address: above the default limit, which board-security.test.ts checks.
    const app = f.board({ authFailures: { limit: 1_000, windowMs: 60_000 } });
    const cases: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-0123456789abcdef' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Bearer` },
      { authorization: TOKEN },
      basicHeader(USER, 'wrong password!'),
      basicHeader('intruder', PASSWORD),
      basicHeader(USER, ''),
      { authorization: `Basic ${Buffer.from(TOKEN).toString('base64')}` },
      { authorization: `Basic ${TOKEN}` },
    ];
    for (const headers of cases) {
      for (const url of ['/api/connections', '/api/health/tokens', '/board', '/board/api/queues', '/nowhere']) {
        const res = await app.inject({ method: 'GET', url, headers });
        expect(res.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        const challenge = res.headers['www-authenticate'];
        const challenges = Array.isArray(challenge) ? challenge.join(', ') : String(challenge);
        expect(challenges).toMatch(/^Bearer realm=/);
        expect(challenges).toContain('Basic realm=');
        expect(res.body).not.toContain(TOKEN);
      }
    }
    const post = await app.inject({ method: 'POST', url: '/api/connections/refresh', payload: {} });
    expect(post.statusCode).toBe(401);
  });

  it('accepts the bearer token and the basic credentials', async () => {
    const app = f.board();
    for (const headers of [bearer, { authorization: `bearer ${TOKEN}` }, basicHeader(USER, PASSWORD)]) {
      const res = await app.inject({ method: 'GET', url: '/api/connections', headers });
      expect(res.statusCode, JSON.stringify(headers)).toBe(200);
    }
  });

  it('a token-only board has no basic login, and challenges with Bearer only', async () => {
    const app = f.board({ auth: { token: TOKEN } });
    expect((await app.inject({ url: '/api/connections', headers: basicHeader(USER, PASSWORD) })).statusCode).toBe(401);
    const res = await app.inject({ url: '/api/connections' });
    expect([res.headers['www-authenticate']].flat()).toEqual(['Bearer realm="evergreen-board"']);
    expect((await app.inject({ url: '/api/connections', headers: bearer })).statusCode).toBe(200);
  });

  it('serves /healthz without auth', async () => {
    const res = await f.board().inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('answers over real HTTP', async () => {
    const app = f.board();
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    expect((await fetch(`${address}/healthz`)).status).toBe(200);
    expect((await fetch(`${address}/api/connections`)).status).toBe(401);
    const ok = await fetch(`${address}/api/connections`, { headers: bearer });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ items: [], nextCursor: null });
    const basic = await fetch(`${address}/board/api/queues`, { headers: basicHeader(USER, PASSWORD) });
    expect(basic.status).toBe(200);
  });
});
