import type { RedisClient } from './redis.ts';

/** A Redis setting that costs Evergreen schedules or memory as configured, and what to set instead. */
export interface RedisAdvice {
  setting: string;
  found: string;
  want: string;
  why: string;
}

/** The settings `adviseOnRedisSettings` reads; `CONFIG GET` answers with these names. */
export const CHECKED_REDIS_SETTINGS = [
  'maxmemory-policy',
  'hash-max-listpack-value',
  'hash-max-ziplist-value',
] as const;

/**
 * A job's longest hash field is its options, `{"jobId":"<uuid>","delay":N}`: at most 64 bytes with a UUID connection id
 * (refresh-queues.ts keeps them there). That is Redis's default threshold; set lower, Redis stores the whole hash as a
 * hash table instead of a listpack, at twice the memory (656 against 328 bytes per job).
 */
export const JOB_HASH_LISTPACK_VALUE = 64;

/**
 * What to change in a Redis's configuration, given its `CONFIG GET` answers (absent: not readable, nothing said).
 * Pure, so every branch is a unit test.
 */
export function adviseOnRedisSettings(settings: Readonly<Record<string, string>>): RedisAdvice[] {
  const advice: RedisAdvice[] = [];
  const policy = settings['maxmemory-policy'];
  if (policy !== undefined && policy !== 'noeviction') {
    advice.push({
      setting: 'maxmemory-policy',
      found: policy,
      want: 'noeviction',
      why: 'an evicted job key is a lost schedule until the next reconcile',
    });
  }
  // Redis 7 names it hash-max-listpack-value and still answers to the old name; Redis 6 knows only the old one.
  const listpack = settings['hash-max-listpack-value'] ?? settings['hash-max-ziplist-value'];
  if (listpack !== undefined && Number(listpack) < JOB_HASH_LISTPACK_VALUE) {
    advice.push({
      setting: 'hash-max-listpack-value',
      found: listpack,
      want: String(JOB_HASH_LISTPACK_VALUE),
      why: "each scheduled connection's job hash is stored as a hash table, about 60 % more Redis memory per connection",
    });
  }
  return advice;
}

/**
 * Reads the settings `adviseOnRedisSettings` checks. Managed Redis services often refuse `CONFIG`: then nothing can be
 * said, and that is not an error.
 */
export async function readRedisSettings(redis: RedisClient): Promise<Record<string, string>> {
  const settings: Record<string, string> = {};
  for (const name of CHECKED_REDIS_SETTINGS) {
    try {
      const answer = (await redis.call('CONFIG', 'GET', name)) as string[];
      for (let i = 0; i + 1 < answer.length; i += 2) settings[answer[i]!] = answer[i + 1]!;
    } catch {
      return settings;
    }
  }
  return settings;
}
