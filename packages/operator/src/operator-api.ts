import { ConnectionNotFoundError, EvergreenError, InvalidInputError } from '@evergreen/core';
import { safeError } from '@evergreen/log';
import type { RefreshQueues } from '@evergreen/queue';
import type { Evergreen } from '@evergreen/sdk';
import { ApiKeyStore, ConnectionCounts, ConnectionDirectory, RefreshAudit, type Database } from '@evergreen/store';
import swagger from '@fastify/swagger';
import type { FastifyError } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, type FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { apiKeyParams, bulkRefreshBody, connectionParams, listQuery, reconnectBody } from './inputs.ts';
import {
  apiKeyListSchema,
  apiKeyViewSchema,
  bulkRefreshResultSchema,
  connectionDetailSchema,
  connectionPageSchema,
  connectionViewSchema,
  errorSchema,
  reconnectLinkSchema,
  tokenHealthSchema,
} from './schemas.ts';
import { tokenHealth, type BreakerStates } from './token-health.ts';
import { zodValidatorCompiler } from './validation.ts';

export interface OperatorApiOptions {
  /** The SDK client: forced refreshes and disconnects go through it, so they follow the engine's rules. */
  evergreen: Pick<Evergreen, 'forceRefresh' | 'disconnect' | 'createConnectSession'>;
  /** Where a reconnect link sends the user back to when the request names no `returnTo`: the first allowed one. */
  connectReturnTo?: string | null;
  db: Database;
  queues: Pick<RefreshQueues, 'scheduleMany'>;
  /** The configured providers: the bulk refresh only moves jobs of these (a queue per provider). */
  providers: readonly { id: string }[];
  /** Jobs moved at once by the bulk refresh. */
  scheduleConcurrency?: number;
  /** Every provider's circuit breaker: the token-health summary lists the open ones. */
  breakers?: BreakerStates;
}

const SDK_ERROR_STATUS: Record<string, number> = {
  ERR_CONNECTION_NOT_FOUND: 404,
  ERR_NEEDS_REAUTH: 409,
  ERR_DISCONNECTED: 409,
  ERR_REFRESH_FAILED: 502,
  ERR_TOKEN_TIMEOUT: 504,
  ERR_API_KEY_NOT_FOUND: 404,
  ERR_DISCOVERY_FAILED: 502,
  ERR_CONNECT_NOT_CONFIGURED: 503,
};

const notFound = (id: string) => new ConnectionNotFoundError(id);
const errorResponses = { 400: errorSchema, 404: errorSchema };

/**
 * The operator API, routes relative to the prefix the host registers it under (the board: `/api`): list, inspect,
 * force-refresh, bulk-reschedule and disconnect connections, and the token-health summary. Routes are typed from their
 * zod schemas (fastify-type-provider-zod). Every input is validated with zod (400 ERR_INVALID_INPUT naming each
 * field); every response is serialised through its zod schema, which drops any property the schema does not declare,
 * so no route can answer a token column even if a query selected one. Authentication is the host's job (the board puts
 * it in front of everything).
 */
