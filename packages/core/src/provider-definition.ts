/**
 * How a connection renews its access token. `none`: the token never expires (a personal access token). `api_key` and
 * `basic`: a static credential, served as stored and never renewed (only checked, when the entry has a `check`).
 * `jwt_bearer` (RFC 7523 §2.1), `github_app_installation` and `token_exchange` (RFC 8693): a new access token from a
 * signed assertion or a stored subject token. docs/credentials.md.
 */
export const GRANTS = [
  'refresh_token',
  'client_credentials',
  'password',
  'none',
  'api_key',
  'basic',
  'jwt_bearer',
  'github_app_installation',
  'token_exchange',
] as const;
export type Grant = (typeof GRANTS)[number];

/** Credentials that are the thing sent to the provider's API: stored and served, never exchanged for a token. */
export const STATIC_GRANTS: ReadonlySet<Grant> = new Set<Grant>(['api_key', 'basic']);

/** How the provider's API takes an API key: in a header (with a prefix such as `Bearer `) or a query parameter. */
export interface ApiKeyPlacement {
  in: 'header' | 'query';
  name: string;
  /** Put before the key in a header (`Bearer `, `Token token=`); empty for none. */
  prefix: string;
}

/**
 * A request that tells whether a static credential still works (an API key's "who am I" endpoint). Only the statuses
 * listed mean revoked; anything else that is not a 2xx is the provider's bad moment.
 */
export interface CredentialCheck {
  /** Placeholders and host rules as `tokenUrl`. */
  url: string;
  method: 'GET' | 'POST';
  revokedStatuses: number[];
  intervalSeconds: number;
}

/** Where a JWT bearer grant's scopes go: an assertion claim (Google), the request's `scope` (RFC 7523 §2.1), nowhere. */
export const ASSERTION_SCOPES = ['claim', 'request', 'none'] as const;
export type AssertionScope = (typeof ASSERTION_SCOPES)[number];

/** RFC 6749 §2.3.1, RFC 7523 §2.2 and public clients: how a client proves itself to the token endpoint. */
export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

export const ASSERTION_ALGORITHMS = ['RS256', 'PS256', 'ES256'] as const;
export type AssertionAlgorithm = (typeof ASSERTION_ALGORITHMS)[number];

export const ABSOLUTE_TIME_FORMATS = ['epoch_seconds', 'epoch_milliseconds', 'iso8601'] as const;
export type AbsoluteTimeFormat = (typeof ABSOLUTE_TIME_FORMATS)[number];

/** What a provider's error code means to us, when it is not a standard RFC 6749 §5.2 code. */
export const ERROR_MEANINGS = [
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_request',
  'invalid_scope',
  'transient',
] as const;
export type ErrorMeaning = (typeof ERROR_MEANINGS)[number];

/** How the token request is written. */
export interface RequestShape {
  format: 'form' | 'json';
  /** Field carrying the grant type; null for endpoints that take none (a custom `POST {refreshToken}`). */
  grantTypeField: string | null;
  refreshTokenField: string;
  usernameField: string;
  passwordField: string;
  /** `connection`: the connection's scopes, joined by a space (Microsoft requires them); `fixed`: `scope` below. */
  scope: 'none' | 'connection' | 'fixed';
  scopeValue: string | null;
  /** Sent with every request, as given. */
  params: Record<string, string>;
}

/** RFC 7636: whether the provider takes a PKCE code challenge, and whether it insists on one. */
export const PKCE_SUPPORT = ['required', 'supported', 'unsupported'] as const;
export type PkceSupport = (typeof PKCE_SUPPORT)[number];

/** How the authorization request is written (RFC 6749 §4.1.1, OpenID Connect Core §3.1.2.1): the connect flow. */
export interface AuthorizationShape {
  /** Joins the scopes in the `scope` parameter: a space by the RFC, a comma for Slack. */
  scopeSeparator: string;
  /** Asked for when a connect session names no scopes. */
  defaultScopes: string[];
  /** Sent with every authorization request, as given (Google's `access_type=offline`, `prompt=consent`). */
  params: Record<string, string>;
  /** `supported` (the default): an S256 challenge is sent; servers ignore what they do not know (RFC 6749 §3.1). */
  pkce: PkceSupport;
}

/** Where the answer keeps what we need: dotted paths into the JSON (or form) body. */
export interface ResponseShape {
  accessToken: string;
  refreshToken: string | null;
  expiresIn: string | null;
  expiresInUnit: 'seconds' | 'milliseconds';
  expiresAt: string | null;
  expiresAtFormat: AbsoluteTimeFormat;
  /** When the token was issued (Salesforce's `issued_at`): the default lifetime counts from there. */
  issuedAt: string | null;
  issuedAtFormat: AbsoluteTimeFormat;
  refreshTokenExpiresIn: string | null;
  error: string;
  /** A field that must hold `true` for a success (Slack's `ok`); errors then arrive with HTTP 200. */
  successFlag: string | null;
  /** Connection metadata refreshed from each answer: metadata key → response path (Salesforce's instance_url). */
  metadata: Record<string, string>;
}

