import { existsSync } from 'node:fs';
import { HEADLESS_CHROMIUM_ARGS } from '@evergreen/test-support/headless-chromium';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import type { FastifyInstance } from 'fastify';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, boardFixture, PASSWORD, USER, type BoardFixture } from './board-fixture.ts';

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const RETURN_TO = 'https://app.example.com/reconnected';

/**
 * A connection that needs a person gets a reconnect link: from the operator API, and from the token-health page. The
 * link is a connect session for the connection's owner and provider; its callback is tested in test/connect-oidc.
 */
describe('reconnect links on the board', () => {
  let f: BoardFixture;
  let stack: Stack;
  let app: FastifyInstance;
  let reauthId: string;

  beforeAll(async () => {
    f = await boardFixture();
    // The same schema, with the connect flow configured: beta has an authorization endpoint.
    f.sandbox.useProviders([
      { id: 'acme', tokenUrl: f.acme.tokenUrl },
      { id: 'beta', tokenUrl: f.beta.tokenUrl, authorizationUrl: `${f.beta.url}/authorize` },
    ]);
    stack = await startStack(f.sandbox, {
      env: { EVERGREEN_PUBLIC_URL: 'https://evergreen.example.com', EVERGREEN_CONNECT_RETURN_URLS: RETURN_TO },
    });
    app = f.board({
      evergreen: stack.evergreen,
      connectReturnTo: RETURN_TO,
      auth: { token: 'test-admin-token-0123456789abcdef', user: USER, password: PASSWORD },
    });
    reauthId = (await f.connect({ ownerId: 'owner-r', provider: 'beta', expiresIn: 7200 })).connectionId;
    f.beta.injectFaults([{ kind: 'invalid-grant' }]);
    await expect(f.stack.evergreen.forceRefresh(reauthId)).rejects.toThrow();
  });
  afterAll(async () => {
    await stack?.close();
    await f?.close();
  });

  it("answers a connect session of the connection's owner and provider, for that connection", async () => {
    const res = await app.inject({ method: 'POST', url: `/api/connections/${reauthId}/reconnect`, headers: bearer });
    expect(res.statusCode, res.body).toBe(201);
    const url = new URL(res.json().authorizationUrl);
    expect(url.origin + url.pathname).toBe(`${f.beta.url}/authorize`);
    expect(url.searchParams.get('redirect_uri')).toBe('https://evergreen.example.com/v1/connect/callback');
    const [session] = await f.sandbox.sql`
      select owner_id, provider, connection_id, return_to from connect_sessions where id = ${res.json().sessionId}`;
    expect(session).toEqual({ owner_id: 'owner-r', provider: 'beta', connection_id: reauthId, return_to: RETURN_TO });
  });

  it('refuses an unknown connection (404), a provider without an authorization endpoint (400), a read-only board', async () => {
    const missing = await app.inject({ method: 'POST', url: '/api/connections/nope/reconnect', headers: bearer });
    expect(missing.statusCode).toBe(404);
    const acme = (await f.connect({ ownerId: 'owner-a', provider: 'acme', expiresIn: 7200 })).connectionId;
    const refused = await app.inject({ method: 'POST', url: `/api/connections/${acme}/reconnect`, headers: bearer });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().issues[0]).toMatchObject({ field: 'provider' });
    const readOnly = f.board({ evergreen: stack.evergreen, connectReturnTo: RETURN_TO, readOnly: true });
    const res = await readOnly.inject({
      method: 'POST',
      url: `/api/connections/${reauthId}/reconnect`,
      headers: bearer,
    });
    expect(res.statusCode).toBe(405);
  });

  it.skipIf(!HAS_CHROMIUM)('the token-health page offers it for a connection in needs_reauth', async () => {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: HEADLESS_CHROMIUM_ARGS });
    try {
      const context = await browser.newContext({ httpCredentials: { username: USER, password: PASSWORD } });
      const page = await context.newPage();
      await page.goto(`${base}/`);
      await page.locator('body[data-loaded="true"]').waitFor();
      await page.locator(`#connections tr[data-id="${reauthId}"]`).click();
      await page.locator('#detail-title', { hasText: reauthId }).waitFor();
      await page.locator('#reconnect').click();
      const field = page.locator('#reconnect-url');
      await field.waitFor();
      const link = new URL(await field.inputValue());
      expect(link.origin + link.pathname).toBe(`${f.beta.url}/authorize`);
      expect(await page.locator('#refresh-line').textContent()).toContain('Send this link to the owner');
    } finally {
      await browser.close();
    }
  });
});
