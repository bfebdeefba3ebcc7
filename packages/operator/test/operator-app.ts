import { closeDatabase, openDatabase } from '@evergreen/store';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { inject } from 'vitest';
import { operatorApi, type OperatorApiOptions } from '../src/operator-api.ts';

export interface OperatorAppOptions {
  /** The SDK calls the routes make: each test file stubs what it needs. */
  evergreen: OperatorApiOptions['evergreen'];
  /** The schema of the pool the plugin is given; these routes go through the SDK only, so nothing is ever asked. */
  schema: string;
  /** The app's logger; none when not given. */
  logger?: FastifyBaseLogger;
}

export interface OperatorApp {
  app: FastifyInstance;
  /** Registers the operator API under `/api`, with one provider, `acme`, and queues that schedule nothing. */
  register: () => Promise<void>;
  /** Closes the app and its pool. */
  close: () => Promise<void>;
}

/** A Fastify app with the operator API over a stubbed SDK, for tests of the plugin alone (no board, no worker). */
export function operatorApp(options: OperatorAppOptions): OperatorApp {
  const db = openDatabase({ url: inject('databaseUrl'), schema: options.schema, max: 1 });
  const app = Fastify(options.logger ? { loggerInstance: options.logger } : { logger: false });
  return {
    app,
    async register() {
      await app.register(
        operatorApi({
          evergreen: options.evergreen,
          db,
          queues: { scheduleMany: async () => [] },
          providers: [{ id: 'acme' }],
        }),
        { prefix: '/api' },
      );
    },
    async close() {
      await app.close();
      await closeDatabase(db);
    },
  };
}
