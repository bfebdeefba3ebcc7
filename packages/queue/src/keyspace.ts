import type { Redis } from 'ioredis';
import { defineCommands, type EvergreenCommands } from './commands.ts';

/**
 * One part of Evergreen's Redis (the lock, the scheduler's keys, the send slots): a client with Evergreen's scripts
 * defined on it, and the key prefix every key of this Evergreen starts with.
 */
export abstract class Keyspace {
  protected readonly redis: Redis & EvergreenCommands;
  protected readonly prefix: string;

  constructor(redis: Redis, prefix: string) {
    defineCommands(redis);
    this.redis = redis;
    this.prefix = prefix;
  }
}
