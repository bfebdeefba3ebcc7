export { API_KEY_SCOPES, isApiKeyScope, type ApiKeyScope } from './scopes.ts';
export {
  API_KEY_PREFIX,
  API_KEY_ID_PATTERN,
  API_KEY_SCAN_PATTERN,
  generateApiKey,
  parseApiKey,
  hashApiKey,
  apiKeyMatches,
  type GeneratedApiKey,
  type ParsedApiKey,
} from './api-key-format.ts';
export { parseApiKeyInput, type ApiKeyInput, type ApiKeySpec } from './api-key-input.ts';
export { can, seesProvider, type ApiKeyPrincipal } from './principal.ts';
export { ApiKeyNotFoundError } from './api-key-not-found-error.ts';
export { ApiKeyVerifier, type ApiKeySource, type ApiKeyVerifierOptions } from './api-key-verifier.ts';
