export { buildApi, type BuildApiOptions } from './build-api.ts';
export { startApi, type RunningApi, type StartApiOptions } from './start-api.ts';
export type { ApiKeyVerifier, ApiPrincipal, ApiScope } from './api-key-verifier.ts';
export {
  UnauthorizedError,
  InsufficientScopeError,
  ProviderNotAllowedError,
  AmbiguousConnectionError,
  RateLimitedError,
} from './api-errors.ts';
export { TokenReadMetrics, type TokenReadObserver } from './token-reads.ts';
export type { KeyRateLimits } from './key-rate-limiter.ts';
export type { Problem } from './problem.ts';
