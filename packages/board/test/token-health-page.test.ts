import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN_HEALTH_PAGE_CSP } from '../src/ui/token-health-page.ts';
import { boardFixture, PASSWORD, USER, type BoardFixture } from './board-fixture.ts';
import { HEADLESS_CHROMIUM_ARGS } from '@evergreen/test-support/headless-chromium';

/** Debian's chromium; Playwright never downloads a browser here (the machine has no internet). */
const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
const WRITE_SCREENSHOTS = process.env.EVERGREEN_SCREENSHOTS === '1';
const HAS_CHROMIUM = existsSync(CHROMIUM);

if (!HAS_CHROMIUM)
  console.warn(`token-health-page.test.ts skipped: no browser at ${CHROMIUM} (apt-get install chromium)`);

// Skipped only where /usr/bin/chromium is missing: this end-to-end test needs a real browser and must not download one.
describe.skipIf(!HAS_CHROMIUM)('the token-health page in headless Chromium', () => {
  let f: BoardFixture;
  let app: FastifyInstance;
  let base: string;
  let browser: Browser;
  const owner = `owner-${randomUUID()}`;
  /** An owner id is free text: it must show as text, never run. */
  const hostileOwner = '<img src=x onerror="window.__pwned=1">';
  const ids = {
    soon: `ui-${owner}-a-soon`,
    target: `ui-${owner}-b-target`,
    acme: `ui-${owner}-c-acme`,
    beta: `ui-${owner}-d-beta`,
    gone: `ui-${owner}-e-gone`,
    reauth: `ui-${owner}-f-reauth`,
  };
  let targetGrant: string;

  const connect = async (provider: 'acme' | 'beta', connectionId: string, expiresIn: number, ownerId = owner) =>
    (await f.connect({ connectionId, ownerId, provider, expiresIn })).grant;

  /** A page with the admin's Basic credentials that fails the test on any script error or CSP violation. */
  const openPage = async (): Promise<{ page: Page; problems: string[] }> => {
    const context = await browser.newContext({
      httpCredentials: { username: USER, password: PASSWORD },
      viewport: { width: 1440, height: 900 },
    });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error' && !/favicon/.test(message.location().url)) {
        problems.push(`console: ${message.text()}`);
      }
    });
    return { page, problems };
  };

  /** Opens `url` and waits until the page has loaded its data. */
  const load = async (page: Page, url: string) => {
    await page.goto(url);
    await page.locator('body[data-loaded="true"]').waitFor();
  };
  /** Clicks a connection's row and waits for its detail. */
  const showDetail = async (page: Page, id: string) => {
    await page.locator(`#connections tr[data-id="${id}"]`).click();
    await page.locator('#detail-title', { hasText: id }).waitFor();
  };

  /** Runs `use` on a new page (see openPage), and closes the page's context after it, whatever happened. */
  const withPage = async (use: (opened: { page: Page; problems: string[] }) => Promise<void>) => {
    const opened = await openPage();
    try {
      await use(opened);
    } finally {
      await opened.page.context().close();
    }
  };

  const count = (page: Page, status: string) => page.locator(`[data-testid="card-${status}"] .count`);
  const field = (page: Page, name: string) => page.locator(`#detail-fields [data-field="${name}"]`);

  beforeAll(async () => {
    f = await boardFixture();
    // Basic credentials only: the browser logs in with them.
    app = f.board({ auth: { user: USER, password: PASSWORD } });
    base = await app.listen({ port: 0, host: '127.0.0.1' });

    await connect('acme', ids.soon, 600); // lapses within the hour
    targetGrant = (await connect('acme', ids.target, 7200)).grantId;
    await connect('acme', ids.acme, 7200, hostileOwner);
    await connect('beta', ids.beta, 7200);
    await connect('beta', ids.gone, 7200);
    await f.stack.evergreen.disconnect(ids.gone);
    await connect('beta', ids.reauth, 7200);
    f.beta.injectFaults([{ kind: 'invalid-grant' }]);
    await expect(f.stack.evergreen.forceRefresh(ids.reauth)).rejects.toThrow();

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: HEADLESS_CHROMIUM_ARGS,
    });
    if (WRITE_SCREENSHOTS) mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await f?.close();
  });

  it('refuses a browser without credentials (401), at / and /ui', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      for (const path of ['/', '/ui']) {
        // Chromium answers the Basic challenge it cannot meet by failing the navigation; the 401 is still seen.
        const answer = page.waitForResponse(`${base}${path}`);
        const navigation = await page.goto(`${base}${path}`).catch((error: Error) => error);
        const response = await answer;
        expect(response.status()).toBe(401);
        expect(response.headers()['www-authenticate']).toMatch(/^Basic realm=/);
        // The board's CSP (every answer has one since issue 15), not the page's: the page was not served.
        expect(response.headers()['content-security-policy']).not.toBe(TOKEN_HEALTH_PAGE_CSP);
        expect(response.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
        expect(await response.text()).not.toContain('token health');
        if (!(navigation instanceof Error)) expect(navigation!.status()).toBe(401);
        // The same through the context's own requests.
        const direct = await context.request.get(`${base}${path}`);
        expect(direct.status()).toBe(401);
        expect(await direct.json()).toMatchObject({ error: 'ERR_UNAUTHORIZED' });
        expect(direct.headers()['cache-control']).toBe('no-store');
      }
      const api = await context.request.get(`${base}/api/health/tokens`);
      expect(api.status()).toBe(401);
    } finally {
      await context.close();
    }
  });

  it('shows the counts, expiring tokens, failures, the chart and the connections; a row opens its detail; Force refresh refreshes', async () => {
    await withPage(async ({ page, problems }) => {
      const health = page.waitForResponse((r) => r.url() === `${base}/api/health/tokens` && r.status() === 200);
      const list = page.waitForResponse((r) => r.url() === `${base}/api/connections?limit=50` && r.status() === 200);
      const response = await page.goto(`${base}/`);
      expect(response!.status()).toBe(200);
      const headers = response!.headers();
      expect(headers['content-type']).toMatch(/^text\/html; charset=utf-8/);
      expect(headers['cache-control']).toBe('no-store');
      expect(headers['content-security-policy']).toBe(TOKEN_HEALTH_PAGE_CSP);
      expect(headers['content-security-policy']).not.toContain('unsafe-inline');
      await Promise.all([health, list]);
      await page.locator('body[data-loaded="true"]').waitFor();

      // Status cards: 3 acme + 1 beta connected, one disconnected, one needing re-authorization.
      await count(page, 'total').filter({ hasText: /^6$/ }).waitFor();
      const cards = Object.fromEntries(
        await Promise.all(
          ['connected', 'token_expired', 'needs_reauth', 'error', 'disconnected'].map(
            async (s) => [s, await count(page, s).textContent()] as const,
          ),
        ),
      );
      expect(cards).toEqual({ connected: '4', token_expired: '0', needs_reauth: '1', error: '0', disconnected: '1' });

      // Expiring in the next hour, by provider: only the 600-second acme token.
      expect(await page.locator('#expiring tr').allTextContents()).toEqual(['acme1']);
      // Failures of the last 24 hours, by reason: the refused refresh.
      const failures = await page.locator('#failures tr td').allTextContents();
      expect(failures).toHaveLength(3);
      expect(failures[2]).toBe('1');
      expect(failures[1]).toMatch(/invalid_grant/);
      // The chart: 72 five-minute buckets, one failed attempt drawn.
      expect(await page.locator('#chart g').count()).toBe(72);
      expect(await page.locator('#chart rect.failure').count()).toBe(1);
      expect(await page.locator('#chart rect.success').count()).toBe(0);

      // The connections table, in id order; the hostile owner id is text, not markup.
      expect(await page.locator('#connections tr').evaluateAll((rows) => rows.map((r) => r.dataset.id))).toEqual(
        Object.values(ids),
      );
      const hostileRow = page.locator(`#connections tr[data-id="${ids.acme}"]`);
      expect(await hostileRow.locator('td').nth(2).textContent()).toBe(hostileOwner);
      expect(await page.locator('#connections img').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
      const targetRow = page.locator(`#connections tr[data-id="${ids.target}"]`);
      expect(await targetRow.locator('td').allTextContents()).toEqual([
        ids.target,
        'acme',
        owner,
        'connected',
        expect.stringMatching(/^\d\d-\d\d \d\d:\d\d$/),
        '\u2014',
      ]);
      if (WRITE_SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}token-health.png`, fullPage: true });

      // A row opens the connection's detail.
      const detail = page.waitForResponse((r) => r.url() === `${base}/api/connections/${ids.target}`);
      await targetRow.click();
      expect((await detail).status()).toBe(200);
      await page.locator('#detail-title', { hasText: ids.target }).waitFor();
      expect(await field(page, 'version').textContent()).toBe('1');
      expect(await field(page, 'lastRefreshAt').textContent()).toBe('\u2014');
      expect(await page.locator('#events tr').allTextContents()).toEqual(['no refresh attempts yet']);

      // Force refresh: POST, then the detail re-rendered with the new version and the forced attempt.
      const before = f.acme.grant(targetGrant)!.refreshCount;
      const refresh = page.waitForResponse(
        (r) => r.url() === `${base}/api/connections/${ids.target}/refresh` && r.request().method() === 'POST',
      );
      await page.getByRole('button', { name: 'Force refresh' }).click();
      expect((await refresh).status()).toBe(200);
      await page.locator('#refresh-line', { hasText: 'Refreshed' }).waitFor();
      expect(await page.locator('#refresh-line').textContent()).toMatch(
        /^Refreshed — version 2, \d{4}-\d\d-\d\d .* UTC$/,
      );
      await field(page, 'version').filter({ hasText: /^2$/ }).waitFor();
      expect(await field(page, 'lastRefreshAt').textContent()).toMatch(/ UTC$/);
      expect(await field(page, 'lastRefreshOutcome').textContent()).toBe('success');
      const event = await page.locator('#events tr').first().locator('td').allTextContents();
      expect(event.slice(1, 5)).toEqual(['success', '\u2014', 'forced', '200']);
      expect(f.acme.grant(targetGrant)!.refreshCount).toBe(before + 1);

      // The overview follows: the table's last refresh and the chart's success bar.
      await targetRow
        .locator('td')
        .nth(5)
        .filter({ hasText: /^\d\d-\d\d \d\d:\d\d$/ })
        .waitFor();
      await page.locator('#chart rect.success').first().waitFor();
      if (WRITE_SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}connection-detail.png`, fullPage: true });

      // A disconnected connection cannot be force-refreshed from the page.
      await showDetail(page, ids.gone);
      expect(await page.getByRole('button', { name: 'Force refresh' }).isDisabled()).toBe(true);

      // No token the providers issued is anywhere in the document.
      const html = await page.content();
      for (const token of [...f.acme.allIssuedTokens(), ...f.beta.allIssuedTokens()]) {
        expect(html.includes(token), 'a token reached the page').toBe(false);
      }
      expect(problems).toEqual([]);
    });
  });

  it('shows an open provider breaker above the counts, and nothing of it once it closed', async () => {
    const breakers = f.stack.parts.producer.breakers;
    await breakers.open(
      'acme',
      { failures: 19, requests: 20, windowMs: 60_000, reason: 'server_error' },
      {
        probeIntervalMs: 15_000,
      },
    );
    try {
      await withPage(async ({ page, problems }) => {
        await load(page, `${base}/`);
        const outage = page.locator('#outages');
        expect(await outage.isVisible()).toBe(true);
        const line = await page.locator('[data-testid="outage-acme"]').textContent();
        expect(line).toContain('acme: token endpoint failing since');
        expect(line).toContain('server_error, 19 of 20 requests failed');
        expect(await page.locator('[data-testid="outage-beta"]').count()).toBe(0);
        if (WRITE_SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}provider-outage.png` });
        expect(problems).toEqual([]);
      });
    } finally {
      await breakers.close('acme');
    }
    await withPage(async ({ page }) => {
      await load(page, `${base}/`);
      expect(await page.locator('#outages').isVisible()).toBe(false);
    });
  });

  it('read-only: the page hides Force refresh (issue 15, finding 4)', async () => {
    const readOnly = f.board({ auth: { user: USER, password: PASSWORD }, readOnly: true });
    const readOnlyBase = await readOnly.listen({ port: 0, host: '127.0.0.1' });
    await withPage(async ({ page, problems }) => {
      await load(page, `${readOnlyBase}/`);
      await showDetail(page, ids.target);
      expect(await page.locator('#force-refresh').isVisible()).toBe(false);
      expect(problems).toEqual([]);
    });
  });

  it('never lets a dot-only connection id reach another route (issue 15, finding 11)', async () => {
    await withPage(async ({ page, problems }) => {
      const posts: string[] = [];
      page.on('request', (r) => {
        if (r.method() !== 'GET') posts.push(new URL(r.url()).pathname);
      });
      // A row whose id is "." (core refuses such ids now; older rows or another writer may still hold one).
      await page.route(`${base}/api/connections?limit=50`, async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { items: { connectionId: string }[]; nextCursor: string | null };
        const dot = { ...body.items.find((i) => i.connectionId === ids.soon)!, connectionId: '.' };
        await route.fulfill({ response, json: { ...body, items: [dot, ...body.items] } });
      });
      await load(page, `${base}/`);
      await showDetail(page, ids.soon);
      await page.locator('#connections tr[data-id="."]').click();
      await page.locator('#refresh-line').filter({ hasText: /\S/ }).waitFor();
      // Whatever detail is still on show, its button must not act on "." (which a URL would turn into the bulk route).
      const button = page.locator('#force-refresh');
      if ((await button.isVisible()) && (await button.isEnabled())) {
        await button.click();
        await page.locator('#refresh-line', { hasText: /Refresh(ed| failed)/ }).waitFor();
      }
      expect(posts).toEqual([]);
      expect(await page.locator('#refresh-line').textContent()).toMatch(/cannot be addressed/);
      expect(problems).toEqual([]);
    });
  });

  it('Bull Board renders under its CSP, and its same-origin action requests pass the CSRF guard (issue 15)', async () => {
    await withPage(async ({ page, problems }) => {
      const violations: string[] = [];
      page.on('console', (message) => {
        if (/Content Security Policy/i.test(message.text()) && !/fonts\.googleapis\.com/.test(message.text())) {
          violations.push(message.text());
        }
      });
      const response = await page.goto(`${base}/board`);
      expect(response!.status()).toBe(200);
      expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
      // Its queue list, rendered by its own scripts.
      await page.getByText('refresh-acme').first().waitFor({ timeout: 15_000 });
      // What its Pause button sends: a bodyless PUT with axios from the page, basic credentials resent by the browser.
      const status = (path: string) => page.evaluate(async (p) => (await fetch(p, { method: 'PUT' })).status, path);
      expect(await status('api/queues/refresh-beta/pause')).toBe(200);
      expect(await f.queues.queue('beta').isPaused()).toBe(true);
      expect(await status('api/queues/refresh-beta/resume')).toBe(200);
      expect(await f.queues.queue('beta').isPaused()).toBe(false);
      expect(violations).toEqual([]);
      expect(problems.filter((p) => !/fonts\.googleapis\.com|Content Security Policy/.test(p))).toEqual([]);
    });
  });

  it('serves the same page at /ui', async () => {
    await withPage(async ({ page, problems }) => {
      const response = await page.goto(`${base}/ui`);
      expect(response!.status()).toBe(200);
      await page.locator('body[data-loaded="true"]').waitFor();
      expect(await count(page, 'total').textContent()).toBe('6');
      expect(problems).toEqual([]);
    });
  });
  it("refuses a cross-site form that posts text/plain with the browser's basic credentials (issue 15, finding 2)", async () => {
    const id = `ui-${owner}-z-csrf`;
    await connect('acme', id, 7200);
    // The attacker's page: another site (localhost is not the same site as 127.0.0.1), a form that posts itself.
    const evil = createServer((_request, response) => {
      response.setHeader('content-type', 'text/html; charset=utf-8');
      response.end(
        `<form method="POST" enctype="text/plain" action="${base}/api/connections/${id}/disconnect">` +
          '<input name="x" value="y"></form><script>document.forms[0].submit()</script>',
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    const { page } = await openPage();
    try {
      const answer = page.waitForResponse(
        (r) => r.url() === `${base}/api/connections/${id}/disconnect` && r.status() !== 401,
      );
      await page.goto(`http://localhost:${(evil.address() as AddressInfo).port}/`);
      const response = await answer;
      expect(response.request().method()).toBe('POST');
      expect(response.status()).toBe(403);
      expect(await f.stack.read(id)).toMatchObject({ status: 'connected', accessToken: expect.any(String) });
    } finally {
      await page.context().close();
      await new Promise((resolve) => evil.close(resolve));
    }
  });
});
