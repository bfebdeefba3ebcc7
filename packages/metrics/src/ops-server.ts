import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { safeError, type Logger } from '@evergreen/log';
import type { createRedis } from '@evergreen/queue';
import { pingDatabase, type Database } from '@evergreen/store';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { withTimeout } from './with-timeout.ts';

/** Each readiness check gets this long before it counts as down. */
export const READINESS_TIMEOUT_MS = 2_000;

export type Readiness = () => Promise<Record<string, boolean>>;

export interface OpsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  readiness: Readiness;
  log: Logger;
}

export interface OpsServer {
  /** The bound port (the real one when 0 was asked for). */
  port: number;
  close(): Promise<void>;
}

/** A registry with Node's process metrics (`evergreen_process_*`, `evergreen_nodejs_*`) already in it. */
export function createRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'evergreen_' });
  return registry;
}

/**
 * Named checks, each bounded by `timeoutMs`: a check that throws, rejects or is too slow is `false`. The result
 * always has every name, so /readyz says which dependency is down.
 */
export function boundedChecks(
  checks: Record<string, () => Promise<unknown>>,
  timeoutMs = READINESS_TIMEOUT_MS,
): Readiness {
  return async () => {
    const entries = await Promise.all(
      Object.entries(checks).map(async ([name, check]): Promise<[string, boolean]> => {
        try {
          await withTimeout(Promise.resolve().then(check), timeoutMs, `readiness check ${name}`);
          return [name, true];
        } catch {
          return [name, false];
        }
      }),
    );
    return Object.fromEntries(entries);
  };
}

/** Postgres answers `select 1` and Redis answers `PING`, each within `timeoutMs`. */
export function readinessChecks(deps: {
  db: Database;
  redis: ReturnType<typeof createRedis>;
  timeoutMs?: number;
}): Readiness {
  return boundedChecks(
    {
      postgres: () => pingDatabase(deps.db),
      redis: async () => {
        const reply = await deps.redis.ping();
        if (reply !== 'PONG') throw new Error('unexpected PING reply');
      },
    },
    deps.timeoutMs,
  );
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/**
 * The operations endpoints of a process, unauthenticated and meant for the cluster network only: `GET /metrics`
 * (Prometheus text), `GET /healthz` (alive), `GET /readyz` (dependencies reachable: 200 or 503). Nothing else.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const { registry, readiness, log } = options;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://ops').pathname;
    if (path !== '/metrics' && path !== '/healthz' && path !== '/readyz') {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendJson(res, 405, { error: 'method_not_allowed' });
      return;
    }
    if (path === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      let checks: Record<string, boolean> = {};
      try {
        // The checks bound themselves; this bounds a readiness function that does not.
        checks = await withTimeout(readiness(), READINESS_TIMEOUT_MS + 500, 'readiness');
      } catch (error) {
        log.warn({ err: safeError(error) }, 'readiness checks failed');
      }
      const values = Object.values(checks);
      const ready = values.length > 0 && values.every((v) => v === true);
      sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', checks });
    } else {
      try {
        send(res, 200, registry.contentType, await registry.metrics());
      } catch (error) {
        log.warn({ err: safeError(error) }, 'metrics collection failed');
        send(res, 500, 'text/plain; charset=utf-8', 'metrics collection failed\n');
      }
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log.error({ err: safeError(error) }, 'ops request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal' });
      else res.destroy();
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: safeError(error) }, 'ops server error'));
  const port = (server.address() as AddressInfo).port;
  log.info({ port }, 'ops server listening');

  let closing: Promise<void> | undefined;
  return {
    port,
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Scrapers and probes keep connections alive; nothing they wait for is worth holding shutdown.
        server.closeAllConnections();
      })),
  };
}
