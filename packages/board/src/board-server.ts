import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { BoardAuth } from '@evergreen/config';
import helmet from '@fastify/helmet';
import { operatorApi, type OperatorApiOptions } from '@evergreen/operator';
import type { RefreshQueues } from '@evergreen/queue';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { assertCanStart } from './assert-can-start.ts';
import { authCheck } from './auth.ts';
import { boardGuards } from './guards/board-guards.ts';
import type { LoginLimits } from './guards/login-limiter.ts';
import { HELMET_OPTIONS } from './guards/security-headers.ts';
import { TOKEN_HEALTH_PAGE_CSP, tokenHealthPageHtml } from './ui/token-health-page.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without authentication (only /healthz). */
    public?: boolean;
  }
}

export interface BuildBoardOptions extends Omit<OperatorApiOptions, 'queues'> {
  queues: RefreshQueues;
  auth: BoardAuth;
  /** The host the board will listen on: decides whether a credential-less dev board may start. */
  host: string;
  dev?: boolean;
  /** Every mutation refused (405): the operator API's, Bull Board's; the page offers none. */
  readOnly?: boolean;
  /** Failed logins per client address before it must wait (default 10 a minute). */
  authFailures?: LoginLimits;
  logger?: FastifyBaseLogger;
  /** Where Bull Board is mounted. */
  boardPath?: string;
}

/** What Bull Board may show of a job's data: its connection id, nothing else (invariant 2 says it is all there is). */
export function maskJobData(data: unknown): { connectionId: string | null } {
  const id = (data as { connectionId?: unknown } | null)?.connectionId;
  return { connectionId: typeof id === 'string' ? id : null };
}

/**
 * The board: the token-health page at / (and /ui), Bull Board over every provider's queue at /board, the operator
 * API at /api, and /healthz. Everything but /healthz needs the admin bearer token or basic credentials (failed logins
 * limited per address); every answer carries helmet's security headers and Cache-Control: no-store; mutations pass a
 * CSRF guard, and are all refused in read-only mode; a board without credentials answers loopback Host names only
 * (`./guards`). Throws a ConfigError, before anything listens, when no credentials are configured, unless dev mode is
 * on and the host is loopback.
 */
export function buildBoard(options: BuildBoardOptions): FastifyInstance {
  assertCanStart(options.auth, options.host, options.dev ?? false);
  const auth = authCheck(options.auth);
  const boardPath = options.boardPath ?? '/board';
  const readOnly = options.readOnly ?? false;

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Request lines would carry query strings (owner ids are personal data, invariant 8); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 256 * 1024,
    // Connection ids may be 128 characters; longer path parameters are refused (414) before any handler.
    routerOptions: { maxParamLength: 256 },
  });

  // helmet first: its onRequest hooks then run before the guards', so their refusals carry its headers too.
  app.register(helmet, HELMET_OPTIONS);
  app.register(boardGuards, {
    auth,
    readOnly,
    ...(options.authFailures !== undefined && { loginLimits: options.authFailures }),
  });
  if (!auth.required) {
    app.log.warn('board running WITHOUT authentication (EVERGREEN_BOARD_DEV=true on a loopback host)');
  }

  app.get('/healthz', { config: { public: true } }, (_request, reply) => reply.send({ status: 'ok' }));

  // The token-health page (behind the same auth): a static document whose inline style and script its own CSP, stricter
  // than helmet's, allows by hash.
  const page = tokenHealthPageHtml(readOnly);
  for (const path of ['/', '/ui']) {
    app.get(path, async (_request, reply) =>
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', TOKEN_HEALTH_PAGE_CSP)
        .send(page),
    );
  }

  app.register(
    operatorApi({
      evergreen: options.evergreen,
      db: options.db,
      queues: options.queues,
      providers: options.providers,
      connectReturnTo: options.connectReturnTo ?? null,
      ...(options.breakers && { breakers: options.breakers }),
      ...(options.scheduleConcurrency !== undefined && { scheduleConcurrency: options.scheduleConcurrency }),
    }),
    { prefix: '/api' },
  );

  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(boardPath);
  // One view per queue: a provider split into shards shows each of its queues.
  const adapters = options.providers.flatMap((provider) =>
    options.queues.queuesOf(provider.id).map((queue, shard, all) => {
      const adapter = new BullMQAdapter(queue, {
        readOnlyMode: readOnly,
        allowRetries: !readOnly,
        description: `refresh jobs of provider ${provider.id}${all.length > 1 ? ` (shard ${shard} of ${all.length})` : ''}`,
      });
      adapter.setFormatter('data', maskJobData);
      return adapter;
    }),
  );
  createBullBoard({
    queues: adapters,
    serverAdapter,
    options: { uiConfig: { boardTitle: readOnly ? 'Evergreen (read-only)' : 'Evergreen' } },
  });
  app.register(serverAdapter.registerPlugin(), { prefix: boardPath });
  return app;
}
