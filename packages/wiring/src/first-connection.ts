import type { RedisClient } from '@evergreen/queue';

/**
 * Settles when a new client's first connection attempt does: true once the client takes commands, false when the
 * attempt fails, the client is closed, or `timeoutMs` passes. Never rejects.
 *
 * A producer client has no offline queue, so it refuses every command until it is ready: a call made right after the
 * client was created would find it still connecting and fail although Redis is up. Waiting for this first (and only
 * this first) attempt closes that gap, while a Redis that is really down still fails the call at once.
 */
export function firstConnection(redis: RedisClient, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onFailure);
      redis.off('end', onFailure);
      resolve(ready);
    };
    const onReady = () => settle(true);
    const onFailure = () => settle(false);
    const timer = setTimeout(onFailure, timeoutMs);
    timer.unref();
    redis.on('ready', onReady);
    redis.on('error', onFailure);
    redis.on('end', onFailure);
  });
}
