import { callbackPage, CONNECT_SESSION_INPUT_SCHEMA, type CallbackQuery } from '@evergreen/connect';
import { seesProvider } from '@evergreen/api-keys';
import type { Evergreen } from '@evergreen/sdk';
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ProviderNotAllowedError } from '../api-errors.ts';
import type { ApiPrincipal } from '../api-key-verifier.ts';
import { problemResponses } from '../schemas.ts';

export interface ConnectRoutesOptions {
  evergreen: Pick<Evergreen, 'createConnectSession' | 'completeConnectSession'>;
}

const startedSchema = z.object({
  sessionId: z.string(),
  authorizationUrl: z.string().describe("Send the user's browser here."),
  expiresAt: z.date().describe('The session, and its state, are good until then (10 minutes).'),
});

const param = (what: string) => z.string().max(4096, 'must be at most 4096 characters').optional().describe(what);

/**
 * What a provider redirects with (RFC 6749 §4.1.2 and §4.1.2.1). Providers add parameters of their own (Google's
 * `scope` and `authuser`, OpenID Connect's `session_state`, RFC 9207's `iss`): those are let through and ignored.
 */
const callbackQuery = z.looseObject({
  state: param('The session, as the authorization request carried it.'),
  code: param('The authorization code.'),
  error: param('The provider refused (access_denied) or failed.'),
  error_description: param("The provider's words; never shown or passed on."),
});

/** /v1/connect: start a session (an API key with connections:write), and the provider's redirect back (no key). */
export function connectRoutes(options: ConnectRoutesOptions): FastifyPluginCallbackZod {
  const { evergreen } = options;
  return (app, _options, done) => {
    app.post(
      '/connect/sessions',
      {
        config: { apiScope: 'connections:write' },
        schema: {
          summary: "Start connecting a user: a single-use session and the provider's authorization URL",
          description:
            'The provider sends the browser back to EVERGREEN_PUBLIC_URL + /v1/connect/callback, which stores the ' +
            'connection (or, with the connectionId of one in needs_reauth, error or disconnected, replaces its tokens ' +
            'in place) and answers 303 to returnTo with connectionId and status, or error and error_code. returnTo ' +
            'must start with an entry of EVERGREEN_CONNECT_RETURN_URLS. Nothing is stored but the session until then.',
          tags: ['connect'],
          body: CONNECT_SESSION_INPUT_SCHEMA,
          response: { 201: startedSchema, ...problemResponses(400, 401, 403, 429, 502, 503) },
        },
      },
      async (request, reply) => {
        const principal = request.principal as ApiPrincipal;
        if (!seesProvider(principal, request.body.provider)) throw new ProviderNotAllowedError(request.body.provider);
        return reply.code(201).send(await evergreen.createConnectSession(request.body));
      },
    );

    app.get(
      '/connect/callback',
      {
        // The state is the credential: browsers arrive here from the provider, without an API key.
        config: { apiPublic: true },
        schema: {
          summary: 'Where the provider sends the browser back (no API key: the single-use state is the credential)',
          description:
            '303 to the session\'s returnTo with connectionId and status ("connected"), or with error and a stable ' +
            'error_code (access_denied, provider_error, state_expired, missing_code, exchange_failed, ' +
            'id_token_invalid, store_failed). A missing, unknown or already used state answers an HTML page (400) ' +
            'and changes nothing.',
          tags: ['connect'],
          security: [],
          querystring: callbackQuery,
          response: {
            303: z.null().describe('To returnTo'),
            400: { description: 'No session to go back to', content: { 'text/html': { schema: z.string() } } },
          },
        },
      },
      async (request, reply) => {
        const { state, code, error } = request.query as CallbackQuery;
        const answer = await evergreen.completeConnectSession({
          ...(state !== undefined && { state }),
          ...(code !== undefined && { code }),
          ...(error !== undefined && { error }),
        });
        if (answer.kind === 'redirect') return reply.redirect(answer.location, 303);
        return reply
          .code(answer.status)
          .type('text/html; charset=utf-8')
          .serializer((payload: unknown) => payload as string)
          .send(callbackPage(answer.title, answer.message));
      },
    );
    done();
  };
}
