import type { ApiKeyVerifier } from '@evergreen/api';
import { ConfigError } from '@evergreen/core';
import type { EvergreenParts } from '@evergreen/wiring';
import type { Role } from './start-roles.ts';

/** Builds the api role's key verifier over the process's parts (the api-keys store over `parts.db`). */
export type ApiKeyVerifierFactory = (parts: EvergreenParts) => ApiKeyVerifier;

/**
 * The verifier the api role uses when its caller passes none. The API keys (table, CLI, cached verifier) are built
 * apart from the api: wiring them is one line here, `(parts) => <the api-keys verifier over parts.db>`.
 */
export const DEFAULT_API_KEY_VERIFIER: ApiKeyVerifierFactory | null = null;

/**
 * The factory the api role will use, or null when it cannot start: a process asked for the api alone refuses to start
 * (ConfigError) rather than serve nothing; one that runs other roles too starts them and warns.
 */
export function apiKeyVerifierFor(
  roles: readonly Role[],
  given: ApiKeyVerifierFactory | undefined,
): ApiKeyVerifierFactory | null {
  const factory = given ?? DEFAULT_API_KEY_VERIFIER;
  if (factory !== null) return factory;
  if (roles.every((role) => role === 'api')) {
    throw new ConfigError([
      { field: 'api', reason: 'no API key verifier is wired, so no request could be authenticated' },
    ]);
  }
  return null;
}
