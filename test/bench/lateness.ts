import type { FakeProvider } from '@evergreen/fake-provider';
import type { EnqueueConnectionResult } from '@evergreen/sdk';
import type { BenchSandbox } from './bench-sandbox.ts';
import { CpuSampler, type CpuShare, type ServicePids } from './cpu-sampler.ts';
import type { Grant } from './population.ts';
import { sleep, summary } from './stats.ts';
import { startWorkers } from './worker-processes.ts';

export interface LatenessResult {
  connections: number;
  workers: number;
  concurrency: number;
  /** From the first due time to the last. */
  spreadSeconds: number;
  /** Refresh start (the request reaching the provider) minus the scheduled time, in ms. */
  latenessMs: { n: number; p50: number; p99: number; max: number };
  /** Connections whose refresh reached the provider after their access token had expired (or never did). */
  expired: number;
  notRefreshed: number;
  /** Refreshes beyond one per connection (must be 0: the new tokens live an hour). */
  extraRefreshes: number;
  workerMaxRssBytes: number;
  cpu: CpuShare;
  /** Per 10-second bucket of due time: connections due and p99 lateness, for the chart. */
  timeline: { at: number; due: number; p99: number; max: number }[];
}

/**
 * Scheduling lateness under a realistic spread: the connections were enqueued with due times spread over a window
 * that starts after the enqueue ends; workers start before the first falls due. Lateness is measured at the provider,
 * which records when each refresh request arrived, against the refresh time enqueueConnections returned.
 */
export async function measureLateness(
  sandbox: BenchSandbox,
  provider: FakeProvider,
  grants: readonly Grant[],
  scheduled: readonly EnqueueConnectionResult[],
  options: { workers: number; concurrency: number; services: ServicePids; env: Record<string, string> },
): Promise<LatenessResult> {
  const byGrant = new Map<string, { refreshAt: number; expiresAt: number }>();
  grants.forEach((g, i) => {
    const s = scheduled[i]!;
    byGrant.set(g.grantId, { refreshAt: s.refreshAt!.getTime(), expiresAt: s.expiresAt!.getTime() });
  });
  const dues = [...byGrant.values()].map((v) => v.refreshAt);
  const firstDue = Math.min(...dues);
  const lastDue = Math.max(...dues);
  const lastExpiry = Math.max(...[...byGrant.values()].map((v) => v.expiresAt));
  const requestsBefore = provider.requests.length;

  const env = sandbox.env({ ...options.env, EVERGREEN_WORKER_CONCURRENCY: String(options.concurrency) });
  const workers = await startWorkers(options.workers, env, sandbox.dir, 'lateness');
  if (Date.now() > firstDue) {
    process.stderr.write(`lateness: workers started ${Date.now() - firstDue} ms after the first due time\n`);
  }
  const sampler = new CpuSampler(options.services, { workers: workers.map((w) => w.pid) });
  let cpu: CpuShare | null = null;
  try {
    // CPU over the due window only (the idle wait before it would dilute it).
    await sleep(Math.max(0, firstDue - Date.now()));
    const stopCpu = sampler.start();
    let refreshedCount = 0;
    const counted = new Set<string>();
    let scanned = requestsBefore;
    while (Date.now() < lastExpiry + 5_000) {
      const requests = provider.requests;
      for (; scanned < requests.length; scanned++) {
        const r = requests[scanned]!;
        if (r.outcome === 'ok' && r.grantId !== null && byGrant.has(r.grantId) && !counted.has(r.grantId)) {
          counted.add(r.grantId);
          refreshedCount += 1;
        }
      }
      if (Date.now() > lastDue && refreshedCount >= grants.length) break;
      if (cpu === null && Date.now() > lastDue) cpu = stopCpu();
      await sleep(500);
    }
    cpu ??= stopCpu();
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }

  const first = new Map<string, number>();
  let extra = 0;
  for (const r of provider.requests.slice(requestsBefore)) {
    if (r.grantId === null || !byGrant.has(r.grantId) || r.outcome !== 'ok') continue;
    if (first.has(r.grantId)) extra += 1;
    else first.set(r.grantId, r.at);
  }
  const lateness: number[] = [];
  let expired = 0;
  const buckets = new Map<number, number[]>();
  for (const [grantId, plan] of byGrant) {
    const at = first.get(grantId);
    if (at === undefined || at > plan.expiresAt) expired += 1;
    if (at === undefined) continue;
    const late = at - plan.refreshAt;
    lateness.push(late);
    const bucket = Math.floor((plan.refreshAt - firstDue) / 10_000);
    const list = buckets.get(bucket) ?? [];
    list.push(late);
    buckets.set(bucket, list);
  }
  const timeline = [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([b, values]) => {
      const s = summary(values);
      return { at: b * 10, due: values.length, p99: s.p99, max: s.max };
    });
  return {
    connections: grants.length,
    workers: options.workers,
    concurrency: options.concurrency,
    spreadSeconds: (lastDue - firstDue) / 1_000,
    latenessMs: summary(lateness),
    expired,
    notRefreshed: grants.length - first.size,
    extraRefreshes: extra,
    workerMaxRssBytes: Math.max(...workers.map((w) => w.maxRssBytes)),
    cpu,
    timeline,
  };
}
