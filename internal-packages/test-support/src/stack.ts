import type { RefreshDecision } from '@evergreen/core';
import { loadConfig } from '@evergreen/config';
import type { FakeProvider, IssueResult } from '@evergreen/fake-provider';
import { createLogger } from '@evergreen/log';
import { type RefreshEngine } from '@evergreen/refresh';
import { startRoles, type Role, type RunningRoles } from '@evergreen/runtime';
import {
  createEvergreen,
  type EnqueueConnectionInput,
  type EnqueueConnectionResult,
  type Evergreen,
} from '@evergreen/sdk';
import { type StoredConnection } from '@evergreen/store';
import { openEvergreen, type EvergreenParts } from '@evergreen/wiring';
import { LogCapture } from './log-capture.ts';
import type { Sandbox } from './sandbox.ts';
import { until } from './until.ts';

/** A connection to enqueue with the tokens of a new grant: everything but the tokens, and the grant's lifetime. */
export type GrantConnection = Omit<EnqueueConnectionInput, 'accessToken' | 'refreshToken' | 'expiresIn'> & {
  expiresIn: number;
};

export interface Stack {
  roles: RunningRoles | null;
  /** This process's one set of parts: the roles', or opened for the producer alone. */
  parts: EvergreenParts;
  evergreen: Evergreen;
  logs: LogCapture;
  /** The background refresh engine of this process, for forced refreshes that race the workers. */
  engine: RefreshEngine;
  /**
   * A forced refresh that runs: while a worker still holds the connection's lock (it may have just written the row a
   * test waited for), the engine answers `locked`, and this asks again, with `until`, until a run happened.
   */
  forceRefresh(connectionId: string): Promise<RefreshDecision>;
  /** Reads rows as the engine does (decrypted), to check what was stored. */
  read(connectionId: string): Promise<StoredConnection | null>;
  /**
   * What a producer does once a user has connected: `provider` issues a grant that lives `expiresIn` seconds, and the
   * SDK enqueues a connection holding its access and refresh tokens. `revoked`: the provider revokes the grant before
   * it is enqueued, as when the user disconnects the app on the provider's side.
   */
  connect(
    provider: FakeProvider,
    input: GrantConnection,
    options?: { revoked?: boolean },
  ): Promise<EnqueueConnectionResult & { grant: IssueResult }>;
  /** Waits, with `until` and its options, for the connection's row to have `status`, and returns that row. */
  waitForStatus(
    connectionId: string,
    status: StoredConnection['status'],
    options?: Parameters<typeof until>[1],
  ): Promise<StoredConnection>;
  /**
   * Waits, with `until`, for `count` successful refreshes (renewals) of the connection in its audit, the row connected
   * again, and returns that row.
   */
  waitForRefreshes(
    connectionId: string,
    count: number,
    options?: Parameters<typeof until>[1],
  ): Promise<StoredConnection>;
  close(): Promise<void>;
}

/**
 * Worker and scheduler in this process (optional), and a producer client, all over one set of parts on the sandbox's
 * schema and prefix, as one process runs them. Its writes are audited as `test-process`.
 */
export async function startStack(
  sandbox: Sandbox,
  options: { roles?: Role[]; env?: Record<string, string> } = {},
): Promise<Stack> {
  const logs = new LogCapture();
  const env = sandbox.env({ EVERGREEN_PROCESS_NAME: 'test-process', EVERGREEN_LOG_LEVEL: 'debug', ...options.env });
  const roles = options.roles?.length ? await startRoles(options.roles, { env, logDestination: logs }) : null;
  let parts: EvergreenParts;
  if (roles) parts = roles.parts;
  else {
    const config = loadConfig(env);
    parts = openEvergreen(config, { log: createLogger({ level: config.logLevel, destination: logs }) });
    await parts.prepare();
  }
  const evergreen = createEvergreen({ parts });
  return {
    roles,
    parts,
    evergreen,
    logs,
    engine: parts.worker.engine,
    read: (id) => parts.store.find(id),
    connect: async (provider, input, options = {}) => {
      const grant = provider.issue({ expiresIn: input.expiresIn });
      if (options.revoked) provider.revoke(grant.grantId);
      const result = await evergreen.enqueueConnection({
        ...input,
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
      });
      return { ...result, grant };
    },
    forceRefresh: (connectionId) =>
      until(
        async () => {
          const decision = await parts.worker.engine.run(connectionId, { trigger: 'forced', force: true });
          return decision.kind === 'delay' && decision.why === 'locked' ? null : decision;
        },
        { what: `a forced refresh of ${connectionId} that ran` },
      ),
    waitForStatus: (connectionId, status, options) =>
      until(async () => {
        const row = await parts.store.find(connectionId);
        return row?.status === status ? row : null;
      }, options),
    waitForRefreshes: (connectionId, count, options) =>
      until(
        async () => {
          const [{ n } = { n: 0 }] = await sandbox.sql<{ n: number }[]>`
            select count(*)::int as n from refresh_events where connection_id = ${connectionId} and outcome = 'success'`;
          const row = n >= count ? await parts.store.find(connectionId) : null;
          return row?.status === 'connected' ? row : null;
        },
        { timeoutMs: 20_000, what: `${count} refresh(es) of ${connectionId}`, ...options },
      ),
    close: async () => {
      await evergreen.close();
      await (roles ?? parts).close();
    },
  };
}
