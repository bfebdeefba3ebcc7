import autocannon from 'autocannon';
import type { BenchSandbox } from './bench-sandbox.ts';
import { round, summary } from './stats.ts';
import type { ReadResult } from './token-read.ts';
import { WorkerProcess } from './worker-processes.ts';

/** One server's figures at one concurrency: 2xx answers a second and their latency, and what went wrong. */
export interface HttpReadResult extends ReadResult {
  /** Answers other than 2xx (a 429 would mean the key's rate limit was in the way): they invalidate the figure. */
  non2xx: number;
  /** Socket errors and timeouts. */
  errors: number;
}

export interface ApiReadResult {
  /** `GET /v1/connections/{id}/token` on the api role. */
  api: HttpReadResult;
  /** The same path on the minimal Fastify server doing the primary-key SELECT (`pk-select-server.ts`). */
  primaryKeySelect: HttpReadResult;
}

/**
 * Keep-alive load (autocannon's default) on `path()`s of one server: `concurrency` connections, one request in flight
 * on each, for `ms`. Every request takes the next path, so a run rotates over the connection ids. Latencies are taken
 * from each response as a float (autocannon's own histogram keeps whole milliseconds, too coarse below 1 ms).
 */
export async function httpLoad(
  baseUrl: string,
  options: { concurrency: number; ms: number; path: () => string; headers?: Record<string, string> },
): Promise<HttpReadResult> {
  const latencies: number[] = [];
  let non2xx = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    // The callback form: only it returns the instance whose 'response' events carry each latency.
    const instance = autocannon(
      {
        url: baseUrl,
        connections: options.concurrency,
        pipelining: 1,
        duration: options.ms / 1_000,
        ...(options.headers && { headers: options.headers }),
        requests: [{ method: 'GET', setupRequest: (request) => ({ ...request, path: options.path() }) }],
      },
      // autocannon fails only on its options (a bad URL): it hands an Error, or nothing.
      (error: Error | null, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else non2xx++;
    });
  });
  const s = summary(latencies);
  return {
    concurrency: options.concurrency,
    perSecond: round(latencies.length / result.duration),
    p50Ms: round(s.p50, 2),
    p99Ms: round(s.p99, 2),
    non2xx,
    errors: result.errors + result.timeouts,
  };
}

/**
 * The two servers under test, each its own OS process started from the environment: the api role as production
 * runs it (`apps/api/src/main.ts`) and the minimal Fastify route beside it.
 */
export class ApiServers {
  private constructor(
    readonly api: WorkerProcess,
    readonly select: WorkerProcess,
    readonly apiUrl: string,
    readonly selectUrl: string,
  ) {}

  /** `nodeOptions` go to both processes alike (`--cpu-prof` costs each the same). */
  static async start(
    sandbox: BenchSandbox,
    env: Record<string, string>,
    nodeOptions: readonly string[] = [],
  ): Promise<ApiServers> {
    const api = new WorkerProcess(env, sandbox.dir, 'api', nodeOptions, 'apps/api/src/main.ts');
    const select = new WorkerProcess(env, sandbox.dir, 'pk-select', nodeOptions, 'test/bench/pk-select-server.ts');
    try {
      await Promise.all([api.started(), select.started()]);
      return new ApiServers(api, select, listeningAddress(api.log()), listeningAddress(select.log()));
    } catch (error) {
      await Promise.all([api.stop(5_000), select.stop(5_000)]);
      throw error;
    }
  }

  async stop(): Promise<void> {
    await Promise.all([this.api.stop(), this.select.stop()]);
  }
}

/** The address of the `api listening` line a server logged (pino JSON, one object a line). */
export function listeningAddress(log: string): string {
  for (const line of log.split('\n')) {
    if (!line.includes('"api listening"')) continue;
    const { address } = JSON.parse(line) as { address?: unknown };
    if (typeof address === 'string') return address;
  }
  throw new Error('no "api listening" line with an address in the log');
}
