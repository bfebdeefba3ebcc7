// `pnpm screenshot:demo`: runs `pnpm demo` (on any free port), waits until every demo connection has been refreshed
// (or, for the revoked one, sent to needs_reauth), and saves the token-health page as Debian's Chromium renders it to
// docs/screenshots/demo.png, the picture in the README's quick start. Needs /usr/bin/chromium (apt-get install
// chromium); Playwright never downloads a browser here.
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { pollUntil, REPO_ROOT, startDemoProcess } from './demo-process.ts';
import { HEADLESS_CHROMIUM_ARGS } from '@evergreen/test-support/headless-chromium';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = `${REPO_ROOT}docs/screenshots/demo.png`;

if (!existsSync(CHROMIUM)) {
  process.stderr.write(`no browser at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)\n`);
  process.exit(1);
}

const demo = await startDemoProcess(['--port', '0']);
try {
  // Two refreshes of every healthy connection, so the chart has bars and the table recent times.
  await pollUntil(
    async () => {
      const items = await demo.connections();
      return (
        items.length === 8 &&
        items.every((c) => c.status === 'needs_reauth' || (c.status === 'connected' && c.version >= 3))
      );
    },
    'two refreshes of every demo connection',
    120_000,
  );
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: HEADLESS_CHROMIUM_ARGS,
  });
  try {
    const context = await browser.newContext({
      httpCredentials: { username: 'demo', password: demo.adminToken },
      viewport: { width: 1440, height: 900 },
    });
    const page = await context.newPage();
    const response = await page.goto(`${demo.base}/`);
    if (response?.status() !== 200) throw new Error(`the token-health page answered ${response?.status()}`);
    await page.locator('body[data-loaded="true"]').waitFor();
    await page.locator('#chart rect.success').first().waitFor();
    // One connection's detail open beside the table: its refreshes, one row each.
    await page.locator('#connections tr[data-id="demo-acme-1"]').click();
    await page.locator('#detail-title', { hasText: 'demo-acme-1' }).waitFor();
    await page.locator('#events tr').nth(1).waitFor();
    await page.screenshot({ path: OUT, fullPage: true });
    process.stdout.write(`wrote ${OUT}\n`);
  } finally {
    await browser.close();
  }
} finally {
  const { code } = await demo.stop();
  if (code !== 0) process.stderr.write(`the demo exited ${code}\n${demo.output()}\n`);
}
