import { createLogger } from '@evergreen/log';
import { closeDatabase, openDatabase, type Database } from '@evergreen/store';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { until } from '@evergreen/test-support/until';
import {
  verifyWebhookSignature,
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type WebhookEndpoint,
} from '../src/index.ts';
import { Receiver, type Behaviour } from './receiver.ts';
import { freePort } from '@evergreen/test-support/free-port';

const SECRET = 'whsec_test_4f1c9a0e7b2d8c63';
const PAYLOAD_MARKER = 'owner-7d41-private';

interface DeliveryRow {
  event_id: number;
  endpoint: string;
  status: string;
  attempts: number;
  due_in_ms: number;
  last_http_status: number | null;
  last_error: string | null;
  delivered: boolean;
}

describe('WebhookDispatcher', () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  const databases: Database[] = [];
  const dispatchers: WebhookDispatcher[] = [];
  const receivers: Receiver[] = [];
  let db: Database;
  let logs: LogCapture;

  beforeAll(async () => {
    db = await fixture.open(4);
  });

  afterAll(() => fixture.close());

  beforeEach(async () => {
    logs = new LogCapture();
    await sandbox.sql`truncate connection_events, webhook_cursors, webhook_deliveries restart identity`;
  });

  afterEach(async () => {
    await Promise.all(dispatchers.splice(0).map((d) => d.stop()));
    await Promise.all(receivers.splice(0).map((r) => r.close()));
    await Promise.all(databases.splice(0).map((d) => closeDatabase(d)));
  });

  async function receiver(behaviour?: Behaviour): Promise<Receiver> {
    const r = await Receiver.start(behaviour);
    receivers.push(r);
    return r;
  }

  function endpoint(id: string, url: string, events: string[] = ['*']): WebhookEndpoint {
    return { id, url, secret: SECRET, events };
  }

  function dispatcher(
    endpoints: WebhookEndpoint[],
    options: Partial<WebhookDispatcherOptions> = {},
  ): WebhookDispatcher {
    const d = new WebhookDispatcher({
      db,
      endpoints,
      log: createLogger({ level: 'debug', destination: logs }),
      ...options,
    });
    dispatchers.push(d);
    return d;
  }

  /** A second replica: its own connection pool, as another process would have. */
  function ownDatabase(): Database {
    const own = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 4 });
    databases.push(own);
    return own;
  }

  async function emit(kind: string, connectionId = 'conn-1'): Promise<number> {
    const payload = { connectionId, ownerId: PAYLOAD_MARKER, provider: 'github', status: 'connected' };
    const [row] = await sandbox.sql`
      insert into connection_events (connection_id, kind, payload)
      values (${connectionId}, ${kind}, ${JSON.stringify(payload)}::jsonb)
      returning id`;
    return Number(row!.id);
  }

  async function deliveries(endpointId?: string): Promise<DeliveryRow[]> {
    const rows = await sandbox.sql<DeliveryRow[]>`
      select event_id::int as event_id, endpoint, status, attempts,
             (extract(epoch from next_attempt_at - now()) * 1000)::float8 as due_in_ms,
             last_http_status, last_error, delivered_at is not null as delivered
      from webhook_deliveries
      where ${endpointId ?? null}::text is null or endpoint = ${endpointId ?? null}
      order by endpoint, event_id`;
    return [...rows];
  }

  async function cursor(endpointId: string): Promise<number | null> {
    const [row] =
      await sandbox.sql`select last_event_id::int as id from webhook_cursors where endpoint = ${endpointId}`;
    return row ? (row.id as number) : null;
  }

  /** Makes every pending retry due now, instead of waiting out its backoff. */
  async function makeDue(): Promise<void> {
    await sandbox.sql`update webhook_deliveries set next_attempt_at = now() - interval '1 second' where status = 'pending'`;
  }

  it('delivers an event once, with the documented body and a signature the receiver verifies', async () => {
    const hooks = await receiver();
    const signedAt = Date.UTC(2030, 0, 1) + 123_456;
    const d = dispatcher([endpoint('crm', hooks.url('/hooks/crm'))], { now: () => signedAt });
    const id = await emit('connection.refreshed');

    expect(await d.tick()).toEqual({ enqueued: 1, delivered: 1, failed: 0, retried: 0 });
    expect(await d.tick()).toEqual({ enqueued: 0, delivered: 0, failed: 0, retried: 0 });

    expect(hooks.requests).toHaveLength(1);
    const request = hooks.requests[0]!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/hooks/crm');
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['user-agent']).toBe('evergreen-webhooks');
    expect(request.headers['evergreen-event-id']).toBe(`evt_${id}`);
    expect(request.headers['evergreen-event-type']).toBe('connection.refreshed');

    const header = request.headers['evergreen-signature'] as string;
    expect(header).toMatch(new RegExp(`^t=${Math.floor(signedAt / 1000)},v1=[0-9a-f]{64}$`));
    const nowSeconds = Math.floor(signedAt / 1000) + 5;
    expect(verifyWebhookSignature({ secret: SECRET, header, body: request.body, nowSeconds })).toBe(true);
    expect(verifyWebhookSignature({ secret: SECRET, header, body: `${request.body} `, nowSeconds })).toBe(false);

    const [event] = await sandbox.sql`select created_at from connection_events where id = ${id}`;
    expect(JSON.parse(request.body)).toEqual({
      id: `evt_${id}`,
      type: 'connection.refreshed',
      createdAt: (event!.created_at as Date).toISOString(),
      data: { connectionId: 'conn-1', ownerId: PAYLOAD_MARKER, provider: 'github', status: 'connected' },
    });

    expect(await deliveries()).toEqual([
      expect.objectContaining({
        event_id: id,
        endpoint: 'crm',
        status: 'delivered',
        attempts: 1,
        last_http_status: 200,
        last_error: null,
        delivered: true,
      }),
    ]);
    expect(await cursor('crm')).toBe(id);
  });

  it('sends each endpoint only the kinds it asked for, and moves every cursor past all events read', async () => {
    const hooks = await receiver();
    const d = dispatcher([
      endpoint('ops', hooks.url('/ops'), ['connection.needs_reauth', 'connection.error']),
      endpoint('all', hooks.url('/all')),
    ]);
    await emit('connection.refreshed');
    const reauth = await emit('connection.needs_reauth');
    await emit('connection.refreshed');
    const error = await emit('connection.error');
    const last = await emit('connection.refreshed');

    expect(await d.tick()).toEqual({ enqueued: 7, delivered: 7, failed: 0, retried: 0 });
    const types = (path: string) =>
      hooks.requests.filter((r) => r.path === path).map((r) => r.headers['evergreen-event-type']);
    expect(types('/ops').sort()).toEqual(['connection.error', 'connection.needs_reauth']);
    expect(types('/all')).toHaveLength(5);
    expect((await deliveries('ops')).map((r) => r.event_id)).toEqual([reauth, error]);
    expect(await cursor('ops')).toBe(last);
    expect(await cursor('all')).toBe(last);
  });

  it('retries a 500 after a backoff in the future, then records the 200 (attempts 2, delivered)', async () => {
    const hooks = await receiver((_request, index) => (index === 0 ? { status: 500, body: 'boom' } : { status: 200 }));
    const d = dispatcher([endpoint('crm', hooks.url())], { baseBackoffMs: 60_000, random: () => 0.5 });
    const id = await emit('connection.refreshed');

    expect(await d.tick()).toEqual({ enqueued: 1, delivered: 0, failed: 0, retried: 1 });
    const [failed] = await deliveries();
    expect(failed).toMatchObject({ status: 'pending', attempts: 1, last_http_status: 500, last_error: 'HTTP 500' });
    // Full jitter of base · 2^0 with random 0.5: 30 s from now, by the database clock.
    expect(failed!.due_in_ms).toBeGreaterThan(25_000);
    expect(failed!.due_in_ms).toBeLessThanOrEqual(30_000);

    // Not due yet: nothing is sent.
    expect(await d.tick()).toEqual({ enqueued: 0, delivered: 0, failed: 0, retried: 0 });
    expect(hooks.requests).toHaveLength(1);

    await makeDue();
    expect(await d.tick()).toEqual({ enqueued: 0, delivered: 1, failed: 0, retried: 0 });
    expect(await deliveries()).toEqual([
      expect.objectContaining({
        event_id: id,
        status: 'delivered',
        attempts: 2,
        last_http_status: 200,
        last_error: null,
        delivered: true,
      }),
    ]);
    // The same event both times, each freshly signed and valid.
    expect(hooks.eventIds()).toEqual([`evt_${id}`, `evt_${id}`]);
    for (const r of hooks.requests) {
      const header = r.headers['evergreen-signature'] as string;
      expect(
        verifyWebhookSignature({ secret: SECRET, header, body: r.body, nowSeconds: Math.floor(Date.now() / 1000) }),
      ).toBe(true);
    }
  });

  it('counts a timeout as a failed attempt, and a refused connection too', async () => {
    const hanging = await receiver(() => 'hang');
    const closedPort = await freePort();
    const d = dispatcher([endpoint('slow', hanging.url()), endpoint('gone', `http://127.0.0.1:${closedPort}/hooks`)], {
      timeoutMs: 300,
      baseBackoffMs: 10_000,
      random: () => 0.5,
    });
    await emit('connection.refreshed');

    const started = Date.now();
    expect(await d.tick()).toEqual({ enqueued: 2, delivered: 0, failed: 0, retried: 2 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(hanging.requests).toHaveLength(1);
    const rows = await deliveries();
    expect(rows.find((r) => r.endpoint === 'slow')).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_http_status: null,
      last_error: 'timeout',
    });
    expect(rows.find((r) => r.endpoint === 'gone')).toMatchObject({
      status: 'pending',
      attempts: 1,
      last_http_status: null,
      last_error: 'network error (ECONNREFUSED)',
    });
    for (const row of rows) expect(row.due_in_ms).toBeGreaterThan(0);
  });

  it('gives up after maxAttempts with status failed, and sends nothing more', async () => {
    const hooks = await receiver(() => ({ status: 503 }));
    const d = dispatcher([endpoint('crm', hooks.url())], { maxAttempts: 3, baseBackoffMs: 60_000 });
    await emit('connection.refreshed');

    expect(await d.tick()).toMatchObject({ enqueued: 1, retried: 1, failed: 0 });
    await makeDue();
    expect(await d.tick()).toMatchObject({ retried: 1, failed: 0 });
    await makeDue();
    expect(await d.tick()).toMatchObject({ retried: 0, failed: 1 });
    await makeDue();
    expect(await d.tick()).toEqual({ enqueued: 0, delivered: 0, failed: 0, retried: 0 });

    expect(hooks.requests).toHaveLength(3);
    expect(await deliveries()).toEqual([
      expect.objectContaining({ status: 'failed', attempts: 3, last_http_status: 503, last_error: 'HTTP 503' }),
    ]);
    expect(logs.events('webhook delivery failed for good')).toHaveLength(1);
  });

  it('delivers each event exactly once when two replicas tick at the same time', async () => {
    // A little latency per answer, so the replicas' batches overlap in time.
    const hooks = await receiver(() => ({ status: 200, delayMs: 5 }));
    const endpoints = [endpoint('crm', hooks.url('/crm')), endpoint('ops', hooks.url('/ops'))];
    const a = dispatcher(endpoints, { db: ownDatabase(), batchSize: 10 });
    const b = dispatcher(endpoints, { db: ownDatabase(), batchSize: 10 });
    const ids: number[] = [];
    for (let i = 0; i < 60; i++) ids.push(await emit('connection.refreshed', `conn-${i}`));

    const byReplica = [0, 0];
    await until(
      async () => {
        const results = await Promise.all([a.tick(), b.tick()]);
        results.forEach((r, i) => (byReplica[i]! += r.delivered));
        return hooks.requests.length >= 120 && byReplica[0]! + byReplica[1]! >= 120;
      },
      { what: 'every event delivered to both endpoints', timeoutMs: 30_000, intervalMs: 1 },
    );
    // One more round from both: nothing is left, nothing is sent twice.
    await Promise.all([a.tick(), b.tick()]);
    expect(byReplica[0]! + byReplica[1]!).toBe(120);
    // Both replicas did part of the work: the claims split the rows, they did not serialise on one replica.
    expect(byReplica[0]).toBeGreaterThan(0);
    expect(byReplica[1]).toBeGreaterThan(0);
    for (const path of ['/crm', '/ops']) {
      const seen = hooks.requests.filter((r) => r.path === path).map((r) => r.headers['evergreen-event-id']);
      expect(seen).toHaveLength(60);
      expect(new Set(seen).size).toBe(60);
    }
    const rows = await deliveries();
    expect(rows).toHaveLength(120);
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1)).toBe(true);
  });

  it('skips the fan-out, without waiting, while another replica holds the cursor row', async () => {
    const hooks = await receiver();
    const d = dispatcher([endpoint('crm', hooks.url())]);
    expect(await d.tick()).toMatchObject({ enqueued: 0 });
    const id = await emit('connection.refreshed');
    await sandbox.sql.begin(async (tx) => {
      await tx`select * from webhook_cursors where endpoint = 'crm' for update`;
      expect(await d.tick()).toEqual({ enqueued: 0, delivered: 0, failed: 0, retried: 0 });
    });
    expect(await d.tick()).toMatchObject({ enqueued: 1, delivered: 1 });
    expect(hooks.eventIds()).toEqual([`evt_${id}`]);
  });

  it('keeps its place across instances: a new dispatcher sends only what is new', async () => {
    const hooks = await receiver();
    const first = dispatcher([endpoint('crm', hooks.url())]);
    const one = await emit('connection.refreshed');
    const two = await emit('connection.needs_reauth');
    expect(await first.tick()).toMatchObject({ enqueued: 2, delivered: 2 });
    await first.stop();

    const second = dispatcher([endpoint('crm', hooks.url())], { db: ownDatabase() });
    expect(await second.tick()).toEqual({ enqueued: 0, delivered: 0, failed: 0, retried: 0 });
    const three = await emit('connection.refreshed');
    expect(await second.tick()).toMatchObject({ enqueued: 1, delivered: 1 });
    expect(hooks.eventIds()).toEqual([`evt_${one}`, `evt_${two}`, `evt_${three}`]);
  });

  it('waits for an outbox id that is still in flight instead of skipping it, and passes old gaps', async () => {
    const hooks = await receiver();
    const d = dispatcher([endpoint('crm', hooks.url())], { gapGraceMs: 60_000 });
    const one = await emit('connection.refreshed');
    // A writer took id 2 and has not committed yet; id 3 is already visible.
    const [reserved] = await sandbox.sql`select nextval(pg_get_serial_sequence('connection_events', 'id'))::int as id`;
    const two = reserved!.id as number;
    const three = await emit('connection.refreshed');

    expect(await d.tick()).toMatchObject({ enqueued: 1, delivered: 1 });
    expect(await cursor('crm')).toBe(one);

    // The late writer commits: id 2 and then 3 go out.
    await sandbox.sql`
      insert into connection_events (id, connection_id, kind, payload) overriding system value
      values (${two}, 'conn-late', 'connection.refreshed', '{}'::jsonb)`;
    expect(await d.tick()).toMatchObject({ enqueued: 2, delivered: 2 });
    expect(hooks.eventIds()).toEqual([`evt_${one}`, `evt_${two}`, `evt_${three}`]);

    // A gap that never fills (a rolled-back writer) holds only until the event after it is older than the grace.
    await sandbox.sql`select nextval(pg_get_serial_sequence('connection_events', 'id'))`;
    const five = await emit('connection.refreshed');
    expect(await d.tick()).toMatchObject({ enqueued: 0, delivered: 0 });
    await sandbox.sql`update connection_events set created_at = now() - interval '2 minutes' where id = ${five}`;
    expect(await d.tick()).toMatchObject({ enqueued: 1, delivered: 1 });
    expect(await cursor('crm')).toBe(five);
  });

  it('reads a large answer only up to a cap, and counts a redirect as a failure', async () => {
    const big = 'x'.repeat(1024 * 1024);
    const hooks = await receiver((request) => (request.path === '/big' ? { status: 200, body: big } : { status: 302 }));
    const d = dispatcher([endpoint('big', hooks.url('/big')), endpoint('moved', hooks.url('/moved'))], {
      baseBackoffMs: 60_000,
    });
    await emit('connection.refreshed');
    expect(await d.tick()).toEqual({ enqueued: 2, delivered: 1, failed: 0, retried: 1 });
    expect((await deliveries('moved'))[0]).toMatchObject({ last_http_status: 302, last_error: 'HTTP 302' });
  });

  it('never lets a secret, the payload or the URL reach the logs, and never puts the secret on the wire', async () => {
    const hooks = await receiver((_request, index) => (index === 0 ? { status: 500 } : { status: 200 }));
    const url = hooks.url('/hooks/path-token-9b1e2f');
    const d = dispatcher([endpoint('crm', url)], { baseBackoffMs: 60_000 });
    await emit('connection.refreshed');
    await d.tick();
    await makeDue();
    expect(await d.tick()).toMatchObject({ delivered: 1 });

    expect(hooks.requests).toHaveLength(2);
    for (const r of hooks.requests) {
      expect(r.body).not.toContain(SECRET);
      expect(JSON.stringify(r.headers)).not.toContain(SECRET);
    }
    expect(logs.events('webhook delivery failed, will retry')).toEqual([
      expect.objectContaining({ component: 'webhooks', endpoint: 'crm', reason: 'HTTP 500', httpStatus: 500 }),
    ]);
    expect(logs.events('webhook delivered')).toHaveLength(1);
    for (const leak of [SECRET, PAYLOAD_MARKER, 'path-token-9b1e2f']) expect(logs.text).not.toContain(leak);
  });

  it('runs on its own with start(), logs failures instead of throwing, and stop() waits for the tick', async () => {
    const hooks = await receiver();
    const d = dispatcher([endpoint('crm', hooks.url())], { intervalMs: 20 });
    d.start();
    d.start();
    const id = await emit('connection.refreshed');
    await until(() => hooks.requests.length === 1, { what: 'the loop to deliver' });
    await d.stop();
    expect(hooks.eventIds()).toEqual([`evt_${id}`]);

    // A database that is gone: every tick fails, the loop logs and carries on.
    const broken = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 1 });
    await closeDatabase(broken);
    const failing = dispatcher([endpoint('crm', hooks.url())], { db: broken, intervalMs: 20 });
    failing.start();
    await until(() => logs.events('webhook fan-out failed').length >= 2, { what: 'two failed ticks logged' });
    expect(logs.events('webhook delivery pass failed').length).toBeGreaterThanOrEqual(2);
    await failing.stop();
  });
});
