import { InvalidInputError } from '@evergreen/core';
import { safeError } from '@evergreen/log';
import { createEvergreen, type Evergreen } from '@evergreen/sdk';
import { ConnectionDirectory } from '@evergreen/store';
import type { EvergreenParts } from '@evergreen/wiring';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
} from 'fastify';
import { jsonSchemaTransform, serializerCompiler } from 'fastify-type-provider-zod';
import type { ApiKeyVerifier } from './api-key-verifier.ts';
import { authenticatePlugin } from './authenticate.ts';
import { ConnectionAccess } from './connection-access.ts';
import { keyRateLimiter, type KeyRateLimits } from './key-rate-limiter.ts';
import { problem, PROBLEM_CONTENT_TYPE, toProblemReply, type ProblemReply } from './problem.ts';
import { connectRoutes } from './routes/connect-routes.ts';
import { connectionRoutes } from './routes/connection-routes.ts';
import { tokenRoutes } from './routes/token-routes.ts';
import { API_HELMET_OPTIONS, helmetHeaders } from './security-headers.ts';
import { passThrough, validateRequest } from './validate-request.ts';
import type { TokenReadObserver } from './token-reads.ts';

export interface BuildApiOptions {
  /** The process's parts: the SDK client, the connection directory and the rate limiter's Redis are built over them. */
  parts: EvergreenParts;
  /** Verifies `Authorization: Bearer` keys (the api-keys store, or a test's double). */
  verifier: ApiKeyVerifier;
  /** An SDK client over `parts`; by default the api builds one and closes it with the server. */
  evergreen?: Evergreen;
  /** Requests per key; null or absent: unlimited. */
  rateLimit?: KeyRateLimits | null;
  /** Counts token reads (the roles' metrics). */
  tokenReads?: TokenReadObserver;
  logger?: FastifyBaseLogger;
}

/**
 * The token service: `/v1` routes to enqueue connections and read valid tokens, behind scoped API keys. Every answer
 * carries helmet's headers and Cache-Control: no-store; every error is an RFC 9457 problem (application/problem+json)
 * with a stable code; inputs are validated with zod (400 naming each field) and responses serialised through their
 * schemas, so no route answers a column it does not declare. `/v1/openapi.json` is the one route without a key.
 */
export function buildApi(options: BuildApiOptions): FastifyInstance {
  const { parts, verifier } = options;
  const evergreen = options.evergreen ?? createEvergreen({ parts });
  const directory = new ConnectionDirectory(parts.db);
  const access = new ConnectionAccess(evergreen);
  const rateLimiter =
    options.rateLimit && options.rateLimit.perMinute > 0
      ? keyRateLimiter(options.rateLimit, parts.producer.redis, parts.config.redisPrefix)
      : null;

  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Request lines would carry query strings (owner ids are personal data, invariant 8); errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    // A batch of 1,000 connections with their tokens and metadata.
    bodyLimit: 16 * 1024 * 1024,
    // Connection ids may be 128 characters; longer path parameters are refused (414) before any handler.
    routerOptions: { maxParamLength: 256 },
  });
  if (options.evergreen === undefined) app.addHook('onClose', async () => evergreen.close());
  if (rateLimiter) app.addHook('onClose', (_app, done) => (rateLimiter.close(), done()));

  // First, so that refusals carry them too. Cache-Control: no-store on every answer, not only tokens' (RFC 6749 §5.1).
  const answerHeaders = { ...helmetHeaders(API_HELMET_OPTIONS), 'cache-control': 'no-store' };
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(answerHeaders);
    done();
  });
  app.register(authenticatePlugin, { verifier, rateLimiter, publicPrefix: DOCS_PREFIX });

  const send = (reply: FastifyReply, answer: ProblemReply) =>
    reply.code(answer.status).headers(answer.headers).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(answer.body));
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const answer = fastifyRefusal(error) ?? toProblemReply(error);
    if (answer.status >= 500 && answer.body.code === 'ERR_INTERNAL') {
      request.log.error({ err: safeError(error), route: request.routeOptions.url ?? null }, 'api request failed');
    }
    return send(reply, answer);
  });
  app.setNotFoundHandler((request, reply) =>
    send(reply, {
      status: 404,
      headers: {},
      body: problem('ERR_NOT_FOUND', `no route ${request.method} ${routeOf(request.url)}`),
    }),
  );

  app.register(
    async (v1) => {
      v1.setValidatorCompiler(passThrough);
      v1.addHook('preValidation', validateRequest);
      v1.setSerializerCompiler(serializerCompiler);
      await v1.register(swagger, {
        openapi: {
          openapi: '3.1.0',
          info: {
            title: 'Evergreen token service',
            version: '1.0.0',
            description:
              'Enqueue OAuth connections and read valid access tokens over HTTP, with scoped API keys ' +
              '(`Authorization: Bearer <key>`). Errors are RFC 9457 problem details with a stable `code`.',
          },
          servers: [{ url: '/' }],
          components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
          security: [{ apiKey: [] }],
        },
        transform: jsonSchemaTransform,
      });
      // A readable page of the same document, from the package's own assets: nothing loads from another host.
      await v1.register(swaggerUi, {
        routePrefix: '/docs',
        // Its page links assets by absolute path, which must include the prefix this scope is registered under.
        indexPrefix: '/v1',
        uiConfig: { validatorUrl: null, deepLinking: false },
        staticCSP: true,
        transformStaticCSP: docsPageCsp,
      });
      v1.get('/openapi.json', { config: { apiPublic: true }, schema: { hide: true } }, (_request, reply) =>
        reply.type('application/json').send(v1.swagger()),
      );
      await v1.register(connectionRoutes({ evergreen, directory, access }));
      await v1.register(connectRoutes({ evergreen }));
      await v1.register(
        tokenRoutes({ evergreen, directory, access, ...(options.tokenReads && { observer: options.tokenReads }) }),
      );
    },
    { prefix: '/v1' },
  );
  return app;
}

/** The docs page and its assets: public, like the document they show. */
const DOCS_PREFIX = '/v1/docs';

/**
 * @fastify/swagger-ui's CSP (its scripts and styles by hash), kept to this host: no https: fonts or styles, no image
 * from its online validator, and framed by nobody.
 */
function docsPageCsp(header: string): string {
  return header
    .replace(/ https:/g, '')
    .replace(' validator.swagger.io', '')
    .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
    .replace(' upgrade-insecure-requests;', '');
}

/** Fastify's own refusals of a request (its body, its media type, its size) as problems naming the body. */
function fastifyRefusal(error: FastifyError): ProblemReply | null {
  if (error instanceof InvalidInputError) return null;
  const status = error.statusCode ?? 500;
  if (status === 413)
    return { status, headers: {}, body: problem('ERR_PAYLOAD_TOO_LARGE', 'the request body is too large') };
  if (status === 415) {
    return { status, headers: {}, body: problem('ERR_UNSUPPORTED_MEDIA_TYPE', 'send the body as application/json') };
  }
  if (status === 400 && error.code?.startsWith('FST_')) {
    const reason = bodyReason(error.code);
    return {
      status,
      headers: {},
      body: problem('ERR_INVALID_INPUT', `body: ${reason}`, { errors: [{ field: 'body', reason }] }),
    };
  }
  return null;
}

function bodyReason(code: string): string {
  switch (code) {
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'is empty; send a JSON object';
    default:
      return 'is not valid JSON';
  }
}

/** The path without its query string: a query may hold an owner id. */
const routeOf = (url: string): string => url.split('?')[0] ?? url;
