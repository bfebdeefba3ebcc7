/** What a token endpoint granted, in Evergreen's terms, before any expiry arithmetic. */
export interface TokenSet {
  accessToken: string;
  /** Absent when the provider did not rotate: the caller keeps the refresh token it has (invariant 5). */
  refreshToken?: string;
  /** A relative lifetime in seconds (`expires_in`, converted from milliseconds where a provider counts in those). */
  expiresInSeconds?: number;
  /** An absolute expiry, epoch ms, for providers that send one. */
  expiresAt?: number;
  /** When the token was issued, epoch ms (Salesforce's `issued_at`). */
  issuedAt?: number;
  refreshTokenExpiresInSeconds?: number;
  scope?: string;
  tokenType?: string;
  /** Connection metadata the provider sent along (Salesforce's instance_url). */
  metadata?: Record<string, string>;
}
