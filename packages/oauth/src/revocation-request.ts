import type { ConnectionCredentials, ProviderDefinition } from '@evergreen/core';
import { authenticateClient, type BuiltRequest } from './token-request.ts';

/** RFC 7009 §2.1: which kind of token is presented, a hint the server may use to find it faster. */
export type TokenTypeHint = 'refresh_token' | 'access_token';

export interface RevocationContext {
  token: string;
  tokenTypeHint: TokenTypeHint;
  /** A connection's own client, which then authenticates instead of the provider's (as for its token requests). */
  credentials?: ConnectionCredentials;
  /** A signed RFC 7523 client assertion, for private_key_jwt. */
  clientAssertion?: string;
}

/**
 * RFC 7009 §2.1: a form POST of `token` and `token_type_hint`, the client authenticated as the token request
 * authenticates it. Always a form, whatever the token request's format: the RFC fixes it. Pure.
 */
export function buildRevocationRequest(provider: ProviderDefinition, context: RevocationContext): BuiltRequest {
  const fields: Record<string, string> = { token: context.token, token_type_hint: context.tokenTypeHint };
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': 'evergreen-token-refresher',
    'content-type': 'application/x-www-form-urlencoded',
  };
  authenticateClient(provider, context, headers, fields);
  return { headers, body: new URLSearchParams(fields).toString() };
}
