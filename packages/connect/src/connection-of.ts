import type { TokenSet } from '@evergreen/core';
import type { ConnectSession } from '@evergreen/store';

/** What the flow stores once the code is exchanged: enqueueConnection's input, through its own path. */
export interface ConnectionToStore {
  connectionId?: string;
  ownerId: string;
  provider: string;
  accessToken: string;
  refreshToken?: string;
  expiresIn?: number;
  expiresAt?: Date;
  refreshTokenExpiresIn?: number;
  scopes: string[];
  metadata: Record<string, unknown>;
}

/**
 * The exchange's answer as enqueueConnection's input: the scopes the provider granted (RFC 6749 §5.1 `scope`, when it
 * says) or those asked for; the id_token's subject and issuer added to the metadata, so the app knows who connected.
 */
export function connectionOf(
  session: ConnectSession,
  tokens: TokenSet,
  claims: Record<string, unknown> | null,
): ConnectionToStore {
  const granted = tokens.scope?.split(/[\s,]+/).filter((s) => s.length > 0);
  const metadata: Record<string, unknown> = { ...session.metadata, ...tokens.metadata };
  if (claims !== null) {
    metadata.idTokenSubject = claims.sub;
    metadata.idTokenIssuer = claims.iss;
  }
  return {
    ...(session.connectionId !== null && { connectionId: session.connectionId }),
    ownerId: session.ownerId,
    provider: session.provider,
    accessToken: tokens.accessToken,
    ...(tokens.refreshToken !== undefined && { refreshToken: tokens.refreshToken }),
    ...(tokens.expiresInSeconds !== undefined && { expiresIn: tokens.expiresInSeconds }),
    ...(tokens.expiresInSeconds === undefined &&
      tokens.expiresAt !== undefined && { expiresAt: new Date(tokens.expiresAt) }),
    ...(tokens.refreshTokenExpiresInSeconds !== undefined && {
      refreshTokenExpiresIn: tokens.refreshTokenExpiresInSeconds,
    }),
    scopes: granted && granted.length > 0 ? granted : session.scopes,
    metadata,
  };
}
