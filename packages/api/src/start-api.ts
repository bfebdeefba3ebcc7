import type { EvergreenParts } from '@evergreen/wiring';
import type { ApiKeyVerifier } from './api-key-verifier.ts';
import { buildApi } from './build-api.ts';
import type { KeyRateLimits } from './key-rate-limiter.ts';
import type { TokenReadObserver } from './token-reads.ts';

export interface ApiSettings {
  port: number;
  host: string;
  /** Requests per minute per key; 0: unlimited. */
  rateLimitPerMinute: number;
}

export interface RunningApi {
  address: string;
  /** Stops taking requests and finishes those in flight; the parts stay open for their owner to close. */
  close(): Promise<void>;
}

export interface StartApiOptions {
  verifier: ApiKeyVerifier;
  tokenReads?: TokenReadObserver;
}

/**
 * Starts the api over a process's parts (config.api says where), with an SDK client over the same parts. The process
 * serves /metrics and /readyz on its ops port, as every role does.
 */
export async function startApi(parts: EvergreenParts, options: StartApiOptions): Promise<RunningApi> {
  const { config, log } = parts;
  const settings = config.api;
  // The enqueue and token routes answer at once rather than wait for Redis's first connection per request.
  await parts.producer.firstConnection;
  const rateLimit: KeyRateLimits | null =
    settings.rateLimitPerMinute > 0 ? { perMinute: settings.rateLimitPerMinute } : null;
  const app = buildApi({
    parts,
    verifier: options.verifier,
    rateLimit,
    ...(options.tokenReads && { tokenReads: options.tokenReads }),
    logger: log.child({ component: 'api' }),
  });
  const address = await app.listen({ port: settings.port, host: settings.host });
  log.info({ address, rateLimitPerMinute: settings.rateLimitPerMinute }, 'api listening');
  return { address, close: () => app.close() };
}
