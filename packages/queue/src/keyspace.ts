import { defineCommands, type EvergreenCommands } from './commands.ts';
import type { RedisClient } from './redis.ts';

/**
 * One part of Evergreen's Redis (the lock, the scheduler's keys, the send slots): a client with Evergreen's scripts
 * defined on it, and the key prefix every key of this Evergreen starts with. Every key it names is a plain key
 * touched alone (one script, one key), so on a Redis Cluster each lives in whatever slot it hashes to.
 */
export abstract class Keyspace {
  protected readonly redis: RedisClient & EvergreenCommands;
  protected readonly prefix: string;

  constructor(redis: RedisClient, prefix: string) {
    defineCommands(redis);
    this.redis = redis;
    this.prefix = prefix;
  }
}
