import { safeError } from '@evergreen/log';
import { createEvergreen } from '@evergreen/sdk';
import type { EvergreenParts } from '@evergreen/wiring';
import { assertCanStart } from './assert-can-start.ts';
import { buildBoard } from './board-server.ts';

export interface RunningBoard {
  address: string;
  /** Stops taking requests and finishes those in flight; the parts stay open for their owner to close. */
  close(): Promise<void>;
}

/**
 * Starts the board over a process's parts (config.board says where and with which credentials), with an SDK client
 * over the same parts for the operator API's forced refreshes and disconnects. The process serves /metrics and
 * /readyz on its ops port, as every role does.
 */
export async function startBoard(parts: EvergreenParts): Promise<RunningBoard> {
  const { config, log } = parts;
  const settings = config.board;
  assertCanStart(settings.auth, settings.host, settings.dev);
  const { redis, queues, breakers, firstConnection } = parts.producer;
  const onRedisError = (error: unknown) => log.warn({ err: safeError(error) }, 'redis connection problem');
  redis.on('error', onRedisError);
  const evergreen = createEvergreen({ parts });
  const release = async () => {
    await evergreen.close();
    redis.off('error', onRedisError);
  };
  try {
    // Bull Board's first requests find the client connected rather than refuse them while it connects.
    await firstConnection;
    const app = buildBoard({
      evergreen,
      db: parts.db,
      queues,
      breakers,
      providers: config.providers,
      connectReturnTo: config.connect.returnUrls[0] ?? null,
      auth: settings.auth,
      host: settings.host,
      dev: settings.dev,
      readOnly: settings.readOnly,
      logger: log.child({ component: 'board' }),
    });
    const address = await app.listen({ port: settings.port, host: settings.host });
    log.info({ address, readOnly: settings.readOnly, dev: settings.dev }, 'board listening');
    return {
      address,
      close: async () => {
        await app.close();
        await release();
      },
    };
  } catch (error) {
    await release();
    throw error;
  }
}
