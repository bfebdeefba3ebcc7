import { ConnectionLock, MAX_ADD_DELAY_MS, PAUSE_ONLY_LIMITER, queueName, RefreshQueues } from '@evergreen/queue';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { until } from '@evergreen/test-support/until';

describe('the per-connection lock', () => {
  const sandbox = new Sandbox();
  afterAll(() => sandbox.cleanup());

  it('admits one holder, and only its owner token releases it', async () => {
    const lock = new ConnectionLock(sandbox.redis, sandbox.prefix);
    const held = await lock.acquire('c1', 5_000);
    expect(held).not.toBeNull();
    expect(await lock.acquire('c1', 5_000)).toBeNull();
    expect(await lock.release({ ...held!, token: 'not-the-owner' })).toBe(false);
    expect(await lock.acquire('c1', 5_000)).toBeNull();
    expect(await lock.release(held!)).toBe(true);
    expect(await lock.acquire('c1', 5_000)).not.toBeNull();
  });

  it('lapses after its TTL, after which the old holder can neither release nor extend it', async () => {
    const lock = new ConnectionLock(sandbox.redis, sandbox.prefix);
    const old = (await lock.acquire('c2', 100))!;
    const next = await until(() => lock.acquire('c2', 5_000), { what: 'the lapsed lock' });
    expect(await lock.release(old)).toBe(false);
    expect(await lock.extend(old, 5_000)).toBe(false);
    expect(await lock.remainingMs('c2')).toBeGreaterThan(1_000);
    expect(await lock.release(next)).toBe(true);
  });
});

describe('scheduling a connection', () => {
  const sandbox = new Sandbox();
  let queues: RefreshQueues;
  let queue: Queue;

  beforeAll(() => {
    queues = new RefreshQueues(sandbox.redis, sandbox.prefix);
    queue = new Queue(queueName('acme'), { connection: sandbox.redis, prefix: sandbox.prefix });
  });

  afterAll(async () => {
    await queues.close();
    await queue.close();
    await sandbox.cleanup();
  });

  const dueAt = async (id: string) => {
    const job = await queue.getJob(id);
    return job ? job.timestamp + job.delay : null;
  };

  it('adds a job, then moves it instead of silently keeping the old time', async () => {
    const now = Date.now();
    expect(await queues.schedule('acme', 'c1', now + 60_000, now)).toBe('added');
    expect(await dueAt('c1')).toBeGreaterThanOrEqual(now + 59_000);
    const later = Date.now();
    expect(await queues.schedule('acme', 'c1', later + 5_000, later)).toBe('moved');
    expect(Math.abs((await dueAt('c1'))! - (later + 5_000))).toBeLessThan(200);
    expect(await queue.getJobCounts('delayed')).toEqual({ delayed: 1 });
  });

  it('replaces a finished job, and leaves one that is running alone', async () => {
    const now = Date.now();
    await queues.schedule('acme', 'c2', now, now);
    let release!: () => void;
    const running = new Promise<void>((resolve) => (release = resolve));
    const worker = new Worker(queueName('acme'), async (job) => (job.id === 'c2' ? running : undefined), {
      connection: sandbox.redis.duplicate({ maxRetriesPerRequest: null }),
      prefix: sandbox.prefix,
    });
    try {
      await until(async () => (await queue.getJobState('c2')) === 'active', { what: 'c2 active' });
      expect(await queues.schedule('acme', 'c2', Date.now() + 60_000)).toBe('in_flight');
      release();
      await until(async () => (await queue.getJobState('c2')) === 'completed', { what: 'c2 completed' });
    } finally {
      await worker.close();
    }
    expect(await queues.schedule('acme', 'c2', Date.now() + 60_000)).toBe('replaced');
    expect(await queue.getJobState('c2')).toBe('delayed');
  });

  it('tells which connections have a job, in one round trip', async () => {
    expect(
      await queues.existing([
        { id: 'c1', provider: 'acme' },
        { id: 'missing', provider: 'acme' },
      ]),
    ).toEqual([true, false]);
  });

  it("schedules many at bounded parallelism, each outcome in its item's place, a failure settling only its item", async () => {
    const now = Date.now();
    let inFlight = 0;
    let most = 0;
    const counting = new RefreshQueues(sandbox.redis, sandbox.prefix);
    const schedule = counting.schedule.bind(counting);
    counting.schedule = async (...args: Parameters<RefreshQueues['schedule']>) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      try {
        if (args[1] === 'many-broken') throw new Error('redis said no');
        return await schedule(...args);
      } finally {
        inFlight -= 1;
      }
    };
    const ids = Array.from({ length: 12 }, (_, i) => `many-${i}`);
    try {
      expect(await counting.schedule('acme', 'many-gone', now + 60_000, now)).toBe('added');
      const results = await counting.scheduleMany(
        [
          ...ids.map((id) => ({ provider: 'acme', connectionId: id, runAt: now + 60_000 })),
          { provider: 'acme', connectionId: 'many-broken', runAt: now },
          { provider: 'acme', connectionId: 'many-gone', runAt: null },
          { provider: 'acme', connectionId: ids[0]!, runAt: now + 5_000 },
        ],
        { concurrency: 3, now: () => now },
      );
      expect(most).toBe(3);
      expect(results.slice(0, 12).every((r) => r.status === 'fulfilled' && r.value === 'added')).toBe(true);
      expect(results[12]).toMatchObject({ status: 'rejected', reason: { message: 'redis said no' } });
      expect(results.slice(13)).toEqual([
        { status: 'fulfilled', value: 'removed' },
        { status: 'fulfilled', value: 'moved' },
      ]);
      expect(await queue.getJob('many-gone')).toBeUndefined();
      expect(Math.abs((await dueAt(ids[0]!))! - (now + 5_000))).toBeLessThan(1_000);
    } finally {
      await counting.close();
    }
  });

  it('puts nothing but the connection id in the job', async () => {
    const job = await queue.getJob('c1');
    expect(job!.data).toEqual({ connectionId: 'c1' });
  });

  it("stores options small enough for a default Redis to keep the job's hash compact, whenever it is due", async () => {
    const id = crypto.randomUUID();
    const now = Date.now();
    expect(await queues.schedule('acme', id, now + 7 * 86_400_000, now)).toBe('added');
    const key = queue.toKey(id);
    const opts = (await sandbox.redis.hget(key, 'opts'))!;
    // Redis's default hash-max-listpack-value: one field longer than this doubles the hash's memory.
    expect(opts.length).toBeLessThanOrEqual(64);
    // A week ahead is added as the longest short delay; the early run moves it to the real time (refresh-pipeline).
    expect(JSON.parse(opts)).toEqual({ jobId: id, delay: MAX_ADD_DELAY_MS });
    const [, limit] = (await sandbox.redis.call('CONFIG', 'GET', 'hash-max-listpack-value')) as string[];
    if (Number(limit) >= 64) expect(await sandbox.redis.call('OBJECT', 'ENCODING', key)).toBe('listpack');
    // A later move keeps the real time in the job, not in its stored options.
    const later = Date.now();
    expect(await queues.schedule('acme', id, later + 86_400_000, later)).toBe('moved');
    expect(Math.abs((await dueAt(id))! - (later + 86_400_000))).toBeLessThan(200);
    expect((await sandbox.redis.hget(key, 'opts'))!.length).toBeLessThanOrEqual(64);
  });
});

