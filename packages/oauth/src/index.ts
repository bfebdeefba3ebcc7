export { TokenClient, type TokenClientOptions, type Exchange } from './token-client.ts';
export { buildRefreshRequest, basicCredentials } from './client-auth.ts';
