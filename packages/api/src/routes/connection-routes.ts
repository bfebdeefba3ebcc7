import type { InputIssue } from '@evergreen/core';
import type { BulkItemResult, EnqueueConnectionInput, Evergreen } from '@evergreen/sdk';
import type { ConnectionDirectory } from '@evergreen/store';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { ProviderNotAllowedError } from '../api-errors.ts';
import { seesProvider } from '@evergreen/api-keys';
import type { ApiPrincipal } from '../api-key-verifier.ts';
import type { ConnectionAccess } from '../connection-access.ts';
import {
  batchBody,
  batchResultSchema,
  connectionInput,
  connectionPageSchema,
  connectionViewSchema,
  disconnectQuery,
  disconnectResultSchema,
  enqueueResultSchema,
  listQuery,
  metadataPatchBody,
  problemResponses,
  refreshQuery,
} from '../schemas.ts';
import { connectionParams } from '@evergreen/operator';

export interface ConnectionRoutesOptions {
  evergreen: Evergreen;
  directory: Pick<ConnectionDirectory, 'list'>;
  access: ConnectionAccess;
}

const WRITE = { apiScope: 'connections:write' } as const;
const READ = { apiScope: 'connections:read' } as const;

/** The request's key: set by the authenticate hook on every non-public route, which these all are. */
const keyOf = (request: { principal: ApiPrincipal | null }): ApiPrincipal => request.principal as ApiPrincipal;

/** /v1/connections: enqueue (one or a batch), views, list, forced refresh, metadata, disconnect. */
export function connectionRoutes(options: ConnectionRoutesOptions): FastifyPluginCallbackZod {
  const { evergreen, directory, access } = options;

  return (app, _options, done) => {
    app.post(
      '/connections',
      {
        config: WRITE,
        schema: {
          summary: 'Store a connection and schedule its refresh (201 created, 200 updated)',
          description:
            "enqueueConnection's input. Without connectionId, (ownerId, provider) identifies the connection; calling " +
            'again replaces its tokens and reschedules it.',
          tags: ['connections'],
          body: connectionInput,
          response: {
            200: enqueueResultSchema,
            201: enqueueResultSchema,
            ...problemResponses(400, 401, 403, 429),
          },
        },
      },
      async (request, reply) => {
        const input = request.body;
        if (!seesProvider(keyOf(request), input.provider)) throw new ProviderNotAllowedError(input.provider);
        const result = await evergreen.enqueueConnection(input);
        return reply.code(result.created ? 201 : 200).send(result);
      },
    );

    // Registered before /:id so "batch" is never read as an id.
    app.post(
      '/connections/batch',
      {
        config: WRITE,
        schema: {
          summary: 'Store up to 1,000 connections; a result per item',
          description:
            'Each item is checked on its own: a bad one is an error result naming its fields, the others are stored. ' +
            'Items of a provider the key is confined away from fail with ERR_PROVIDER_NOT_ALLOWED.',
          tags: ['connections'],
          body: batchBody,
          response: { 200: batchResultSchema, ...problemResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const principal = keyOf(request);
        const items = request.body.items;
        const refused: BulkItemResult[] = [];
        const allowed: { index: number; input: EnqueueConnectionInput }[] = [];
        items.forEach((item, index) => {
          const provider = (item as { provider?: unknown } | null)?.provider;
          if (typeof provider === 'string' && !seesProvider(principal, provider)) {
            const error = new ProviderNotAllowedError(provider);
            const issues: InputIssue[] = [{ field: `items[${index}].provider`, reason: error.message }];
            refused.push({ index, ok: false, error: { code: error.code, message: error.message, issues } });
          } else allowed.push({ index, input: item as EnqueueConnectionInput });
        });
        const written = await evergreen.enqueueConnections(allowed.map((a) => a.input));
        const results = [...refused, ...written.results.map((r) => ({ ...r, index: allowed[r.index]!.index }))].sort(
          (a, b) => a.index - b.index,
        );
        const succeeded = results.filter((r) => r.ok).length;
        return { results, succeeded, failed: results.length - succeeded };
      },
    );

    app.get(
      '/connections',
      {
        config: READ,
        schema: {
          summary: 'List connections, filtered, in id order (keyset paging)',
          description: 'A key confined to providers lists only their connections.',
          tags: ['connections'],
          querystring: listQuery,
          response: { 200: connectionPageSchema, ...problemResponses(400, 401, 403, 429) },
        },
      },
      async (request) => {
        const q = request.query;
        const providers = keyOf(request).providers;
        return directory.list({ ...q, ...(providers !== null && { providers }) }, { limit: q.limit, cursor: q.cursor });
      },
    );

    app.get(
      '/connections/:id',
      {
        config: READ,
        schema: {
          summary: 'A connection, without its secrets',
          tags: ['connections'],
          params: connectionParams,
          response: { 200: connectionViewSchema, ...problemResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => access.view(keyOf(request), request.params.id),
    );

    app.post(
      '/connections/:id/refresh',
      {
        config: WRITE,
        schema: {
          summary: 'Refresh the token now, under the connection lock',
          tags: ['connections'],
          params: connectionParams,
          querystring: refreshQuery,
          response: { 200: connectionViewSchema, ...problemResponses(400, 401, 403, 404, 409, 429, 502, 503) },
        },
      },
      async (request) => {
        await access.check(keyOf(request), request.params.id);
        const { timeoutMs } = request.query;
        return evergreen.forceRefresh(request.params.id, timeoutMs === undefined ? {} : { timeoutMs });
      },
    );

    app.patch(
      '/connections/:id',
      {
        config: WRITE,
        schema: {
          summary: "Update the connection's metadata",
          tags: ['connections'],
          params: connectionParams,
          body: metadataPatchBody,
          response: { 200: connectionViewSchema, ...problemResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        await access.check(keyOf(request), request.params.id);
        return evergreen.updateMetadata(request.params.id, request.body.metadata);
      },
    );

    app.delete(
      '/connections/:id',
      {
        config: WRITE,
        schema: {
          summary: 'Disconnect: remove the refresh job, wipe the tokens; the history stays',
          description:
            '?revoke=true first revokes the grant at the provider (RFC 7009) where it has a revocation endpoint; ' +
            'the connection is disconnected whatever that gives, and `revoked` (with `revocationReason`) says.',
          tags: ['connections'],
          params: connectionParams,
          querystring: disconnectQuery,
          response: { 200: disconnectResultSchema, ...problemResponses(400, 401, 403, 404, 429) },
        },
      },
      async (request) => {
        await access.check(keyOf(request), request.params.id);
        const { revocation, ...view } = await evergreen.disconnect(request.params.id, {
          revoke: request.query.revoke === 'true',
        });
        if (revocation === undefined) return view;
        if (revocation.revoked) return { ...view, revoked: true };
        return {
          ...view,
          revoked: false,
          revocationReason: revocation.reason,
          ...('retryable' in revocation && { revocationRetryable: revocation.retryable }),
        };
      },
    );
    done();
  };
}
