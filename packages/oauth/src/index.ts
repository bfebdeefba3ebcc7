export { TokenClient, type TokenClientOptions, type Exchange, type GrantContext } from './token-client.ts';
export { buildCheckRequest, type BuiltCheck } from './check-request.ts';
export { signAppJwt, signGrantAssertion, type AssertionClaims } from './grant-assertion.ts';
export {
  buildTokenRequest,
  basicCredentials,
  CLIENT_ASSERTION_TYPE,
  JWT_BEARER_GRANT,
  TOKEN_EXCHANGE_GRANT,
  ACCESS_TOKEN_TYPE,
  type TokenRequestContext,
  type BuiltRequest,
} from './token-request.ts';
export { buildRevocationRequest, type RevocationContext, type TokenTypeHint } from './revocation-request.ts';
export { classifyRevocation, type RevocationOutcome } from './revocation-outcome.ts';
export {
  buildAuthorizationUrl,
  pkceChallenge,
  randomSecret,
  type AuthorizationRequest,
} from './authorization-request.ts';
export { buildCodeRequest, type CodeRequestContext } from './code-request.ts';
export { IdTokenVerifier, readIdToken, type IdTokenCheck, type IdTokenExpectations } from './id-token.ts';
export {
  OidcDiscovery,
  parseDiscoveryDocument,
  type OidcConfiguration,
  type DiscoveryResult,
} from './oidc-discovery.ts';
export { completeFromDiscovery } from './discovered-endpoints.ts';
