import { createServer, type IncomingMessage, type Server } from 'node:http';
import { FakeProvider } from '@evergreen/fake-provider';
import { verifyWebhookSignature } from '@evergreen/webhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { until } from '@evergreen/test-support/until';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

describe('webhooks, end to end', () => {
  const sandbox = new Sandbox();
  const secret = 'whsec-test-0123456789abcdef';
  const received: Received[] = [];
  let receiver: Server;
  let provider: FakeProvider;
  let stack: Stack;
  let failNext = 0;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (failNext > 0) {
          failNext -= 1;
          res.statusCode = 503;
        } else {
          received.push({ headers: req.headers, body });
        }
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/hooks`;
    provider = await FakeProvider.start({ accessTokenLifetimeSeconds: 3600 });
    sandbox.useProviders([{ id: 'acme', tokenUrl: provider.tokenUrl }]);
    stack = await startStack(sandbox, {
      roles: ['worker', 'scheduler'],
      env: {
        EVERGREEN_WEBHOOKS: JSON.stringify([{ id: 'app', url, secret: '${HOOK_SECRET}' }]),
        HOOK_SECRET: secret,
        // An outage of acme opens its breaker after three failures and probes twice a second.
        EVERGREEN_BREAKER_MIN_REQUESTS: '3',
        EVERGREEN_BREAKER_PROBE_INTERVAL_MS: '500',
      },
    });
  });

  afterAll(async () => {
    await stack?.close();
    await provider?.close();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    await sandbox.cleanup();
  });

  it('delivers each change, signed, at least once; a failing receiver gets it again later', async () => {
    failNext = 1;
    const { connectionId } = await stack.connect(provider, { ownerId: 'hooked', provider: 'acme', expiresIn: 2 });
    const forThis = () =>
      received
        .map((r) => JSON.parse(r.body) as { id: string; type: string; data: { connectionId: string } })
        .filter((e) => e.data.connectionId === connectionId);
    // The first delivery met a 503 and comes again after its backoff: delivery is at least once, not in order.
    await until(() => forThis().length >= 3, { timeoutMs: 30_000, what: 'the three webhooks' });
    expect(
      forThis()
        .map((e) => e.type)
        .sort(),
    ).toEqual(['connection.connected', 'connection.created', 'connection.refreshed']);
    for (const r of received) {
      expect(
        verifyWebhookSignature({
          secret,
          header: r.headers['evergreen-signature'] as string,
          body: r.body,
          nowSeconds: Math.floor(Date.now() / 1000),
        }),
      ).toBe(true);
      expect(r.headers['evergreen-event-id']).toMatch(/^evt_\d+$/);
    }
    const deliveries = await sandbox.sql`select status, attempts from webhook_deliveries order by event_id`;
    expect(deliveries[0]).toMatchObject({ status: 'delivered', attempts: 2 }); // the first try met the 503
    const all = received.map((r) => r.body).join('\n');
    for (const token of provider.allIssuedTokens()) expect(all.includes(token)).toBe(false);
    expect(all).not.toContain(secret);
  });

  it("a provider's outage reaches webhooks as provider.outage_started and provider.outage_ended, signed", async () => {
    provider.setFaultForAll({ kind: 'status', status: 503 });
    for (let i = 0; i < 3; i++)
      await stack.connect(provider, { ownerId: `outage-${i}`, provider: 'acme', expiresIn: 2 });
    const outage = () =>
      received
        .map((r) => ({ r, event: JSON.parse(r.body) as { type: string; data: Record<string, unknown> } }))
        .filter(({ event }) => event.type.startsWith('provider.'));
    await until(() => outage().length >= 1, { timeoutMs: 30_000, what: 'provider.outage_started' });
    provider.setFaultForAll(null);
    await until(() => outage().length >= 2, { timeoutMs: 30_000, what: 'provider.outage_ended' });
    const [started, ended] = outage();
    expect(started!.event).toMatchObject({
      type: 'provider.outage_started',
      data: { provider: 'acme', reason: 'server_error', openedAt: expect.any(String) },
    });
    expect(ended!.event).toMatchObject({
      type: 'provider.outage_ended',
      data: { provider: 'acme', openedAt: started!.event.data.openedAt, closedAt: expect.any(String) },
    });
    for (const { r } of outage()) {
      expect(r.headers['evergreen-event-type']).toMatch(/^provider\.outage_(started|ended)$/);
      expect(
        verifyWebhookSignature({
          secret,
          header: r.headers['evergreen-signature'] as string,
          body: r.body,
          nowSeconds: Math.floor(Date.now() / 1000),
        }),
      ).toBe(true);
    }
  });
});
