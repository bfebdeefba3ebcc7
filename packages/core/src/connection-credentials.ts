/**
 * The secrets of a credential grant, one shape from the producer's input to the token request: a user's login
 * (password grant) or a client of the connection's own (client credentials). Stored encrypted like tokens.
 */
export interface ConnectionCredentials {
  username?: string;
  password?: string;
  clientId?: string;
  clientSecret?: string;
}
