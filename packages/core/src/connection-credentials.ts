import type { AssertionAlgorithm } from './provider-definition.ts';

/**
 * The secrets of a connection that are not tokens, one shape from the producer's input to the request that uses
 * them, stored encrypted like tokens (docs/credentials.md): a user's login (password grant), a client of the
 * connection's own (client credentials), a private key and the claims it signs (jwt_bearer, GitHub App
 * installations), a subject token to exchange (token_exchange). API keys and HTTP Basic logins arrive here too, but
 * are stored as the access token: they are what a caller sends.
 */
export interface ConnectionCredentials {
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
  /** api_key: the key itself. */
  apiKey?: string;
  /** jwt_bearer, github_app_installation: a PEM private key (PKCS#8; GitHub's PKCS#1 too). */
  privateKey?: string;
  /** The JWS `kid` header (Google's `private_key_id`). */
  keyId?: string;
  /** The signing algorithm; RS256 by default. */
  algorithm?: AssertionAlgorithm;
  /** jwt_bearer `iss` (Google's `client_email`, Salesforce's consumer key). */
  issuer?: string;
  /** jwt_bearer `sub` (the user acted for: Salesforce's username, Google's delegated user). */
  subject?: string;
  /** jwt_bearer `aud`, when not the provider's. */
  audience?: string;
  /** github_app_installation: the App's id (or client id), the app JWT's `iss`, when the provider entry has none. */
  appId?: string;
  /** token_exchange (RFC 8693 §2.1): the token exchanged, and its type URI. */
  subjectToken?: string;
  subjectTokenType?: string;
}
