import { createPublicKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { ClientAuthMethod } from './client-auth.ts';
import type {
  CredentialCheckOptions,
  GithubAppOptions,
  JwtBearerOptions,
  TokenExchangeOptions,
} from './credential-endpoints.ts';

export type RotationPolicy = 'always' | 'never' | 'alternate';
export type ErrorStyle = 'oauth' | 'github' | 'slack';
export type ExpiresInFormat = 'number' | 'string' | 'milliseconds';
export type ResponseFormat = 'json' | 'form';

export interface LoginEndpointOptions {
  /** Where the JSON login is served, e.g. `/api/login`. */
  path: string;
  usernameField: string;
  passwordField: string;
  /** The field of the success answer that carries the JWT. */
  tokenField: string;
}

export interface FakeProviderOptions {
  /** 0 (the default) lets the OS pick a free port, so parallel test files never collide. */
  port?: number;
  clientId?: string;
  clientSecret?: string;
  clientAuth?: ClientAuthMethod;
  accessTokenLifetimeSeconds?: number;
  /** Alias of `rotation`: true is `'always'`, false is `'never'`. `rotation` wins when both are given. */
  rotateRefreshTokens?: boolean;
  /** `alternate`: only the 2nd, 4th, … refresh of a grant returns a new refresh token (Spotify). */
  rotation?: RotationPolicy;
  /** When a refresh does not rotate, repeat the presented (still valid) refresh token instead of omitting it. */
  echoRefreshToken?: boolean;
  revokeOnReuse?: boolean;
  /** The just-replaced refresh token still works this many seconds (default 0: strictly single use). */
  reuseGraceSeconds?: number;
  latencyMs?: number;
  /** Names of the request fields read. `grantType: null`: the endpoint takes no grant type; every request refreshes. */
  requestFields?: { grantType?: string | null; refreshToken?: string };
  /** Names of the success fields sent. `null` omits the field (`expiresIn: null`: no expiry, as Salesforce). */
  responseFields?: {
    accessToken?: string;
    refreshToken?: string;
    expiresIn?: string | null;
    tokenType?: string | null;
  };
  expiresInFormat?: ExpiresInFormat;
  /** Adds `issued_at`, epoch milliseconds as a string (Salesforce). */
  issuedAt?: 'epoch_ms_string';
  /** Merged last into every /token success body, so it can also override a standard field. */
  extraResponse?: Record<string, unknown>;
  /** Adds `refresh_token_expires_in` (seconds) whenever a refresh token is sent (GitHub App user tokens). */
  refreshTokenExpiresIn?: number;
  errorStyle?: ErrorStyle;
  /** Status of `invalid_grant` in the `oauth` error style (the other styles always answer 200). */
  invalidGrantStatus?: number;
  /** `form`: answer application/x-www-form-urlencoded unless the request's Accept names application/json (GitHub). */
  responseFormat?: ResponseFormat;
  /** A refresh without a `scope` parameter is `invalid_request` (Microsoft identity platform). */
  requireScope?: boolean;
  /** A refresh lacking any of these parameters, with these values, is `invalid_request` (Withings' action). */
  requiredParams?: Record<string, string>;
  /**
   * Success fields nested under `key`, with `fields` beside them: Withings answers `{"status": 0, "body": {...}}`.
   * `extraResponse` still merges into the nested fields.
   */
  envelope?: { key: string; fields?: Record<string, unknown> };
  /** Accept `grant_type=client_credentials`: an access token, never a refresh token. */
  clientCredentials?: boolean;
  /** Users for `grant_type=password` and for `loginEndpoint`, as username → password. */
  passwordUsers?: Record<string, string>;
  /** The password grant creates a grant and answers its refresh token too (default: access token only). */
  passwordGrantIssuesRefreshToken?: boolean;
  /** A non-OAuth JSON login answering `{ [tokenField]: <JWT> }`; users come from `passwordUsers`. */
  loginEndpoint?: LoginEndpointOptions;
  /** RFC 7523 client authentication with a signed JWT (RS256 or ES256); when set, the only method accepted. */
  privateKeyJwt?: { publicKeyPem: string; audience?: string };
  /** RFC 7523 §2.1: accept `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` with assertions of this key. */
  jwtBearer?: JwtBearerOptions;
  /** GitHub App installation tokens at `/app/installations/{id}/access_tokens`. */
  githubApp?: GithubAppOptions;
  /** An API-key (or Basic) check endpoint at `/check`. */
  credentialCheck?: CredentialCheckOptions;
  /** RFC 8693: accept `grant_type=urn:ietf:params:oauth:grant-type:token-exchange` for these subject tokens. */
  tokenExchange?: TokenExchangeOptions;
}

/** Every option with its default applied and checked, so the request path never has to second-guess them. */
export interface ResolvedOptions {
  port: number;
  clientId: string;
  clientSecret: string;
  clientAuth: ClientAuthMethod;
  accessTokenLifetime: number;
  rotation: RotationPolicy;
  echoRefreshToken: boolean;
  revokeOnReuse: boolean;
  reuseGraceSeconds: number;
  latencyMs: number;
  request: { grantType: string | null; refreshToken: string };
  response: { accessToken: string; refreshToken: string; expiresIn: string | null; tokenType: string | null };
  expiresInFormat: ExpiresInFormat;
  issuedAt: boolean;
  extraResponse: Record<string, unknown>;
  refreshTokenExpiresIn: number | null;
  errorStyle: ErrorStyle;
  invalidGrantStatus: number;
  responseFormat: ResponseFormat;
  requireScope: boolean;
  requiredParams: Readonly<Record<string, string>>;
  envelope: { key: string; fields: Record<string, unknown> } | null;
  clientCredentials: boolean;
  /** Null when `passwordUsers` was not given: the password grant is then unsupported. */
  passwordUsers: ReadonlyMap<string, string> | null;
  passwordGrantIssuesRefreshToken: boolean;
  loginEndpoint: LoginEndpointOptions | null;
  privateKeyJwt: { publicKey: KeyObject; audience: string | null } | null;
  credentialOptions: Pick<FakeProviderOptions, 'jwtBearer' | 'githubApp' | 'credentialCheck' | 'tokenExchange'>;
}

const RESERVED_PATHS = new Set(['/token', '/healthz']);

/** Throws a RangeError naming the option for anything a test could only have meant by mistake. */
export function resolveOptions(options: FakeProviderOptions): ResolvedOptions {
  const port = options.port ?? 0;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new RangeError(`fake-provider: bad port ${port}`);
  if (options.accessTokenLifetimeSeconds !== undefined) checkLifetime(options.accessTokenLifetimeSeconds);
  if (options.latencyMs !== undefined && !(Number.isFinite(options.latencyMs) && options.latencyMs >= 0)) {
    throw new RangeError(`fake-provider: latencyMs must be finite and non-negative, got ${options.latencyMs}`);
  }
  const clientAuth = oneOf('clientAuth', options.clientAuth, [
    'client_secret_basic',
    'client_secret_post',
    'any',
    'none',
  ] as const);
  const rotation =
    oneOf('rotation', options.rotation, ['always', 'never', 'alternate'] as const) ??
    (options.rotateRefreshTokens === false ? 'never' : 'always');
  const expiresInFormat = oneOf('expiresInFormat', options.expiresInFormat, [
    'number',
    'string',
    'milliseconds',
  ] as const);
  const errorStyle = oneOf('errorStyle', options.errorStyle, ['oauth', 'github', 'slack'] as const);
  const responseFormat = oneOf('responseFormat', options.responseFormat, ['json', 'form'] as const);
  oneOf('issuedAt', options.issuedAt, ['epoch_ms_string'] as const);

  const invalidGrantStatus = options.invalidGrantStatus ?? 400;
  if (!(Number.isInteger(invalidGrantStatus) && invalidGrantStatus >= 200 && invalidGrantStatus <= 599)) {
    throw new RangeError(`fake-provider: invalidGrantStatus must be an integer in 200..599, got ${invalidGrantStatus}`);
  }
  const refreshTokenExpiresIn = options.refreshTokenExpiresIn ?? null;
  if (refreshTokenExpiresIn !== null && !(Number.isInteger(refreshTokenExpiresIn) && refreshTokenExpiresIn >= 0)) {
    throw new RangeError(
      `fake-provider: refreshTokenExpiresIn must be a non-negative integer, got ${refreshTokenExpiresIn}`,
    );
  }

  const request = {
    grantType: nullableName('requestFields.grantType', options.requestFields?.grantType, 'grant_type'),
    refreshToken: name('requestFields.refreshToken', options.requestFields?.refreshToken, 'refresh_token'),
  };
  const response = {
    accessToken: name('responseFields.accessToken', options.responseFields?.accessToken, 'access_token'),
    refreshToken: name('responseFields.refreshToken', options.responseFields?.refreshToken, 'refresh_token'),
    expiresIn: nullableName('responseFields.expiresIn', options.responseFields?.expiresIn, 'expires_in'),
    tokenType: nullableName('responseFields.tokenType', options.responseFields?.tokenType, 'token_type'),
  };
  const clientCredentials = options.clientCredentials ?? false;
  if (request.grantType === null && clientCredentials) {
    // Without a grant type there is no way to ask for client credentials: the option would silently do nothing.
    throw new RangeError('fake-provider: clientCredentials needs a grant type field (requestFields.grantType is null)');
  }

  const requiredParams: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.requiredParams ?? {})) {
    if (key === '' || typeof value !== 'string') {
      throw new RangeError(`fake-provider: requiredParams.${key} must name a parameter and give a string value`);
    }
    requiredParams[key] = value;
  }
  const envelope =
    options.envelope === undefined
      ? null
      : { key: name('envelope.key', options.envelope.key, ''), fields: { ...options.envelope.fields } };

  let passwordUsers: Map<string, string> | null = null;
  if (options.passwordUsers !== undefined) {
    // A Map, so a username such as `constructor` or `__proto__` is just a username.
    passwordUsers = new Map();
    for (const [user, password] of Object.entries(options.passwordUsers)) {
      if (typeof password !== 'string') throw new RangeError(`fake-provider: passwordUsers.${user} must be a string`);
      passwordUsers.set(user, password);
    }
  }

  let loginEndpoint: LoginEndpointOptions | null = null;
  if (options.loginEndpoint !== undefined) {
    const { path } = options.loginEndpoint;
    if (typeof path !== 'string' || !path.startsWith('/') || RESERVED_PATHS.has(path)) {
      throw new RangeError(`fake-provider: loginEndpoint.path must start with / and not be /token or /healthz`);
    }
    loginEndpoint = {
      path,
      usernameField: name('loginEndpoint.usernameField', options.loginEndpoint.usernameField, ''),
      passwordField: name('loginEndpoint.passwordField', options.loginEndpoint.passwordField, ''),
      tokenField: name('loginEndpoint.tokenField', options.loginEndpoint.tokenField, ''),
    };
  }

  let privateKeyJwt: ResolvedOptions['privateKeyJwt'] = null;
  if (options.privateKeyJwt !== undefined) {
    let publicKey: KeyObject;
    try {
      publicKey = createPublicKey(options.privateKeyJwt.publicKeyPem);
    } catch (error) {
      throw new RangeError('fake-provider: privateKeyJwt.publicKeyPem is not a PEM key', { cause: error });
    }
    const curve = publicKey.asymmetricKeyDetails?.namedCurve;
    if (!(publicKey.asymmetricKeyType === 'rsa' || (publicKey.asymmetricKeyType === 'ec' && curve === 'prime256v1'))) {
      throw new RangeError(
        'fake-provider: privateKeyJwt.publicKeyPem must be an RSA key (RS256) or a P-256 key (ES256)',
      );
    }
    privateKeyJwt = { publicKey, audience: options.privateKeyJwt.audience ?? null };
  }

  return {
    port,
    clientId: options.clientId ?? 'client-id',
    clientSecret: options.clientSecret ?? 'client-secret',
    clientAuth: clientAuth ?? 'any',
    accessTokenLifetime: options.accessTokenLifetimeSeconds ?? 3600,
    rotation,
    echoRefreshToken: options.echoRefreshToken ?? false,
    revokeOnReuse: options.revokeOnReuse ?? true,
    reuseGraceSeconds: options.reuseGraceSeconds ?? 0,
    latencyMs: options.latencyMs ?? 0,
    request,
    response,
    expiresInFormat: expiresInFormat ?? 'number',
    issuedAt: options.issuedAt === 'epoch_ms_string',
    // Copied so a caller mutating its object later cannot change answers mid-test.
    extraResponse: { ...options.extraResponse },
    refreshTokenExpiresIn,
    errorStyle: errorStyle ?? 'oauth',
    invalidGrantStatus,
    responseFormat: responseFormat ?? 'json',
    requireScope: options.requireScope ?? false,
    requiredParams,
    envelope,
    clientCredentials,
    passwordUsers,
    passwordGrantIssuesRefreshToken: options.passwordGrantIssuesRefreshToken ?? false,
    loginEndpoint,
    privateKeyJwt,
    credentialOptions: {
      jwtBearer: options.jwtBearer,
      githubApp: options.githubApp,
      credentialCheck: options.credentialCheck,
      tokenExchange: options.tokenExchange,
    },
  };
}

export function checkLifetime(seconds: number): void {
  if (!(Number.isInteger(seconds) && seconds >= 0)) {
    throw new RangeError(
      `fake-provider: an access token lifetime is a non-negative integer of seconds, got ${seconds}`,
    );
  }
}

function oneOf<T extends string>(option: string, value: T | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined || allowed.includes(value)) return value;
  throw new RangeError(`fake-provider: ${option} must be one of ${allowed.join(', ')}, got ${String(value)}`);
}

function name(option: string, value: string | undefined, fallback: string): string {
  if (value === undefined && fallback !== '') return fallback;
  if (typeof value === 'string' && value !== '') return value;
  throw new RangeError(`fake-provider: ${option} must be a non-empty string`);
}

function nullableName(option: string, value: string | null | undefined, fallback: string): string | null {
  return value === null ? null : name(option, value, fallback);
}