/** One provider, resolved: built-in defaults, `extends` and the user's file applied. */
export interface ProviderDefinition {
  id: string;
  displayName: string;
  grant: Grant;
  /** May hold `{name}` placeholders filled from the connection's metadata (Salesforce instance, Zendesk subdomain). */
  tokenUrl: string;
  /** Hosts a filled-in token URL may point at (`*.salesforce.com`); null: any host the template allows. */
  tokenUrlHosts: string[] | null;
  metadataDefaults: Record<string, string>;
  /**
   * RFC 7009 revocation endpoint; null when the provider has none. Placeholders and host rules as `tokenUrl` (the
   * same `tokenUrlHosts`), since the refresh token and the client's credentials go there too.
   */
  revocationUrl: string | null;
  /**
   * RFC 6749 §3.1 authorization endpoint, for the connect flow; null when the provider has none (credential grants,
   * personal tokens) or when discovery from `issuer` supplies it. Placeholders and host rules as `tokenUrl`.
   */
  authorizationUrl: string | null;
  /**
   * OpenID Connect issuer: id_tokens are verified against it (`iss`, and signatures from its JWKS), and endpoints the
   * entry leaves out come from its `/.well-known/openid-configuration`. Null: not an OpenID Connect provider.
   */
  issuer: string | null;
  authorization: AuthorizationShape;
  clientId: string | null;
  clientSecret: string | null;
  clientAuth: ClientAuthMethod;
  /** PEM private key for private_key_jwt (RFC 7523). */
  privateKey: string | null;
  privateKeyAlgorithm: AssertionAlgorithm;
  keyId: string | null;
  /**
   * `aud` of the client assertion, or of a jwt_bearer grant's assertion (placeholders filled from metadata, as
   * `tokenUrl`); the token URL when null.
   */
  assertionAudience: string | null;
  /** jwt_bearer: where the connection's scopes go. */
  assertionScope: AssertionScope;
  /** api_key: how the provider's API takes the key (served to callers, and used by `check`). */
  apiKey: ApiKeyPlacement;
  /** api_key and basic: the optional revocation check; null: none (the credential is never looked at again). */
  check: CredentialCheck | null;
  /**
   * What an HTTP status means when the body carries no OAuth error (GitHub's installation endpoint answers 404 with a
   * message when the installation was removed).
   */
  statusErrors: Record<string, ErrorMeaning>;
  request: RequestShape;
  response: ResponseShape;
  /** Provider-specific error codes (GitHub's bad_refresh_token, Slack's invalid_refresh_token) and what they mean. */
  errors: Record<string, ErrorMeaning>;
  /** Whether refresh tokens rotate, and how long the one just replaced stays usable. */
  rotation: { rotates: 'always' | 'sometimes' | 'never'; graceSeconds: number };
  refreshBufferSeconds: number;
  /** Lifetime assumed when neither the answer nor the token says; null: unknown. */
  defaultLifetimeSeconds: number | null;
  /** Refresh at least this often: refresh tokens that die when unused, and tokens whose expiry nobody knows. */
  keepAliveSeconds: number | null;
  /** Refresh-token lifetime assumed when the answer does not say (`refresh_token_expires_in`). */
  refreshTokenLifetimeSeconds: number | null;
  /** Warn this long before a refresh token lapses. */
  refreshTokenWarningSeconds: number;
  /** Most token requests per `durationMs` across all workers; null: no limit of our own. */
  rateLimit: { max: number; durationMs: number } | null;
  /**
   * Queues this provider's connections are split among by id (one very large provider spread over a cluster's
   * shards); null: EVERGREEN_QUEUE_SHARDS.
   */
  queueShards: number | null;
}

export const DEFAULT_REQUEST_SHAPE: RequestShape = {
  format: 'form',
  grantTypeField: 'grant_type',
  refreshTokenField: 'refresh_token',
  usernameField: 'username',
  passwordField: 'password',
  scope: 'none',
  scopeValue: null,
  params: {},
};

export const DEFAULT_AUTHORIZATION_SHAPE: AuthorizationShape = {
  scopeSeparator: ' ',
  defaultScopes: [],
  params: {},
  pkce: 'supported',
};

/** RFC 6749 §5.1. */
export const DEFAULT_RESPONSE_SHAPE: ResponseShape = {
  accessToken: 'access_token',
  refreshToken: 'refresh_token',
  expiresIn: 'expires_in',
  expiresInUnit: 'seconds',
  expiresAt: null,
  expiresAtFormat: 'epoch_seconds',
  issuedAt: null,
  issuedAtFormat: 'epoch_milliseconds',
  refreshTokenExpiresIn: 'refresh_token_expires_in',
  error: 'error',
  successFlag: null,
  metadata: {},
};
