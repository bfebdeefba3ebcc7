export { TokenClient, type TokenClientOptions, type Exchange } from './token-client.ts';
export {
  buildTokenRequest,
  basicCredentials,
  CLIENT_ASSERTION_TYPE,
  type TokenRequestContext,
  type BuiltRequest,
} from './token-request.ts';
export { buildRevocationRequest, type RevocationContext, type TokenTypeHint } from './revocation-request.ts';
export { classifyRevocation, type RevocationOutcome } from './revocation-outcome.ts';
