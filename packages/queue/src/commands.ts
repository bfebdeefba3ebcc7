import { readFileSync } from 'node:fs';
import type { RedisClient } from './redis.ts';

/**
 * Evergreen's Redis scripts as methods of a client, once `defineCommands` has run on it. Each is a
 * `commands/<name>.lua` file beside this module, whose header says its keys, arguments and answer.
 */
export interface EvergreenCommands {
  /** release-lock.lua: 1 when the lock held `token` and is deleted, else 0. */
  evergreenReleaseLock(key: string, token: string): Promise<number>;
  /** extend-lock.lua: 1 when the lock held `token` and now lives `ttlMs`, else 0. */
  evergreenExtendLock(key: string, token: string, ttlMs: number): Promise<number>;
  /** take-send-slot.lua: `[wait, now]`, wait 0 when the slot is taken, now on Redis's clock. */
  evergreenTakeSendSlot(
    key: string,
    max: number,
    durationMs: number,
    member: string,
    lastMember: string,
    lastAt: number,
  ): Promise<[wait: number, now: number]>;
  /** provider-breaker.lua: one operation on a provider's breaker hash; the answer's shape depends on the operation. */
  evergreenProviderBreaker(key: string, operation: string, ...args: (string | number)[]): Promise<(string | number)[]>;
  /** pause-remaining.lua: the milliseconds a provider's pause still holds (0: none). */
  evergreenPauseRemaining(key: string, max: number): Promise<number>;
  /** order-wait-list.lua: how many of `ids` were waiting and now run in the given order. */
  evergreenOrderWaitList(key: string, ...ids: string[]): Promise<number>;
}

export interface CommandScript {
  file: string;
  numberOfKeys: number;
  lua: string;
}

const script = (file: string, numberOfKeys: number): CommandScript => ({
  file,
  numberOfKeys,
  // Read once, when the module loads: a missing file stops the process at start, not at its first refresh.
  lua: readFileSync(new URL(`./commands/${file}`, import.meta.url), 'utf8'),
});

/** Every script, by the command name it gets on a client. */
export const COMMAND_SCRIPTS: Readonly<Record<keyof EvergreenCommands, CommandScript>> = {
  evergreenReleaseLock: script('release-lock.lua', 1),
  evergreenExtendLock: script('extend-lock.lua', 1),
  evergreenTakeSendSlot: script('take-send-slot.lua', 1),
  evergreenProviderBreaker: script('provider-breaker.lua', 1),
  evergreenOrderWaitList: script('order-wait-list.lua', 1),
  evergreenPauseRemaining: script('pause-remaining.lua', 1),
};

/**
 * The one way Evergreen runs its scripts: registered on the client with `defineCommand`, so a call sends EVALSHA and
 * ioredis falls back to EVAL (the script's text) when Redis does not know it, on a new connection or after a restart
 * or a SCRIPT FLUSH. Idempotent: each class that runs a script calls it on the client it is given.
 */
export function defineCommands(redis: RedisClient): asserts redis is RedisClient & EvergreenCommands {
  for (const [name, { numberOfKeys, lua }] of Object.entries(COMMAND_SCRIPTS)) {
    if (typeof Reflect.get(redis, name) !== 'function') redis.defineCommand(name, { numberOfKeys, lua });
  }
}
