import type { ClassifyPolicy } from './classify.ts';
import { classify } from './classify.ts';
import { STATIC_GRANTS, type Grant, type ProviderDefinition } from './provider-definition.ts';
import type { RefreshOutcome } from './refresh-outcome.ts';
import type { TokenEndpointReply } from './token-endpoint-reply.ts';

/** What a caller holds: a bearer access token (every OAuth grant), an API key, or an HTTP Basic login. */
export const CREDENTIAL_TYPES = ['bearer', 'api_key', 'basic'] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export function credentialTypeOf(grant: Grant): CredentialType {
  if (grant === 'api_key') return 'api_key';
  if (grant === 'basic') return 'basic';
  return 'bearer';
}

/**
 * Whether the provider's connections are ever looked at again after they are stored: a token that never expires is
 * not, nor a static credential without a check.
 */
export function renewsConnections(provider: Pick<ProviderDefinition, 'grant' | 'check'>): boolean {
  if (provider.grant === 'none') return false;
  return !STATIC_GRANTS.has(provider.grant) || provider.check !== null;
}

/** RFC 7617 §2: the user-id and password joined by one colon, base64-encoded: what follows `Basic `. */
export function basicToken(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** How to send the credential: one header, or one query parameter, ready to use. */
export interface CredentialSend {
  in: 'header' | 'query';
  name: string;
  value: string;
}

/** A stored credential as a caller receives it (the SDK's getValidToken, the api's token route). */
export type ServedCredential =
  | { type: 'bearer'; tokenType: 'Bearer'; send: CredentialSend }
  | { type: 'api_key'; tokenType: 'ApiKey'; apiKey: string; send: CredentialSend }
  | { type: 'basic'; tokenType: 'Basic'; username: string; password: string; send: CredentialSend };

/**
 * What a caller needs to use `accessToken` (the stored access token, API key, or Basic token) with the provider's API.
 * Pure; the value is the caller's own secret and is returned to the caller only.
 */
export function serveCredential(
  provider: Pick<ProviderDefinition, 'grant' | 'apiKey'>,
  accessToken: string,
): ServedCredential {
  switch (credentialTypeOf(provider.grant)) {
    case 'api_key': {
      const { apiKey } = provider;
      const value = apiKey.in === 'header' ? `${apiKey.prefix}${accessToken}` : accessToken;
      return {
        type: 'api_key',
        tokenType: 'ApiKey',
        apiKey: accessToken,
        send: { in: apiKey.in, name: apiKey.name, value },
      };
    }
    case 'basic': {
      const decoded = Buffer.from(accessToken, 'base64').toString('utf8');
      // RFC 7617 §2: a user-id cannot contain a colon, so the first one splits.
      const colon = decoded.indexOf(':');
      return {
        type: 'basic',
        tokenType: 'Basic',
        username: decoded.slice(0, colon),
        password: decoded.slice(colon + 1),
        send: { in: 'header', name: 'Authorization', value: `Basic ${accessToken}` },
      };
    }
    case 'bearer':
      return {
        type: 'bearer',
        tokenType: 'Bearer',
        send: { in: 'header', name: 'Authorization', value: `Bearer ${accessToken}` },
      };
  }
}

/**
 * What a credential check's answer means: a 2xx, the credential works (the same credential is the "new" one); a
 * status the entry lists as revoked, re-authorisation; a 429 or anything else, the provider's bad moment, never a
 * revocation. Pure, like `classify`, whose network, 429 and 5xx rules it shares.
 */
export function classifyCheck(
  reply: TokenEndpointReply,
  now: number,
  policy: ClassifyPolicy,
  check: { revokedStatuses: readonly number[] },
  credential: string,
): RefreshOutcome {
  if (reply.kind === 'network' || reply.status === 429 || reply.status >= 500) return classify(reply, now, policy);
  const { status } = reply;
  if (status >= 200 && status < 300) return { kind: 'success', tokens: { accessToken: credential }, status };
  if (check.revokedStatuses.includes(status)) return { kind: 'reauth', reason: 'invalid_grant', status };
  return { kind: 'transient', reason: 'unexpected_status', status };
}

/**
 * The URL template a connection's renewal reaches, which its metadata must be able to fill: the check URL for a
 * static credential (null without a check), nothing for a token that never expires, else the token URL.
 */
export function renewalUrlTemplate(provider: Pick<ProviderDefinition, 'grant' | 'check' | 'tokenUrl'>): string | null {
  if (provider.grant === 'none') return null;
  if (STATIC_GRANTS.has(provider.grant)) return provider.check?.url ?? null;
  return provider.tokenUrl;
}
