import { createLogger } from '@evergreen/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { createRegistry, RefreshMetrics, startOpsServer, type OpsServer } from '../src/index.ts';
import { parseProm, sampleValue, samplesOf } from './prom-text.ts';

describe('RefreshMetrics', () => {
  const registry = createRegistry();
  const metrics = new RefreshMetrics(registry);
  let server: OpsServer;

  beforeAll(async () => {
    server = await startOpsServer({
      port: 0,
      host: '127.0.0.1',
      registry,
      readiness: async () => ({}),
      log: createLogger({ level: 'warn', destination: new LogCapture() }),
    });
  });

  afterAll(async () => {
    await server.close();
  });

  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(registry.contentType);
    return parseProm(await res.text());
  };

  it('counts attempts by provider, outcome, classified reason and trigger, and times them', async () => {
    metrics.attempt({ provider: 'acme', outcome: 'success', reason: null, trigger: 'schedule', durationMs: 42 });
    metrics.attempt({ provider: 'acme', outcome: 'success', reason: null, trigger: 'schedule', durationMs: 7 });
    metrics.attempt({
      provider: 'acme',
      outcome: 'reauth',
      reason: 'invalid_grant',
      trigger: 'on_demand',
      durationMs: 120,
    });
    metrics.attempt({
      provider: 'globex',
      outcome: 'transient',
      reason: 'timeout',
      trigger: 'forced',
      durationMs: 29_000,
    });
    // A reason the classifier never gives (free text from somewhere) must not become a label value.
    metrics.attempt({
      provider: 'globex',
      outcome: 'fatal',
      reason: 'owner 42 said: token abc.def',
      trigger: 'schedule',
      durationMs: 3,
    });

    const samples = await scrape();
    expect(samplesOf(samples, 'evergreen_refresh_attempts_total')).toEqual({
      'outcome=success,provider=acme,reason=none,trigger=schedule': 2,
      'outcome=reauth,provider=acme,reason=invalid_grant,trigger=on_demand': 1,
      'outcome=transient,provider=globex,reason=timeout,trigger=forced': 1,
      'outcome=fatal,provider=globex,reason=none,trigger=schedule': 1,
    });
    const duration = (labels: Record<string, string>) =>
      sampleValue(samples, 'evergreen_refresh_duration_seconds_bucket', labels);
    expect(
      sampleValue(samples, 'evergreen_refresh_duration_seconds_count', { provider: 'acme', outcome: 'success' }),
    ).toBe(2);
    expect(
      sampleValue(samples, 'evergreen_refresh_duration_seconds_sum', { provider: 'acme', outcome: 'success' }),
    ).toBeCloseTo(0.049);
    expect(duration({ provider: 'acme', outcome: 'success', le: '0.005' })).toBe(0);
    expect(duration({ provider: 'acme', outcome: 'success', le: '0.01' })).toBe(1);
    expect(duration({ provider: 'acme', outcome: 'success', le: '0.05' })).toBe(2);
    expect(duration({ provider: 'globex', outcome: 'transient', le: '10' })).toBe(0);
    expect(duration({ provider: 'globex', outcome: 'transient', le: '30' })).toBe(1);
    expect(samples.some((s) => JSON.stringify(s.labels).includes('owner 42'))).toBe(false);
  });

  it('records lateness in seconds on the fixed buckets, and lock contention without labels', async () => {
    metrics.lateness({ provider: 'acme', ms: 0 });
    metrics.lateness({ provider: 'acme', ms: 1_500 });
    metrics.lateness({ provider: 'acme', ms: 400_000 });
    metrics.lateness({ provider: 'acme', ms: Number.NaN }); // ignored, never thrown
    metrics.lockContention({ provider: null });
    metrics.lockContention({ provider: 'acme' });

    const samples = await scrape();
    const bucket = (le: string) =>
      sampleValue(samples, 'evergreen_refresh_lateness_seconds_bucket', { provider: 'acme', le });
    expect(bucket('0')).toBe(1);
    expect(bucket('1')).toBe(1);
    expect(bucket('2')).toBe(2);
    expect(bucket('300')).toBe(2);
    expect(bucket('+Inf')).toBe(3);
    const les = samples
      .filter((s) => s.name === 'evergreen_refresh_lateness_seconds_bucket' && s.labels.provider === 'acme')
      .map((s) => s.labels.le);
    expect(les).toEqual(['0', '0.1', '0.5', '1', '2', '5', '10', '30', '60', '300', '+Inf']);
    expect(samplesOf(samples, 'evergreen_lock_contention_total')).toEqual({ '': 2 });
  });

  it('never throws, whatever it is handed', () => {
    expect(() =>
      metrics.attempt({
        provider: 'acme',
        outcome: 'success',
        reason: null,
        trigger: 'schedule',
        durationMs: Number.POSITIVE_INFINITY,
      }),
    ).not.toThrow();
    expect(() => metrics.lateness({ provider: 'acme', ms: -5 })).not.toThrow();
  });

  it('serves the default process metrics under the evergreen_ prefix', async () => {
    const samples = await scrape();
    expect(samples.some((s) => s.name === 'evergreen_process_cpu_user_seconds_total')).toBe(true);
    expect(samples.some((s) => s.name === 'evergreen_nodejs_heap_size_used_bytes')).toBe(true);
  });
});
