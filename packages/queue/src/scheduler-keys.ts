import { Keyspace } from './keyspace.ts';

/**
 * The scheduler's own Redis keys. The sentinel exists only while Redis still holds what the last full pass wrote:
 * when Redis restarts empty or is flushed, it is gone, and the next pass rebuilds every job from Postgres.
 */
export class SchedulerKeys extends Keyspace {
  get sentinelKey(): string {
    return `${this.prefix}:scheduler:sentinel`;
  }

  get leaderKey(): string {
    return `${this.prefix}:scheduler:leader`;
  }

  async setSentinel(fullPassAt: number): Promise<void> {
    await this.redis.set(this.sentinelKey, String(fullPassAt));
  }

  async lastFullPass(): Promise<number | null> {
    const value = await this.redis.get(this.sentinelKey);
    return value === null ? null : Number(value);
  }

  /**
   * One replica reconciles at a time; the others skip the tick. Returns a release function, or null. The lease is a
   * lock like a connection's, released only by its owner.
   */
  async lead(owner: string, ttlMs: number): Promise<(() => Promise<void>) | null> {
    const ok = await this.redis.set(this.leaderKey, owner, 'PX', ttlMs, 'NX');
    if (ok !== 'OK') return null;
    return async () => {
      await this.redis.evergreenReleaseLock(this.leaderKey, owner);
    };
  }
}
