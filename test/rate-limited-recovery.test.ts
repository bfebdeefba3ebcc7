import { FakeProvider } from '@evergreen/fake-provider';
import { createLogger } from '@evergreen/log';
import { createEvergreen, type Evergreen } from '@evergreen/sdk';
import { startRoleProcess, type RoleProcess } from '@evergreen/test-support/processes';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from './chaos/chaos-plan.ts';
import { concordance } from './chaos/outage-measure.ts';
import { measureRateLimited, type RateLimitedGrant } from './chaos/rate-limited-measure.ts';

/**
 * Issue 19 item 2, small and fast: while one provider answers 30 % of its token requests 429 with Retry-After, the
 * refreshes of both providers keep every token alive through worker kills and a Redis flush, nothing is sent to the
 * limited provider inside a pause it announced, and its backlog goes nearest expiry first. `pnpm chaos --scenario
 * rate-limited` is the full-size run.
 */
const BUFFER_S = 20;
const RETRY_AFTER_S = 1;
const LATENCY_MS = 5;
/** Per provider; due times spread over DUE_SPAN_MS, faster than the limited provider lets them through. */
const CONNECTIONS = 100;
const DUE_SPAN_MS = 8_000;
const ENV = {
  // Small windows so the order shows through the refreshes running side by side (3 × 3 in flight at most).
  EVERGREEN_WORKER_CONCURRENCY: '3',
  EVERGREEN_REFRESH_JITTER_MS: '0',
  // Tokens of 21 s and more keep the whole 20-second buffer.
  EVERGREEN_SHORT_LIFETIME_FRACTION: '0.95',
  // The backlog is put back in order of need this often (production: 5 s, against a 5-minute buffer).
  EVERGREEN_BACKLOG_ORDER_INTERVAL_MS: process.env.TEST_BACKLOG_ORDER_INTERVAL_MS ?? '500',
};

