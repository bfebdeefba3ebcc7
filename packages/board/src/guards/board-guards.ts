import type { FastifyPluginCallback } from 'fastify';
import fp from 'fastify-plugin';
import type { AuthCheck } from '../auth.ts';
import { csrfRefusal, isMutation } from './csrf.ts';
import { LoginLimiter, type LoginLimits } from './login-limiter.ts';
import { isLoopbackHostHeader } from './loopback-host.ts';

export interface BoardGuardsOptions {
  auth: AuthCheck;
  readOnly: boolean;
  loginLimits?: LoginLimits;
}

/**
 * What stands in front of every route, in this order: the Host check of a board without credentials (DNS rebinding),
 * authentication with its per-address limit on failed logins, the read-only refusal of every mutation, and the CSRF
 * guard; plus Cache-Control: no-store on every answer. A plugin without encapsulation (fastify-plugin), registered after
 * helmet so that even the refusals here carry helmet's headers.
 */
const guards: FastifyPluginCallback<BoardGuardsOptions> = (app, options, done) => {
  const { auth, readOnly } = options;
  const limiter = new LoginLimiter(options.loginLimits);

  // onSend, so it wins over what a route set (Bull Board's static files come with caching headers of their own).
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  if (!auth.required) {
    app.addHook('onRequest', async (request, reply) => {
      if (isLoopbackHostHeader(request.headers.host)) return;
      return reply.code(421).send({
        error: 'ERR_HOST_NOT_ALLOWED',
        message: 'a board without credentials answers only loopback host names (localhost, 127.0.0.1, [::1])',
      });
    });
  } else {
    app.addHook('onRequest', async (request, reply) => {
      if (request.routeOptions.config.public === true) return;
      const waitMs = await limiter.blockedFor(request.ip);
      if (waitMs !== null) {
        return reply
          .code(429)
          .header('retry-after', String(Math.ceil(waitMs / 1000)))
          .send({ error: 'ERR_TOO_MANY_FAILED_LOGINS', message: 'too many failed logins from this address' });
      }
      const attempt = auth.verify(request.headers.authorization);
      if (attempt.accepted) return;
      // A request without credentials is a browser's first one (it answers the challenge), not a failed login.
      if (request.headers.authorization !== undefined) {
        const failures = await limiter.recordFailure(request.ip);
        request.log.warn(
          {
            address: request.ip,
            scheme: attempt.scheme ?? 'malformed',
            ...(attempt.user !== undefined && { user: attempt.user }),
            route: request.routeOptions.url ?? null,
            failures,
          },
          'board authentication failed',
        );
      }
      return reply
        .code(401)
        .header('www-authenticate', auth.challenges)
        .send({ error: 'ERR_UNAUTHORIZED', message: 'send Authorization: Bearer <EVERGREEN_ADMIN_TOKEN>' });
    });
  }

  if (readOnly) {
    app.addHook('onRequest', async (request, reply) => {
      if (!isMutation(request.method) || request.is404) return;
      const url = request.routeOptions.url;
      // RFC 9110 §15.5.6: Allow lists what the resource still supports; empty when that is nothing.
      const allow = (['GET', 'HEAD'] as const).filter((method) => url !== undefined && app.hasRoute({ url, method }));
      return reply
        .code(405)
        .header('allow', allow.join(', '))
        .send({ error: 'ERR_READ_ONLY', message: 'the board is read-only (EVERGREEN_BOARD_READ_ONLY=true)' });
    });
  }

  app.addHook('onRequest', async (request, reply) => {
    const refusal = csrfRefusal(request.method, request.headers);
    if (refusal) return reply.code(403).send(refusal);
  });
  done();
};

export const boardGuards = fp(guards, { name: 'evergreen-board-guards', fastify: '5.x' });
