import { EvergreenError } from '@evergreen/core';
import type { Evergreen, TokenOptions, ValidToken } from '@evergreen/sdk';
import type { ConnectionDirectory } from '@evergreen/store';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import type { FastifyBaseLogger } from 'fastify';
import { ConnectionNotFoundError } from '@evergreen/core';
import { connectionParams } from '@evergreen/operator';
import { AmbiguousConnectionError } from '../api-errors.ts';
import { seesProvider } from '@evergreen/api-keys';
import type { ApiPrincipal } from '../api-key-verifier.ts';
import type { ConnectionAccess } from '../connection-access.ts';
import { toProblemReply } from '../problem.ts';
import { problemResponses, tokenByOwnerQuery, tokenQuery, tokenSchema } from '../schemas.ts';
import type { TokenReadObserver } from '../token-reads.ts';

export interface TokenRoutesOptions {
  evergreen: Pick<Evergreen, 'getValidToken'>;
  directory: Pick<ConnectionDirectory, 'list'>;
  access: ConnectionAccess;
  observer?: TokenReadObserver | undefined;
}

const TOKENS = { apiScope: 'tokens:read' } as const;
const TOKEN_ERRORS = problemResponses(400, 401, 403, 404, 409, 429, 502, 503);

/**
 * Valid access tokens, by connection id or by (ownerId, provider), through the SDK's getValidAccessToken path: a
 * token that would not last `minValiditySeconds` is refreshed first, single-flight with every other reader and the
 * workers. Answers carry Cache-Control: no-store (every API answer does; RFC 6749 §5.1 asks it of tokens). Every read
 * is counted per key and logged as one line (key id, connection id, outcome), never with the token.
 */
export function tokenRoutes(options: TokenRoutesOptions): FastifyPluginCallbackZod {
  const { evergreen, directory, access, observer } = options;

  /** Runs one read and reports it; `target.connectionId` is filled in by `fetch` once it is known. */
  async function read(
    log: FastifyBaseLogger,
    principal: ApiPrincipal,
    target: { connectionId: string | null },
    fetch: () => Promise<ValidToken>,
  ): Promise<ValidToken> {
    let outcome = 'ok';
    try {
      return await fetch();
    } catch (error) {
      outcome = error instanceof EvergreenError ? toProblemReply(error).body.code : 'ERR_INTERNAL';
      throw error;
    } finally {
      observer?.onTokenRead({ keyId: principal.id, outcome });
      log.info({ key: principal.id, connection: target.connectionId, outcome }, 'token read');
    }
  }

  const tokenOptions = (query: { minValiditySeconds?: number | undefined; timeoutMs?: number | undefined }) => {
    const options: TokenOptions = {};
    if (query.minValiditySeconds !== undefined) options.minValiditySeconds = query.minValiditySeconds;
    if (query.timeoutMs !== undefined) options.timeoutMs = query.timeoutMs;
    return options;
  };

  return (app, _options, done) => {
    app.get(
      '/connections/:id/token',
      {
        config: TOKENS,
        schema: {
          summary: 'A valid access token, refreshed first when it would not last minValiditySeconds',
          tags: ['tokens'],
          params: connectionParams,
          querystring: tokenQuery,
          response: { 200: tokenSchema, ...TOKEN_ERRORS },
        },
      },
      async (request) => {
        const principal = request.principal as ApiPrincipal;
        const { id } = request.params;
        return read(request.log, principal, { connectionId: id }, async () => {
          await access.check(principal, id);
          return evergreen.getValidToken(id, tokenOptions(request.query));
        });
      },
    );

    app.get(
      '/tokens',
      {
        config: TOKENS,
        schema: {
          summary: "A valid access token of the owner's connection to a provider",
          description:
            'The connection enqueued for (ownerId, provider) without an explicit connectionId. 409 ' +
            'ERR_AMBIGUOUS_CONNECTION when several connections have that owner and provider: read those by id.',
          tags: ['tokens'],
          querystring: tokenByOwnerQuery,
          response: { 200: tokenSchema, ...TOKEN_ERRORS },
        },
      },
      async (request) => {
        const principal = request.principal as ApiPrincipal;
        const { ownerId, provider } = request.query;
        const target: { connectionId: string | null } = { connectionId: null };
        return read(request.log, principal, target, async () => {
          // The same 404 as an unknown connection, whether nothing matches or the key does not see the provider.
          const missing = new ConnectionNotFoundError(`${provider}/${ownerId}`);
          if (!seesProvider(principal, provider)) throw missing;
          const page = await directory.list({ ownerId, provider }, { limit: 2 });
          if (page.items.length === 0) throw missing;
          if (page.items.length > 1) throw new AmbiguousConnectionError();
          target.connectionId = page.items[0]!.connectionId;
          return evergreen.getValidToken(target.connectionId, tokenOptions(request.query));
        });
      },
    );
    done();
  };
}
