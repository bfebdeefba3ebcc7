import type { FakeProvider } from '@evergreen/fake-provider';
import { runPlanChild } from './plan-child.ts';

export interface TokenExchangeResult {
  concurrency: number;
  requestsPerSecond: number;
  /** Answers other than 200: each would make the rate a lower bound. */
  failed: number;
}

/**
 * The third part of a refresh's floor (issue 21): one refresh-token request over HTTP to the same fake provider the
 * refresh benchmark uses, at `concurrency` requests in flight over keep-alive connections, from a process of its own
 * (test/bench/token-exchange-client.ts) as the worker's requests are. Each lane follows its own grant's rotation.
 */
export async function tokenExchangeThroughput(
  provider: FakeProvider,
  concurrency: number,
  options: { warmupMs: number; windowMs: number },
): Promise<TokenExchangeResult> {
  const refreshTokens = Array.from({ length: concurrency }, () => provider.issue().refreshToken);
  const result = await runPlanChild<{ requestsPerSecond: number; failed: number }>(
    'test/bench/token-exchange-client.ts',
    { tokenUrl: provider.tokenUrl, refreshTokens, ...options },
  );
  return { concurrency, ...result };
}
