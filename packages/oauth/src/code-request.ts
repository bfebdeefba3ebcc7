import type { ProviderDefinition } from '@evergreen/core';
import { authenticateClient, type BuiltRequest } from './token-request.ts';

export interface CodeRequestContext {
  code: string;
  /** Exactly the redirect URI of the authorization request (RFC 6749 §4.1.3). */
  redirectUri: string;
  codeVerifier?: string;
  /** A signed RFC 7523 client assertion, for private_key_jwt. */
  clientAssertion?: string;
}

/**
 * RFC 6749 §4.1.3: the authorization code exchanged at the token endpoint, with the PKCE verifier (RFC 7636 §4.5) and
 * the client authentication the refresh uses (basic, post, private_key_jwt, none), in the provider's body format. Pure.
 */
export function buildCodeRequest(provider: ProviderDefinition, context: CodeRequestContext): BuiltRequest {
  const fields: Record<string, string> = {
    grant_type: 'authorization_code',
    code: context.code,
    redirect_uri: context.redirectUri,
  };
  if (context.codeVerifier !== undefined) fields.code_verifier = context.codeVerifier;
  const headers: Record<string, string> = { accept: 'application/json', 'user-agent': 'evergreen-token-refresher' };
  authenticateClient(
    provider,
    context.clientAssertion === undefined ? {} : { clientAssertion: context.clientAssertion },
    headers,
    fields,
  );
  if (provider.request.format === 'json') {
    headers['content-type'] = 'application/json';
    return { headers, body: JSON.stringify(fields) };
  }
  headers['content-type'] = 'application/x-www-form-urlencoded';
  return { headers, body: new URLSearchParams(fields).toString() };
}
