import { loadConfig } from '@evergreen/config';
import { ConfigError } from '@evergreen/core';
import { createLogger, safeError } from '@evergreen/log';
import { createRedis, RefreshQueues } from '@evergreen/queue';
import { loadDotEnv } from '@evergreen/runtime';
import { createEvergreen } from '@evergreen/sdk';
import { closeDatabase, migrateDatabase, openDatabase } from '@evergreen/store';
import { buildBoard } from './board-server.ts';
import { assertCanStart, readBoardSettings } from './board-settings.ts';

loadDotEnv();
let settings: ReturnType<typeof readBoardSettings>;
let config: ReturnType<typeof loadConfig>;
try {
  // The board's own variables are read here until @evergreen/config knows them.
  settings = readBoardSettings(process.env);
  assertCanStart(settings.auth, settings.host, settings.dev); // before anything connects anywhere
  config = loadConfig(process.env);
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}

const log = createLogger({
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

let app: ReturnType<typeof buildBoard>;
try {
  app = buildBoard({
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
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
const address = await app.listen({ port: settings.port, host: settings.host });
log.info({ address, readOnly: settings.readOnly, dev: settings.dev }, 'board listening');

let signals = 0;
const stop = (signal: NodeJS.Signals) => {
  signals += 1;
  if (signals > 1) process.exit(1);
  log.info({ signal }, 'stopping');
  (async () => {
    await app.close();
    await evergreen.close();
    await queues.close();
    redis.disconnect();
    await closeDatabase(db);
  })().then(
    () => process.exit(0),
    (error: unknown) => {
      log.error({ err: safeError(error) }, 'shutdown failed');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
