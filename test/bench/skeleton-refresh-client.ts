import { readFileSync } from 'node:fs';
import { ConnectionLock, FINISHED_JOB_RETENTION } from '@evergreen/queue';
import { DelayedError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { Pool } from 'undici';
import { open, seal } from './skeleton-seal.ts';

/**
 * Child process of `skeletonRefreshThroughput`: the least a fenced refresh can do, with nothing of Evergreen's own
 * but its I/O. Per job of a pre-filled BullMQ backlog: take the connection's lock (Evergreen's ConnectionLock: SET NX PX), read its row by primary
 * key, decrypt the refresh token, send the refresh-token request, encrypt the two new tokens, write them in one
 * single-row UPDATE fenced by the version, release the lock (compare-and-delete, Evergreen's script) and move the job
 * to its next run (moveToDelayed). No breaker, pause, rate window, audit row, event, log line or span.
 * Argument: a JSON file `{ redisUrl, prefix, queue, databaseUrl, schema, table, tokenUrl, key, concurrency,
 * warmupMs, windowMs }`.
 */
interface Plan {
  redisUrl: string;
  prefix: string;
  queue: string;
  databaseUrl: string;
  schema: string;
  table: string;
  tokenUrl: string;
  /** AES-256-GCM key, base64. */
  key: string;
  concurrency: number;
  warmupMs: number;
  windowMs: number;
}

const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Plan;
const key = Buffer.from(plan.key, 'base64');
const sql = postgres(plan.databaseUrl, {
  max: 8,
  connection: { search_path: plan.schema },
  onnotice: () => {},
  fetch_types: false,
});
const lockClient = new Redis(plan.redisUrl, { maxRetriesPerRequest: null });
const locks = new ConnectionLock(lockClient, plan.prefix);
const url = new URL(plan.tokenUrl);
const http = new Pool(url.origin, { connections: plan.concurrency, pipelining: 1 });
const authorization = `Basic ${Buffer.from('client-id:client-secret').toString('base64')}`;
let completed = 0;

const worker = new Worker<{ connectionId: string }>(
  plan.queue,
  async (job, token) => {
    const id = job.data.connectionId;
    const lock = await locks.acquire(id, 30_000);
    if (!lock) throw new Error('locked');
    try {
      const [row] = await sql<{ version: number; refresh_token: string }[]>`
        select version, refresh_token from ${sql(plan.table)} where id = ${id}`;
      if (!row) throw new Error(`no row ${id}`);
      const { statusCode, body } = await http.request({
        method: 'POST',
        path: url.pathname,
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: open(key, row.refresh_token),
        }).toString(),
      });
      const answer = (await body.json()) as { access_token: string; refresh_token?: string; expires_in: number };
      if (statusCode !== 200) throw new Error(`provider answered ${statusCode}`);
      const updated = await sql`
        update ${sql(plan.table)}
        set access_token = ${seal(key, answer.access_token)},
            refresh_token = ${answer.refresh_token ? seal(key, answer.refresh_token) : row.refresh_token},
            expires_at = now() + make_interval(secs => ${answer.expires_in}),
            version = version + 1
        where id = ${id} and version = ${row.version}`;
      if (updated.count !== 1) throw new Error('fenced');
    } finally {
      await locks.release(lock);
    }
    completed += 1;
    await job.moveToDelayed(Date.now() + 3_600_000, token);
    throw new DelayedError();
  },
  {
    connection: new Redis(plan.redisUrl, { maxRetriesPerRequest: null }),
    prefix: plan.prefix,
    concurrency: plan.concurrency,
    ...FINISHED_JOB_RETENTION,
  },
);
worker.on('error', () => {});

await new Promise((resolve) => setTimeout(resolve, plan.warmupMs));
const before = completed;
const cpuBefore = process.cpuUsage();
const t0 = performance.now();
await new Promise((resolve) => setTimeout(resolve, plan.windowMs));
const seconds = (performance.now() - t0) / 1_000;
const cpu = process.cpuUsage(cpuBefore);
const done = completed - before;
await worker.close(true);
await worker.disconnect();
await http.close();
await sql.end({ timeout: 1 });
lockClient.disconnect();
process.stdout.write(
  `${JSON.stringify({ refreshesPerSecond: done / seconds, cpuMsPerRefresh: (cpu.user + cpu.system) / 1_000 / Math.max(1, done) })}\n`,
);
process.exit(0);