export function operatorApi(options: OperatorApiOptions): FastifyPluginAsyncZod {
  const { evergreen, db, queues } = options;
  // The store's queries: the operator reads and marks rows only through them.
  const connections = new ConnectionDirectory(db);
  const audit = new RefreshAudit(db);
  const counts = new ConnectionCounts(db);
  const apiKeys = new ApiKeyStore(db);
  const providerIds = options.providers.map((p) => p.id);
  const concurrency = options.scheduleConcurrency ?? 32;

  return async (app) => {
    app.setValidatorCompiler(zodValidatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof InvalidInputError) {
        return reply.code(400).send({ error: 'ERR_INVALID_INPUT', issues: error.issues });
      }
      if (error instanceof EvergreenError && SDK_ERROR_STATUS[error.code] !== undefined) {
        return reply.code(SDK_ERROR_STATUS[error.code]!).send({ error: error.code, message: error.message });
      }
      const status = error.statusCode ?? 500;
      if (status === 400 || status === 413 || status === 415) {
        // Fastify's own refusals of a body: unparsable JSON, an empty JSON body, too large, another media type.
        return reply.code(status).send({
          error: 'ERR_INVALID_INPUT',
          issues: [{ field: 'body', reason: bodyReason(error.code) }],
        });
      }
      if (status >= 400 && status < 500) return reply.code(status).send({ error: error.code ?? 'ERR_REQUEST' });
      request.log.error({ err: safeError(error) }, 'operator API failed');
      return reply.code(500).send({ error: 'ERR_INTERNAL', message: 'internal error; see the board logs' });
    });

    await app.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'Evergreen operator API',
          version: '0.1.0',
          description:
            'Connections, forced refreshes, token health and API keys. No response ever carries a token or an API key.',
        },
        components: {
          securitySchemes: {
            bearer: { type: 'http', scheme: 'bearer' },
            basic: { type: 'http', scheme: 'basic' },
          },
        },
        security: [{ bearer: [] }, { basic: [] }],
      },
      transform: jsonSchemaTransform,
    });

    app.get('/openapi.json', { schema: { hide: true } }, (_request, reply) => reply.send(app.swagger()));

    app.get(
      '/connections',
      {
        schema: {
          summary: 'List connections, filtered, in id order (keyset paging)',
          tags: ['connections'],
          querystring: listQuery,
          response: { 200: connectionPageSchema, 400: errorSchema },
        },
      },
      async (request) => {
        const q = request.query;
        return connections.list(q, { limit: q.limit, cursor: q.cursor });
      },
    );

    // Registered before /:id so "refresh" is never read as an id.
    app.post(
      '/connections/refresh',
      {
        schema: {
          summary: 'Make the matching live connections due now',
          description:
            'Sets refresh_at = now() and moves each job to now. Only live connections (connected, token_expired) of ' +
            'configured providers are touched, at most `limit` (default and maximum 1000).',
          tags: ['connections'],
          body: bulkRefreshBody,
          response: { 200: bulkRefreshResultSchema, 400: errorSchema },
        },
      },
      async (request) => {
        const body = request.body;
        if (body.provider !== undefined && !providerIds.includes(body.provider)) {
          throw new InvalidInputError('bulk refresh', [{ field: 'provider', reason: 'is not a configured provider' }]);
        }
        const rows = await connections.markDueNow(body, providerIds, body.limit);
        const now = Date.now();
        const results = await queues.scheduleMany(
          rows.map((r) => ({ provider: r.provider, connectionId: r.id, runAt: now })),
          { concurrency },
        );
        const scheduled = results.filter((r) => r.status === 'fulfilled').length;
        const deferred = results.length - scheduled;
        if (deferred > 0) request.log.warn({ deferred }, 'bulk refresh: some jobs left to the reconcile');
        return { scheduled, deferred };
      },
    );

    app.get(
      '/connections/:id',
      {
        schema: {
          summary: 'A connection and its last 50 refresh attempts',
          tags: ['connections'],
          params: connectionParams,
          response: { 200: connectionDetailSchema, ...errorResponses },
        },
      },
      async (request) => {
        const { id } = request.params;
        const view = await connections.view(id);
        if (!view) throw notFound(id);
        return { ...view, refreshEvents: await audit.recent(id, 50) };
      },
    );

    app.post(
      '/connections/:id/refresh',
      {
        schema: {
          summary: 'Refresh a connection now, under its lock',
          tags: ['connections'],
          params: connectionParams,
          response: { 200: connectionViewSchema, ...errorResponses, 409: errorSchema, 502: errorSchema },
        },
      },
      async (request) => evergreen.forceRefresh(request.params.id),
    );

    app.post(
      '/connections/:id/reconnect',
      {
        schema: {
          summary: 'A reconnect link: a connect session for this connection, to send to the user who owns it',
          description:
            "The user opens authorizationUrl within 10 minutes; the provider's redirect replaces the connection's " +
            'tokens in place (same id, history kept) and puts it back on the schedule. For connections that need a ' +
            'person: needs_reauth, error, disconnected. returnTo defaults to the first EVERGREEN_CONNECT_RETURN_URLS entry.',
          tags: ['connections'],
          params: connectionParams,
          body: reconnectBody,
          response: { 201: reconnectLinkSchema, ...errorResponses, 502: errorSchema, 503: errorSchema },
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const view = await connections.view(id);
        if (!view) throw notFound(id);
        const returnTo = request.body?.returnTo ?? options.connectReturnTo ?? null;
        if (returnTo === null) {
          throw new InvalidInputError('reconnect', [
            { field: 'returnTo', reason: 'is required: EVERGREEN_CONNECT_RETURN_URLS names no default' },
          ]);
        }
        const session = await evergreen.createConnectSession({
          ownerId: view.ownerId,
          provider: view.provider,
          // The flow keeps the connection's scopes and metadata for a reconnect.
          connectionId: id,
          returnTo,
        });
        return reply.code(201).send(session);
      },
    );

    app.post(
      '/connections/:id/disconnect',
      {
        schema: {
          summary: 'Disconnect: remove the job, wipe the tokens; the history stays',
          tags: ['connections'],
          params: connectionParams,
          response: { 200: connectionViewSchema, ...errorResponses },
        },
      },
      async (request) => evergreen.disconnect(request.params.id),
    );

    app.get(
      '/api-keys',
      {
        schema: {
          summary: 'List the API keys of the api role, revoked ones included; never a key or its hash',
          tags: ['api-keys'],
          response: { 200: apiKeyListSchema },
        },
      },
      async () => ({ items: await apiKeys.list() }),
    );

    app.post(
      '/api-keys/:id/revoke',
      {
        schema: {
          summary: 'Revoke an API key: every api process refuses it within seconds; revoking again changes nothing',
          tags: ['api-keys'],
          params: apiKeyParams,
          response: { 200: apiKeyViewSchema, ...errorResponses },
        },
      },
      async (request) => {
        const revoked = await apiKeys.revoke(request.params.id);
        request.log.info({ keyId: revoked.id }, 'api key revoked');
        return revoked;
      },
    );

    app.get(
      '/health/tokens',
      {
        schema: {
          summary: 'Token health: counts, expiring soon, failures, refreshes per 5 minutes, open provider breakers',
          tags: ['health'],
          response: { 200: tokenHealthSchema },
        },
      },
      async () =>
        tokenHealth(
          { counts, audit },
          options.breakers ? { states: options.breakers, providers: providerIds } : undefined,
        ),
    );
  };
}

function bodyReason(code: string | undefined): string {
  switch (code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'is empty; send a JSON object or no content type';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'must be application/json';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return 'is too large';
    default:
      return 'is not valid JSON';
  }
}
