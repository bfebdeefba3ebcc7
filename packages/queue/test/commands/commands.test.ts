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

  it('touch only the keys they are given, all in one hash slot, so each runs on a Redis Cluster', () => {
    for (const { file, lua, numberOfKeys } of Object.values(COMMAND_SCRIPTS)) {
      const body = lua.slice(lua.indexOf(']]') + 2);
      const keyArguments = [...body.matchAll(/redis\.call\(\s*'(\w+)'\s*(?:,\s*([^,)]+))?/g)]
        // TIME takes no key; every other command here takes its key first.
        .filter(([, command]) => command!.toUpperCase() !== 'TIME')
        .map(([, , key]) => key!.trim());
      expect(keyArguments.length, file).toBeGreaterThan(0);
      // A key built inside the script could hash to another slot: only the declared KEYS, and one of them (a
      // script with several would need them hash-tagged alike, which the caller could not promise for ours).
      expect(new Set(keyArguments), file).toEqual(new Set(['KEYS[1]']));
      expect(numberOfKeys, file).toBe(1);
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
