import { createLogger } from '@evergreen/log';
import { TokenClient } from '@evergreen/oauth';
import { ConnectionLock, createRedis, SendSlots } from '@evergreen/queue';
import { engineFromConfig, type RefreshEngine } from '@evergreen/refresh';
import { startRoles, type Role, type RunningRoles } from '@evergreen/runtime';
import { createEvergreen, type Evergreen } from '@evergreen/sdk';
import { ConnectionStore, eventsChannel, openDatabase, closeDatabase, type StoredConnection } from '@evergreen/store';
import { LogCapture } from './log-capture.ts';
import type { Sandbox } from './sandbox.ts';

export interface Stack {
  roles: RunningRoles | null;
  evergreen: Evergreen;
  logs: LogCapture;
  /** A refresh engine of this process's own, for forced refreshes that race the workers. */
  engine: RefreshEngine;
  /** Reads rows as the engine does (decrypted), to check what was stored. */
  read(connectionId: string): Promise<StoredConnection | null>;
  close(): Promise<void>;
}

/** Worker and scheduler in this process (optional), and a producer client, all on the sandbox's schema and prefix. */
export async function startStack(
  sandbox: Sandbox,
  options: { roles?: Role[]; env?: Record<string, string> } = {},
): Promise<Stack> {
  const logs = new LogCapture();
  const roles = options.roles?.length
    ? await startRoles(options.roles, { env: sandbox.env(options.env), logDestination: logs })
    : null;
  const config = sandbox.config(options.env);
  const evergreen = createEvergreen({ config, logger: createLogger({ level: 'debug', destination: logs }) });
  const db = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 2 });
  const store = new ConnectionStore(db, config.keyring, 'test-process', eventsChannel(config.dbSchema));
  const redis = createRedis(sandbox.redisUrl, 'worker');
  const tokens = new TokenClient(config.http);
  const engine = engineFromConfig(config, {
    store,
    lock: new ConnectionLock(redis, config.redisPrefix),
    sendSlots: new SendSlots(redis, config.redisPrefix),
    tokens,
    log: createLogger({ level: 'info', destination: logs }),
  });
  return {
    roles,
    evergreen,
    logs,
    engine,
    read: (id) => store.find(id),
    close: async () => {
      await roles?.close();
      await evergreen.close();
      await tokens.close();
      redis.disconnect();
      await closeDatabase(db);
    },
  };
}
