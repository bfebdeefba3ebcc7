import type { ProviderDefinition, RedisConnection, RefreshDecision } from '@evergreen/core';
import { renewsConnections } from '@evergreen/core';
import { safeError, type Logger } from '@evergreen/log';
import {
  createRedis,
  FINISHED_JOB_RETENTION,
  PAUSE_ONLY_LIMITER,
  type RedisClient,
  type RefreshJobData,
  type RefreshQueues,
} from '@evergreen/queue';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { RefreshEngine } from './refresh-engine.ts';

/** Around this long (±50 %) before a job whose refresh threw (a database outage, say) runs again. */
const UNEXPECTED_ERROR_RETRY_MS = 5_000;

export interface RefreshWorkersOptions {
  /** Where Redis is (a URL, or the config's Sentinel or Cluster settings): each worker opens its own client. */
  redis: RedisConnection | string;
  prefix: string;
  providers: readonly ProviderDefinition[];
  engine: RefreshEngine;
  /** The producer side; its layout says which queues (shards, hash tags) each provider's workers take jobs from. */
  queues: RefreshQueues;
  concurrency: number;
  /** BullMQ job lock; with the stall interval it bounds how soon a killed worker's job comes back. */
  jobLockMs: number;
  stalledIntervalMs: number;
  log: Logger;
}

/**
 * One BullMQ worker per provider queue, each a thin edge around the engine: the engine decides, and this turns its
 * decision into BullMQ's vocabulary (moveToDelayed + DelayedError, rateLimit + RateLimitError, UnrecoverableError).
 */
export class RefreshWorkers {
  readonly #o: RefreshWorkersOptions;
  /** Each worker with the Redis client it was given: BullMQ never closes a client it did not make. */
  readonly #workers: { worker: Worker<RefreshJobData>; redis: RedisClient; provider: string }[] = [];

  constructor(options: RefreshWorkersOptions) {
    this.#o = options;
  }

  start(): void {
    // Tokens that never expire have nothing to run: no queue, no Redis connections.
    for (const provider of this.#o.providers.filter(renewsConnections)) {
      for (const name of this.#o.queues.layout.names(provider.id)) this.#startWorker(provider, name);
    }
  }

  #startWorker(provider: ProviderDefinition, name: string): void {
    const log = this.#o.log.child({ component: 'worker', provider: provider.id });
    const redis = createRedis(this.#o.redis, 'worker');
    const worker = new Worker<RefreshJobData>(name, (job, token) => this.#process(provider, job, token), {
      connection: redis,
      prefix: this.#o.prefix,
      concurrency: this.#o.concurrency,
      lockDuration: this.#o.jobLockMs,
      stalledInterval: this.#o.stalledIntervalMs,
      // A stalled refresh is harmless to retry (lock + fencing), and a job that fails on stalls would drop the
      // connection from the schedule until the reconcile notices: let stalls come back, always.
      maxStalledCount: 1_000,
      limiter: PAUSE_ONLY_LIMITER,
      ...FINISHED_JOB_RETENTION,
      autorun: false,
    });
    worker.on('error', (error) => log.error({ err: safeError(error) }, 'worker error'));
    worker.on('failed', (job, error) => {
      if (job) log.info({ connection: job.id, reason: error.message }, 'connection left the schedule');
    });
    void worker.run().catch((error: unknown) => log.error({ err: safeError(error) }, 'worker stopped'));
    this.#workers.push({ worker, redis, provider: provider.id });
  }

  async #process(provider: ProviderDefinition, job: Job<RefreshJobData>, token: string | undefined): Promise<string> {
    const { connectionId } = job.data;
    let decision: RefreshDecision;
    try {
      decision = await this.#o.engine.run(connectionId, { trigger: 'schedule', provider: provider.id });
    } catch (error) {
      // Postgres or Redis failed under us: a delay, never a dropped connection. The job stays and looks again.
      this.#o.log.error(
        { connection: connectionId, provider: provider.id, err: safeError(error) },
        'refresh failed unexpectedly; retrying',
      );
      await job.moveToDelayed(Date.now() + UNEXPECTED_ERROR_RETRY_MS * (0.5 + Math.random()), token);
      throw new DelayedError();
    }
    switch (decision.kind) {
      case 'delay':
        // Same job, same id, later: no attempt consumed, and still exactly one job per connection.
        await job.moveToDelayed(decision.runAt, token);
        throw new DelayedError();
      case 'rate_limited':
      case 'provider_outage':
        // Pauses this provider's queues (every shard) for every worker; the job returns to the head of the wait list
        // (BullMQ pushes it back where the next job is taken) without using an attempt. An open breaker holds jobs
        // this way until a probe is due, so the wait list keeps its due-time order for the recovery.
        await this.#o.queues.rateLimit(provider.id, decision.retryAfterMs);
        throw Worker.RateLimitError();
      case 'stop':
        // Failed without retry: Bull Board's failed list is the list of connections that need a person.
        throw new UnrecoverableError(`${decision.status}: ${decision.reason}`);
      case 'done':
        return decision.why;
    }
  }

  /**
   * SIGTERM drains (invariant 9): stop taking jobs and let the ones in flight finish, up to the grace period. Past it
   * the close is abandoned and the jobs still in flight are left to the stall check, as after a kill: BullMQ's
   * `close(true)` only hands back the close already under way, so it cannot cut one short, and a close begun while
   * Redis was unreachable never ends (ioredis does not end a connection that waits to reconnect). A process that
   * outlived its grace period over that would never exit.
   */
  async close(graceMs: number): Promise<void> {
    await Promise.all(
      this.#workers.map(async ({ worker, redis, provider }) => {
        const closed = worker.close().then(
          () => true,
          () => true,
        );
        if (!(await settlesWithin(closed, graceMs))) {
          this.#o.log.warn(
            { provider, queue: worker.name, graceMs },
            'worker not drained within the grace period; its jobs in flight return through the stall check',
          );
        }
        redis.disconnect();
      }),
    );
    this.#workers.length = 0;
  }
}

/** True when `promise` settles within `ms`, false when the time runs out first. */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