describe("a provider's pause (a 429's Retry-After)", () => {
  const sandbox = new Sandbox();
  afterAll(() => sandbox.cleanup());

  it('holds every worker with the pause-only limiter, and is told apart from the limiter counting job starts', async () => {
    const queues = new RefreshQueues(sandbox.redis, sandbox.prefix);
    const started: { worker: number; at: number }[] = [];
    const workers = [0, 1].map(
      (n) =>
        new Worker(
          queueName('acme'),
          async () => {
            started.push({ worker: n, at: Date.now() });
          },
          { connection: sandbox.redis.duplicate(), prefix: sandbox.prefix, limiter: PAUSE_ONLY_LIMITER },
        ),
    );
    try {
      await queues.schedule('acme', 'warm', Date.now());
      await until(() => started.length === 1, { what: 'the first job' });
      // Jobs have started this second: the key counts them, which is no pause.
      expect(await queues.pausedForMs('acme')).toBe(0);

      const pausedAt = Date.now();
      await queues.rateLimit('acme', 1_500);
      expect(await queues.pausedForMs('acme')).toBeGreaterThan(1_000);
      for (const id of ['a', 'b', 'c']) await queues.schedule('acme', id, Date.now());
      await until(() => started.length === 4, { timeoutMs: 10_000, what: 'the three jobs after the pause' });
      // Neither worker took one inside the pause (a few ms of clock rounding allowed).
      for (const s of started.slice(1)) expect(s.at - pausedAt).toBeGreaterThanOrEqual(1_450);
      expect(await queues.pausedForMs('acme')).toBe(0);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await queues.close();
    }
  });
});
