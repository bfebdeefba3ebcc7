import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { COMMAND_SCRIPTS, defineCommands, type EvergreenCommands } from '../../src/commands.ts';

/** A client with Evergreen's commands, keys under a prefix of its own, and a way to make Redis forget the scripts. */
export interface ScriptFixture {
  redis: Redis & EvergreenCommands;
  key(name: string): string;
  /** Whether Redis knows the command's script by its SHA1 (what EVALSHA asks for). */
  loaded(command: keyof EvergreenCommands): Promise<boolean>;
  /** SCRIPT FLUSH: what a Redis restart does to the script cache. Every client of this Redis falls back to EVAL. */
  flushScripts(): Promise<void>;
  close(): Promise<void>;
}

export function scriptFixture(): ScriptFixture {
  const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
  defineCommands(redis);
  const prefix = `evg-script-${randomBytes(4).toString('hex')}`;
  return {
    redis,
    key: (name) => `${prefix}:${name}`,
    async loaded(command) {
      const sha = createHash('sha1').update(COMMAND_SCRIPTS[command].lua).digest('hex');
      const [exists] = (await redis.script('EXISTS', sha)) as number[];
      return exists === 1;
    },
    async flushScripts() {
      await redis.script('FLUSH');
    },
    async close() {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}
