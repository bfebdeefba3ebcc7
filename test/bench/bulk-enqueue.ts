import { queueName, REFRESH_JOB } from '@evergreen/queue';
import type { EnqueueConnectionInput, EnqueueConnectionResult, Evergreen } from '@evergreen/sdk';
import { Queue } from 'bullmq';
import type { BenchSandbox } from './bench-sandbox.ts';
import { CpuSampler, type CpuShare, type ServicePids } from './cpu-sampler.ts';
import { BENCH_PROVIDER } from './population.ts';

export interface RawAddBulkResult {
  jobs: number;
  batchSize: number;
  jobsPerSecond: number;
  /** Where the CPU went while it ran (the benchmark's process is the producer here). */
  cpu: CpuShare;
}

/**
 * The floor under enqueueConnections: the same delayed jobs (`{ connectionId }`, job id = connection id, the same
 * delays) added with BullMQ's addBulk in batches of the SDK's size, one batch after another, into a queue of its own.
 * Its keys are deleted afterwards.
 */
export async function rawAddBulk(
  sandbox: BenchSandbox,
  jobs: readonly { connectionId: string; runAt: number }[],
  batchSize: number,
  services: ServicePids,
): Promise<RawAddBulkResult> {
  const prefix = `${sandbox.prefix}-raw`;
  const connection = sandbox.redis.duplicate();
  const queue = new Queue(queueName(BENCH_PROVIDER), { connection, prefix });
  try {
    const stopCpu = new CpuSampler(services).start();
    const t0 = performance.now();
    for (let i = 0; i < jobs.length; i += batchSize) {
      const now = Date.now();
      await queue.addBulk(
        jobs.slice(i, i + batchSize).map((j) => ({
          name: REFRESH_JOB,
          data: { connectionId: j.connectionId },
          opts: { jobId: j.connectionId, delay: Math.max(0, j.runAt - now) },
        })),
      );
    }
    const seconds = (performance.now() - t0) / 1_000;
    return { jobs: jobs.length, batchSize, jobsPerSecond: jobs.length / seconds, cpu: stopCpu() };
  } finally {
    await queue.close();
    connection.disconnect();
    await sandbox.dropRedisKeys(`${prefix}:*`);
  }
}

export interface EnqueueResult {
  connections: number;
  batchSize: number;
  connectionsPerSecond: number;
  seconds: number;
  cpu: CpuShare;
  results: EnqueueConnectionResult[];
}

export async function timedEnqueue(
  evergreen: Evergreen,
  inputs: readonly EnqueueConnectionInput[],
  batchSize: number,
  services: ServicePids,
): Promise<EnqueueResult> {
  const stopCpu = new CpuSampler(services).start();
  const t0 = performance.now();
  const result = await evergreen.enqueueConnections(inputs, { batchSize });
  const seconds = (performance.now() - t0) / 1_000;
  const cpu = stopCpu();
  if (result.failed > 0) {
    const first = result.results.find((r) => !r.ok);
    throw new Error(`enqueueConnections: ${result.failed} failed, first: ${JSON.stringify(first)}`);
  }
  const results = result.results.map((r) => r as EnqueueConnectionResult & { ok: true });
  const unscheduled = results.filter((r) => r.scheduling !== 'scheduled').length;
  if (unscheduled > 0) throw new Error(`enqueueConnections: ${unscheduled} not scheduled`);
  return {
    connections: inputs.length,
    batchSize,
    connectionsPerSecond: inputs.length / seconds,
    seconds,
    cpu,
    results,
  };
}

export interface MemoryResult {
  redisBytesPerConnection: number;
  /** MEMORY USAGE of a sample of job hashes, plus each connection's share of the delayed sorted set. */
  redisSampledBytesPerConnection: number;
  redisSample: { jobHash: number; delayedZsetShare: number; otherKeysShare: number; jobEncoding: string };
  postgresBytesPerConnection: number;
  postgres: { connectionsTable: number; connectionEvents: number };
}

export async function redisUsedMemory(sandbox: BenchSandbox): Promise<number> {
  const info = await sandbox.redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

/**
 * What each scheduled connection costs: Redis from INFO used_memory before and after (the shared server's other
 * clients are quiet next to 100,000 jobs) and from MEMORY USAGE sampling; Postgres from pg_total_relation_size of the
 * connections table (indexes and TOAST included) and of the events outbox each enqueue writes to.
 */
export async function memoryPerConnection(
  sandbox: BenchSandbox,
  connections: number,
  usedBefore: number,
  usedAfter: number,
  pgBefore: { connectionsTable: number; connectionEvents: number },
): Promise<MemoryResult> {
  const redis = sandbox.redis;
  const keys = await sandbox.redisKeys();
  const queuePrefix = `${sandbox.prefix}:${queueName(BENCH_PROVIDER)}:`;
  // Job keys end in the connection id (a UUID); the queue's own keys (delayed, events, meta, ...) do not.
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const jobKeys = keys.filter((k) => k.startsWith(queuePrefix) && uuid.test(k.slice(queuePrefix.length)));
  const jobKeySet = new Set(jobKeys);
  const fixed = keys.filter((k) => !jobKeySet.has(k));
  const sample = jobKeys.filter((_, i) => i % Math.max(1, Math.floor(jobKeys.length / 500)) === 0).slice(0, 500);
  let sampled = 0;
  for (const k of sample) sampled += Number(await redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
  const jobHash = sample.length ? sampled / sample.length : 0;
  const jobEncoding = sample[0] ? String(await redis.object('ENCODING', sample[0])) : 'none';
  let delayed = 0;
  let other = 0;
  for (const k of fixed) {
    const bytes = Number(await redis.call('MEMORY', 'USAGE', k, 'SAMPLES', '0'));
    if (k.endsWith(':delayed')) delayed += bytes;
    else other += bytes;
  }
  const [pg] = await sandbox.sql<{ conn: string; events: string }[]>`
    select pg_total_relation_size('connections')::text as conn,
           pg_total_relation_size('connection_events')::text as events`;
  const connectionsTable = Number(pg?.conn ?? 0) - pgBefore.connectionsTable;
  const connectionEvents = Number(pg?.events ?? 0) - pgBefore.connectionEvents;
  return {
    redisBytesPerConnection: (usedAfter - usedBefore) / connections,
    // Shares are over every job in the queue (the calibration's far-future ones too), like the hash sample.
    redisSampledBytesPerConnection: jobHash + (delayed + other) / Math.max(1, jobKeys.length),
    redisSample: {
      jobHash,
      delayedZsetShare: delayed / Math.max(1, jobKeys.length),
      otherKeysShare: other / Math.max(1, jobKeys.length),
      jobEncoding,
    },
    postgresBytesPerConnection: (connectionsTable + connectionEvents) / connections,
    postgres: { connectionsTable: connectionsTable / connections, connectionEvents: connectionEvents / connections },
  };
}