describe('a provider answering 30 % of its requests 429, across three worker processes', () => {
  const sandbox = new Sandbox();
  let limited: FakeProvider;
  let steady: FakeProvider;
  let evergreen: Evergreen;
  const processes: RoleProcess[] = [];
  let seq = 0;
  const startWorker = () =>
    processes.push(startRoleProcess('worker', sandbox.env({ ...ENV, EVERGREEN_PROCESS_NAME: `worker-${seq++}` })));
  const alive = (p: RoleProcess) => p.child.exitCode === null && p.child.signalCode === null;

  beforeAll(async () => {
    const options = { latencyMs: LATENCY_MS, accessTokenLifetimeSeconds: 3_600, reuseGraceSeconds: 30 };
    limited = await FakeProvider.start(options);
    steady = await FakeProvider.start(options);
    sandbox.useProviders([
      { id: 'limited', tokenUrl: limited.tokenUrl, refreshBufferSeconds: BUFFER_S },
      { id: 'steady', tokenUrl: steady.tokenUrl, refreshBufferSeconds: BUFFER_S },
    ]);
    processes.push(startRoleProcess('scheduler', sandbox.env({ ...ENV, EVERGREEN_PROCESS_NAME: 'scheduler' })));
    await until(() => processes[0]!.output().includes('"msg":"started"'), {
      timeoutMs: 30_000,
      what: 'the scheduler started (and migrated)',
    });
    for (let i = 0; i < 3; i++) startWorker();
    await until(() => processes.every((p) => p.output().includes('"msg":"started"')), {
      timeoutMs: 30_000,
      what: 'every worker started',
    });
    evergreen = createEvergreen({ config: sandbox.config(ENV), logger: createLogger({ level: 'warn' }) });
  }, 60_000);

  afterAll(async () => {
    for (const p of processes) if (alive(p)) p.child.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));
    await evergreen?.close();
    await Promise.all([limited?.close(), steady?.close()]);
    await sandbox.cleanup();
  });

  it('keeps every token alive, honours Retry-After across workers and refreshes the backlog nearest expiry first', async () => {
    const random = seededRandom(19);
    limited.setFaultForAll(
      { kind: 'status', status: 429, headers: { 'retry-after': String(RETRY_AFTER_S) } },
      { fraction: 0.3, random: seededRandom(429) },
    );
    const enqueue = async (provider: 'limited' | 'steady', fake: FakeProvider) => {
      const batch = Array.from({ length: CONNECTIONS }, (_, i) => {
        const expiresIn = Math.round(BUFFER_S + 1 + (random() * DUE_SPAN_MS) / 1_000);
        return { issued: fake.issue({ expiresIn }), expiresIn, ownerId: `${provider}-${i}` };
      });
      const now = Date.now();
      const result = await evergreen.enqueueConnections(
        batch.map((b) => ({
          ownerId: b.ownerId,
          provider,
          accessToken: b.issued.accessToken,
          refreshToken: b.issued.refreshToken,
          expiresIn: b.expiresIn,
        })),
      );
      expect(result.results.every((r) => r.ok)).toBe(true);
      return batch.map((b): RateLimitedGrant => {
        const expiresAt = now + b.expiresIn * 1_000;
        return { grantId: b.issued.grantId, expiresAt, dueAt: expiresAt - BUFFER_S * 1_000 };
      });
    };
    const limitedGrants = await enqueue('limited', limited);
    const steadyGrants = await enqueue('steady', steady);
    const refreshed = (fake: FakeProvider) =>
      new Set(fake.requests.filter((r) => r.outcome === 'ok').map((r) => r.grantId));
    const limitedRefreshed = () => refreshed(limited).size;

    // A kill once the backlog is building, Redis flushed in the middle of it, two more kills while it drains.
    await until(() => limitedRefreshed() >= 15, { timeoutMs: 30_000, what: '15 limited connections refreshed' });
    processes.filter((p) => alive(p) && p !== processes[0])[0]!.child.kill('SIGKILL');
    startWorker();
    await until(() => limitedRefreshed() >= 35, { timeoutMs: 30_000, what: '35 limited connections refreshed' });
    await sandbox.dropRedisKeys();
    const flushedAt = Date.now();
    const doneAtFlush = refreshed(limited);
    // The backlog the rebuild finds: due, not refreshed yet. It is added back in id order, and must run by expiry.
    const waitingAtFlush = limitedGrants.filter((g) => g.dueAt <= flushedAt && !doneAtFlush.has(g.grantId));
    await until(() => limitedRefreshed() >= 55, { timeoutMs: 30_000, what: '55 limited connections refreshed' });
    for (let i = 0; i < 2; i++) {
      processes.filter((p) => alive(p) && p !== processes[0])[0]!.child.kill('SIGKILL');
      startWorker();
    }
    const all = [...limitedGrants, ...steadyGrants];
    await until(
      () => {
        const done = new Set([...refreshed(limited), ...refreshed(steady)]);
        return all.every((g) => done.has(g.grantId) || g.expiresAt < Date.now());
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'every connection refreshed once, or lapsed' },
    );

    const figures = measureRateLimited({
      limited: { grants: limitedGrants, requests: limited.requests, revokedByReuse: limited.reuseCount() },
      steady: { grants: steadyGrants, requests: steady.requests, revokedByReuse: steady.reuseCount() },
      retryAfterMs: RETRY_AFTER_S * 1_000,
      inFlightAllowanceMs: 300,
      providerLatencyMs: LATENCY_MS,
      endedAt: Date.now(),
      backlogAfterMs: 1_000,
      forgottenAt: [flushedAt],
    });
    const firstOk = (grantId: string) =>
      limited.requests.find((r) => r.outcome === 'ok' && r.grantId === grantId)?.at ?? Date.now();
    const afterFlush = waitingAtFlush.map((g) => ({ expiresAt: g.expiresAt, refreshedAt: firstOk(g.grantId) }));
    const flushOrder = concordance(afterFlush);
    const summary = JSON.stringify({ ...figures, waitingAtFlush: afterFlush.length, flushOrder });
    expect(figures.limited.answered429, summary).toBeGreaterThan(10);
    expect(figures.limited.lapsed, summary).toBe(0);
    expect(figures.steady.lapsed, summary).toBe(0);
    expect(figures.limited.revokedByReuse + figures.steady.revokedByReuse, summary).toBe(0);
    // Retry-After holds for every worker: past the requests already under way when a 429 left, none inside a pause.
    expect(figures.sentDuringPauseBeyondInFlight, summary).toBeLessThanOrEqual(2);
    // A real backlog built, and it went nearest expiry first, the one rebuilt after the flush included.
    expect(figures.backlog, summary).toBeGreaterThanOrEqual(30);
    expect(figures.backlogOrderConcordance, summary).toBeGreaterThanOrEqual(0.9);
    expect(afterFlush.length, summary).toBeGreaterThanOrEqual(15);
    // The part rebuilt after the flush is in the whole backlog's order above; alone (15 to 40 connections) its order
    // ranged from 0.6 to 1 over fifteen runs on 2026-12-07, because the jobs taken between the rebuild and the first
    // reorder (up to 3 workers × 3 at once) run in the rebuild's id order. Reported in the summary, not judged alone.
  }, 150_000);
});
