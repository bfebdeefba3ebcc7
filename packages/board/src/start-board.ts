import { loadConfig, type EvergreenConfig } from '@evergreen/config';
import { createLogger, safeError, type Logger } from '@evergreen/log';
import { createRegistry, readinessChecks, startOpsServer } from '@evergreen/metrics';
import { createRedis, RefreshQueues } from '@evergreen/queue';
import { createEvergreen } from '@evergreen/sdk';
import { closeDatabase, migrateDatabase, openDatabase } from '@evergreen/store';
import { assertCanStart } from './assert-can-start.ts';
import { buildBoard } from './board-server.ts';

export interface RunningBoard {
  address: string;
  close(): Promise<void>;
}

/**
 * Starts the board from the environment: its own settings are checked before anything connects anywhere (a
 * ConfigError names what is wrong), then Postgres, Redis, the SDK client and the HTTP server.
 */
export async function startBoard(
  env: Readonly<Record<string, string | undefined>> = process.env,
  /** `ops: false` when the process already serves /metrics and /readyz (pnpm start runs the roles beside it). */
  options: { config?: EvergreenConfig; logger?: Logger; ops?: boolean } = {},
): Promise<RunningBoard> {
  const config = options.config ?? loadConfig(env, { board: true });
  const settings = config.board;
  assertCanStart(settings.auth, settings.host, settings.dev);
  const log =
    options.logger ??
    createLogger({
      level: config.logLevel,
      base: { service: 'evergreen', roles: 'board', process: config.processName },
    });
  if (config.migrateOnStart) await migrateDatabase({ url: config.databaseUrl, schema: config.dbSchema });
  const db = openDatabase({ url: config.databaseUrl, schema: config.dbSchema, max: 5 });
  // Fail fast like a producer, but queue commands while (re)connecting so the board does not error at start.
  const redis = createRedis(config.redisUrl, 'producer', { enableOfflineQueue: true });
  redis.on('error', (error) => log.warn({ err: safeError(error) }, 'redis connection problem'));
  const queues = new RefreshQueues(redis, config.redisPrefix);
  const evergreen = createEvergreen({ config, logger: log });
  // Like every role, the board serves /metrics, /healthz and /readyz on the ops port, outside its auth.
  const ops =
    options.ops === false
      ? null
      : await startOpsServer({
          port: config.ops.port,
          host: config.ops.host,
          registry: createRegistry(),
          readiness: readinessChecks({ sql: db.$client, redis }),
          log,
        });
  const release = async () => {
    await ops?.close();
    await evergreen.close();
    await queues.close();
    redis.disconnect();
    await closeDatabase(db);
  };
  try {
    const app = buildBoard({
      evergreen,
      db,
      queues,
      providers: config.providers,
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
