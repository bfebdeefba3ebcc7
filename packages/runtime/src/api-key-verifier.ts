import type { ApiKeyVerifier } from '@evergreen/api';
import { ApiKeyVerifier as CachedApiKeyVerifier } from '@evergreen/api-keys';
import { ApiKeyStore } from '@evergreen/store';
import type { EvergreenParts } from '@evergreen/wiring';

/** Builds the api role's key verifier over the process's parts. */
export type ApiKeyVerifierFactory = (parts: EvergreenParts) => ApiKeyVerifier;

/**
 * The keys `evergreen api-keys create` stores (`api_keys`, hashed), checked through a cache whose answers live at most
 * two seconds: a request costs no database round trip, and a revocation reaches every api process within that bound.
 */
export const DEFAULT_API_KEY_VERIFIER: ApiKeyVerifierFactory = (parts) =>
  new CachedApiKeyVerifier(new ApiKeyStore(parts.db));
