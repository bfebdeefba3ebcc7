import type { Redis } from 'ioredis';

export interface CommandStats {
  /** Per command: calls and microseconds spent inside Redis over the window. */
  commands: Record<string, { calls: number; usec: number }>;
  totalCalls: number;
  totalUsec: number;
}

async function read(redis: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const text = await redis.info('commandstats');
  const stats = new Map<string, { calls: number; usec: number }>();
  for (const match of text.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)) {
    stats.set(match[1]!, { calls: Number(match[2]), usec: Number(match[3]) });
  }
  return stats;
}

/**
 * Redis INFO commandstats over a window: which commands a scenario sends and the server time they cost. The server
 * is shared, so other clients' commands count too; the benchmark's own load dwarfs them.
 */
export async function commandStats(redis: Redis): Promise<() => Promise<CommandStats>> {
  const before = await read(redis);
  return async () => {
    const after = await read(redis);
    const commands: Record<string, { calls: number; usec: number }> = {};
    let totalCalls = 0;
    let totalUsec = 0;
    for (const [name, now] of after) {
      const then = before.get(name) ?? { calls: 0, usec: 0 };
      const calls = now.calls - then.calls;
      if (calls <= 0) continue;
      commands[name] = { calls, usec: now.usec - then.usec };
      totalCalls += calls;
      totalUsec += now.usec - then.usec;
    }
    const sorted = Object.fromEntries(Object.entries(commands).sort((a, b) => b[1].calls - a[1].calls));
    return { commands: sorted, totalCalls, totalUsec };
  };
}
