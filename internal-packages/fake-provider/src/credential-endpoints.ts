import { createPublicKey, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { GrantStore } from './grant-store.ts';
import { decodeCompactJws, signatureOk } from './jws.ts';

/** RFC 7523 §2.1: the JWT bearer grant, checked against one registered key. */
export interface JwtBearerOptions {
  publicKeyPem: string;
  /** The `iss` the key is registered for. */
  issuer: string;
  /** The `aud` expected; the token URL by default. */
  audience?: string;
  /** When set, the `sub` expected (Salesforce's username). */
  subject?: string;
}

/** GitHub's `POST /app/installations/{id}/access_tokens`, authenticated by an app JWT (RS256). */
export interface GithubAppOptions {
  appId: string;
  publicKeyPem: string;
  installations: string[];
}

/** A "who am I" endpoint at `/check` that says whether an API key (or a Basic login) still works. */
export interface CredentialCheckOptions {
  apiKeys?: string[];
  /** Where the key is read: a header (default `x-api-key`, with `prefix`) or, with `query`, a query parameter. */
  header?: string;
  prefix?: string;
  query?: string;
  basicUsers?: Record<string, string>;
  /** The status of a refused key (default 401). */
  refusedStatus?: number;
}

/** RFC 8693: subject tokens the server will exchange. */
export interface TokenExchangeOptions {
  subjectTokens: string[];
}

export interface AssertionRecord {
  iss: unknown;
  sub: unknown;
  aud: unknown;
  scope: unknown;
  kid: unknown;
  alg: unknown;
  /** The request's `scope` parameter. */
  requestScope: string | null;
}

export interface InstallationRecord {
  installationId: string;
  status: number;
  iss: unknown;
  lifetimeSeconds: number | null;
}

export interface CheckRecord {
  status: number;
}

export interface Reply {
  status: number;
  body: Record<string, unknown>;
}

export type GrantAnswer =
  { kind: 'ok'; accessToken: string; expiresIn: number; scope: string | null } | { kind: 'invalid_grant'; why: string };

/**
 * The fake provider's endpoints for credentials beyond the refresh token. Strict like a real server: signatures are
 * checked against the registered public key, claims one by one, and a jti is accepted once.
 */
export class CredentialEndpoints {
  readonly assertions: AssertionRecord[] = [];
  readonly installationRequests: InstallationRecord[] = [];
  readonly checks: CheckRecord[] = [];
  readonly #store: GrantStore;
  readonly #jwtBearer: (JwtBearerOptions & { key: KeyObject }) | null;
  readonly #githubApp: (GithubAppOptions & { key: KeyObject }) | null;
  readonly #installations: Set<string>;
  readonly #check: CredentialCheckOptions | null;
  readonly #apiKeys: Set<string>;
  readonly #subjectTokens: Set<string>;
  readonly #tokenExchange: boolean;
  readonly #seenJti = new Set<string>();

  constructor(
    store: GrantStore,
    options: {
      jwtBearer?: JwtBearerOptions | undefined;
      githubApp?: GithubAppOptions | undefined;
      credentialCheck?: CredentialCheckOptions | undefined;
      tokenExchange?: TokenExchangeOptions | undefined;
    },
  ) {
    this.#store = store;
    this.#jwtBearer = options.jwtBearer
      ? { ...options.jwtBearer, key: publicKey(options.jwtBearer.publicKeyPem) }
      : null;
    this.#githubApp = options.githubApp
      ? { ...options.githubApp, key: publicKey(options.githubApp.publicKeyPem) }
      : null;
    this.#installations = new Set(options.githubApp?.installations ?? []);
    this.#check = options.credentialCheck ?? null;
    this.#apiKeys = new Set(options.credentialCheck?.apiKeys ?? []);
    this.#subjectTokens = new Set(options.tokenExchange?.subjectTokens ?? []);
    this.#tokenExchange = options.tokenExchange !== undefined;
  }

  get jwtBearerEnabled(): boolean {
    return this.#jwtBearer !== null;
  }

  get tokenExchangeEnabled(): boolean {
    return this.#tokenExchange;
  }

  get checkEnabled(): boolean {
    return this.#check !== null;
  }

  revokeApiKey(key: string): void {
    this.#apiKeys.delete(key);
  }

  removeInstallation(id: string): void {
    this.#installations.delete(id);
  }

  revokeSubjectToken(token: string): void {
    this.#subjectTokens.delete(token);
  }

  /** RFC 7523 §3: signature, iss, sub, aud, exp, single-use jti; §3.1: anything wrong is invalid_grant. */
  jwtBearerGrant(params: ReadonlyMap<string, string>, tokenUrl: string, lifetime: number): GrantAnswer {
    const options = this.#jwtBearer;
    if (options === null) return { kind: 'invalid_grant', why: 'not configured' };
    const jws = decodeCompactJws(params.get('assertion') ?? '');
    if (jws === null) return { kind: 'invalid_grant', why: 'not a compact JWS' };
    const { claims, header } = jws;
    this.assertions.push({
      iss: claims.iss,
      sub: claims.sub,
      aud: claims.aud,
      scope: claims.scope,
      kid: header.kid,
      alg: header.alg,
      requestScope: params.get('scope') ?? null,
    });
    if (!signatureOk(jws, options.key)) return { kind: 'invalid_grant', why: 'signature' };
    if (claims.iss !== options.issuer) return { kind: 'invalid_grant', why: 'iss' };
    if (options.subject !== undefined && claims.sub !== options.subject) return { kind: 'invalid_grant', why: 'sub' };
    const audience = options.audience ?? tokenUrl;
    if (!(claims.aud === audience || (Array.isArray(claims.aud) && claims.aud.includes(audience)))) {
      return { kind: 'invalid_grant', why: 'aud' };
    }
    const now = Date.now() / 1000;
    if (typeof claims.exp !== 'number' || !(claims.exp > now) || claims.exp > now + 3600) {
      return { kind: 'invalid_grant', why: 'exp' };
    }
    if (typeof claims.jti !== 'string' || this.#seenJti.has(claims.jti)) return { kind: 'invalid_grant', why: 'jti' };
    this.#seenJti.add(claims.jti);
    const scope = typeof claims.scope === 'string' ? claims.scope : (params.get('scope') ?? null);
    return { kind: 'ok', accessToken: this.#store.issueAccessToken(lifetime), expiresIn: lifetime, scope };
  }

  /** RFC 8693 §2.1: a known subject token is exchanged; an unknown one is invalid_grant (§2.2.2). */
  tokenExchange(params: ReadonlyMap<string, string>, lifetime: number): GrantAnswer {
    const subject = params.get('subject_token');
    if (subject === undefined || !params.get('subject_token_type')) return { kind: 'invalid_grant', why: 'missing' };
    if (!this.#subjectTokens.has(subject)) return { kind: 'invalid_grant', why: 'unknown subject token' };
    return { kind: 'ok', accessToken: this.#store.issueAccessToken(lifetime), expiresIn: lifetime, scope: null };
  }

  /** As GitHub: 401 for a JWT it cannot accept, 404 for an installation it does not know, 201 with a one-hour token. */
  installationToken(method: string | undefined, authorization: string | undefined, installationId: string): Reply {
    const record = (status: number, iss: unknown = null, lifetimeSeconds: number | null = null) =>
      this.installationRequests.push({ installationId, status, iss, lifetimeSeconds });
    const app = this.#githubApp;
    if (app === null || method !== 'POST') {
      record(404);
      return { status: 404, body: { message: 'Not Found' } };
    }
    const jws = authorization?.startsWith('Bearer ') ? decodeCompactJws(authorization.slice(7)) : null;
    if (jws === null) {
      record(401);
      return { status: 401, body: { message: 'A JSON web token could not be decoded' } };
    }
    const { claims } = jws;
    const now = Date.now() / 1000;
    const iat = typeof claims.iat === 'number' ? claims.iat : NaN;
    const exp = typeof claims.exp === 'number' ? claims.exp : NaN;
    const lifetime = exp - iat;
    const valid =
      jws.header.alg === 'RS256' &&
      signatureOk(jws, app.key) &&
      String(claims.iss) === app.appId &&
      iat <= now + 60 &&
      exp > now &&
      // GitHub: no more than 10 minutes into the future.
      exp <= now + 600 &&
      lifetime > 0;
    if (!valid) {
      record(401, claims.iss);
      return { status: 401, body: { message: "'Expiration time' claim ('exp') is too far in the future" } };
    }
    if (!this.#installations.has(installationId)) {
      record(404, claims.iss, lifetime);
      return { status: 404, body: { message: 'Not Found' } };
    }
    record(201, claims.iss, lifetime);
    const token = this.#store.issueAccessToken(3600);
    return {
      status: 201,
      body: {
        token,
        expires_at: new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
        permissions: { contents: 'read' },
        repository_selection: 'all',
      },
    };
  }

  /** 200 for a key (or Basic login) that works, `refusedStatus` for one that does not. */
  check(url: URL, headers: Readonly<Record<string, string | string[] | undefined>>): Reply {
    const options = this.#check;
    const answer = (status: number): Reply => {
      this.checks.push({ status });
      return status === 200 ? { status, body: { ok: true } } : { status, body: { message: 'Unauthorized' } };
    };
    if (options === null) return answer(404);
    const refused = options.refusedStatus ?? 401;
    const authorization = typeof headers.authorization === 'string' ? headers.authorization : undefined;
    if (authorization?.startsWith('Basic ') && options.basicUsers) {
      const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      const expected = Object.hasOwn(options.basicUsers, decoded.slice(0, colon))
        ? options.basicUsers[decoded.slice(0, colon)]
        : undefined;
      return answer(colon > 0 && expected !== undefined && same(decoded.slice(colon + 1), expected) ? 200 : refused);
    }
    let key: string | null;
    if (options.query !== undefined) key = url.searchParams.get(options.query);
    else {
      const raw = headers[(options.header ?? 'x-api-key').toLowerCase()];
      const prefix = options.prefix ?? '';
      key = typeof raw === 'string' && raw.startsWith(prefix) ? raw.slice(prefix.length) : null;
    }
    return answer(key !== null && this.#apiKeys.has(key) ? 200 : refused);
  }
}

function publicKey(pem: string): KeyObject {
  try {
    return createPublicKey(pem);
  } catch (error) {
    throw new RangeError('fake-provider: a publicKeyPem is not a PEM key', { cause: error });
  }
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
