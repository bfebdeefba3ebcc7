import { readdirSync } from 'node:fs';
import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { COMMAND_SCRIPTS, defineCommands } from '../../src/commands.ts';

describe("Evergreen's Redis commands", () => {
  it('registers every commands/*.lua file, once, and each says its keys, arguments and answer', () => {
    const files = readdirSync(new URL('../../src/commands/', import.meta.url)).filter((f) => f.endsWith('.lua'));
    const registered = Object.values(COMMAND_SCRIPTS).map((s) => s.file);
    expect(registered.sort()).toEqual(files.sort());
    expect(new Set(registered).size).toBe(registered.length);
    for (const { file, lua, numberOfKeys } of Object.values(COMMAND_SCRIPTS)) {
      const header = lua.slice(0, lua.indexOf(']]'));
      expect(header, file).toMatch(/^--\[\[/);
      for (let k = 1; k <= numberOfKeys; k++) expect(header, file).toContain(`KEYS[${k}]`);
      expect(header, file).toContain('ARGV[1]');
      expect(header, file).toContain('Returns');
    }
  });

  it('can be defined on a client more than once', async () => {
    const redis = new Redis(inject('redisUrl'), { maxRetriesPerRequest: 1 });
    try {
      defineCommands(redis);
      const first = Reflect.get(redis, 'evergreenReleaseLock');
      defineCommands(redis);
      expect(Reflect.get(redis, 'evergreenReleaseLock')).toBe(first);
      expect(await redis.evergreenReleaseLock('evg-commands-test:nothing', 'anyone')).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
