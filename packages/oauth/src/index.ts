export { TokenClient, type TokenClientOptions, type Exchange } from './token-client.ts';
export {
  buildTokenRequest,
  basicCredentials,
  CLIENT_ASSERTION_TYPE,
  type TokenRequestContext,
  type BuiltRequest,
} from './token-request.ts';
