/** What a token endpoint granted, in Evergreen's terms, before any expiry arithmetic. */
export interface TokenSet {
  accessToken: string;
  /** Absent when the provider did not rotate: the caller keeps the refresh token it has (invariant 5). */
  refreshToken?: string;
  /** Seconds, as the provider said (`expires_in`); absent when it did not say. */
  expiresInSeconds?: number;
  scope?: string;
  tokenType?: string;
}
