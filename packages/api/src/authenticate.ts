import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { InsufficientScopeError, RateLimitedError, UnauthorizedError } from './api-errors.ts';
import type { ApiKeyVerifier, ApiPrincipal, ApiScope } from './api-key-verifier.ts';
import type { KeyRateLimiter } from './key-rate-limiter.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs for this route. */
    apiScope?: ApiScope;
    /** Served without a key (the OpenAPI document, the docs page). */
    apiPublic?: boolean;
  }
  interface FastifyRequest {
    /** The verified key of this request; null only on public routes. */
    principal: ApiPrincipal | null;
  }
}

export interface AuthenticateOptions {
  verifier: ApiKeyVerifier;
  /** Per-key request rate; none: unlimited. */
  rateLimiter?: KeyRateLimiter | null;
  /** Routes under this path are public too (the docs page's, which a plugin registers without our config). */
  publicPrefix?: string;
}

/** RFC 6750 §2.1: `Bearer` then the token (b64token characters), case-insensitive scheme. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/**
 * In front of every route but the public ones: the bearer key is verified (401 without one, or with one the verifier
 * does not accept), counted against its rate (429), and checked for the route's scope (403). The key itself is never
 * logged or echoed; only its public id is, by the routes that log.
 */
const authenticate: FastifyPluginCallback<AuthenticateOptions> = (app, options, done) => {
  const { verifier, rateLimiter, publicPrefix } = options;
  const isPublic = (request: FastifyRequest): boolean =>
    request.routeOptions.config.apiPublic === true ||
    (publicPrefix !== undefined && request.routeOptions.url?.startsWith(publicPrefix) === true);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    if (isPublic(request)) return;
    const principal = await verify(verifier, request);
    request.principal = principal;
    if (rateLimiter) {
      const waitMs = await rateLimiter.consume(principal.id);
      if (waitMs !== null) throw new RateLimitedError(Math.max(1, Math.ceil(waitMs / 1000)));
    }
    const scope = request.routeOptions.config.apiScope;
    if (scope !== undefined && !principal.scopes.includes(scope)) throw new InsufficientScopeError(scope);
  });
  done();
};

async function verify(verifier: ApiKeyVerifier, request: FastifyRequest): Promise<ApiPrincipal> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw new UnauthorizedError(false);
  const match = BEARER.exec(header);
  if (!match) throw new UnauthorizedError(true);
  const principal = await verifier.verify(match[1]!);
  if (!principal) throw new UnauthorizedError(true);
  return principal;
}

export const authenticatePlugin = fp(authenticate, { name: 'evergreen-api-authenticate', fastify: '5.x' });
