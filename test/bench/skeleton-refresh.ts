import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeProvider } from '@evergreen/fake-provider';
import { refreshJob } from '@evergreen/queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { BenchSandbox } from './bench-sandbox.ts';
import { runPlanChild } from './plan-child.ts';
import { seal } from './skeleton-seal.ts';

export interface SkeletonRefreshResult {
  concurrency: number;
  refreshesPerSecond: number;
  /** The skeleton process's CPU per refresh. */
  cpuMsPerRefresh: number;
  backlog: number;
}

/**
 * The floor's three parts put together in one process as a refresh must (issue 21): what a refresh with nothing of
 * Evergreen's own costs — a BullMQ job taken and moved to its next run, a lock taken and released, the row read and
 * written back (fenced, one UPDATE), the token request, the tokens decrypted and encrypted
 * (test/bench/skeleton-refresh-client.ts). Measured at the same concurrency in the same run as the floor, it says how
 * much of the gap between a refresh and the floor is the composition itself rather than Evergreen's logic. The table
 * holds the rows only (a primary key, like pgbench's), and the backlog is sized to outlast the window at `ceiling`
 * refreshes a second.
 */
export async function skeletonRefreshThroughput(
  sandbox: BenchSandbox,
  provider: FakeProvider,
  concurrency: number,
  options: { warmupMs: number; windowMs: number; ceiling: number; nodeOptions?: readonly string[] },
): Promise<SkeletonRefreshResult> {
  const table = `skeleton_c${concurrency}`;
  const queueName = `skeleton-c${concurrency}`;
  const backlog = Math.max(2_000, Math.ceil((options.ceiling * (options.warmupMs + options.windowMs) * 1.5) / 1_000));
  const key = randomBytes(32);
  const connection = new Redis(sandbox.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection, prefix: sandbox.prefix });
  try {
    await sandbox.sql.unsafe(`
      create table ${table} (
        id uuid primary key, version integer not null, refresh_token text not null,
        access_token text, expires_at timestamptz)`);
    const ids = Array.from({ length: backlog }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 1_000) {
      const rows = ids.slice(i, i + 1_000).map((id) => ({
        id,
        version: 1,
        refresh_token: seal(key, provider.issue().refreshToken),
      }));
      await sandbox.sql`insert into ${sandbox.sql(table)} ${sandbox.sql(rows)}`;
    }
    const now = Date.now();
    for (let i = 0; i < ids.length; i += 5_000) {
      await queue.addBulk(ids.slice(i, i + 5_000).map((id) => refreshJob(id, now, now)));
    }
    const result = await runPlanChild<{ refreshesPerSecond: number; cpuMsPerRefresh: number }>(
      'test/bench/skeleton-refresh-client.ts',
      {
        redisUrl: sandbox.redisUrl,
        prefix: sandbox.prefix,
        queue: queueName,
        databaseUrl: sandbox.databaseUrl,
        schema: sandbox.schema,
        table,
        tokenUrl: provider.tokenUrl,
        key: key.toString('base64'),
        concurrency,
        warmupMs: options.warmupMs,
        windowMs: options.windowMs,
      },
      options.nodeOptions,
    );
    return { concurrency, backlog, ...result };
  } finally {
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
    await sandbox.sql.unsafe(`drop table if exists ${table}`);
  }
}
