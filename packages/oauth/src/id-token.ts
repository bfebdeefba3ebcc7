import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';

export interface IdTokenExpectations {
  issuer: string;
  /** The client id: the token's audience (OpenID Connect Core §3.1.3.7 item 3). */
  clientId: string;
  /** The nonce the authorization request carried (item 11). */
  nonce: string | null;
  jwksUri: string;
}

export type IdTokenCheck =
  | { ok: true; claims: JWTPayload }
  /** Why, as a stable code; never the token or its claims. */
  | { ok: false; reason: 'signature' | 'issuer' | 'audience' | 'expired' | 'nonce' | 'malformed' | 'jwks_unavailable' };

/**
 * OpenID Connect Core §3.1.3.7 with jose: the signature against the issuer's JWKS (fetched once per URI and cached by
 * jose, refetched on an unknown `kid`), `iss`, `aud` (and `azp` when several audiences), `exp`, and the session's nonce.
 */
export class IdTokenVerifier {
  readonly #keySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  readonly #timeoutMs: number;

  constructor(options: { timeoutMs: number }) {
    this.#timeoutMs = options.timeoutMs;
  }

  async verify(idToken: string, expected: IdTokenExpectations): Promise<IdTokenCheck> {
    let keys = this.#keySets.get(expected.jwksUri);
    if (!keys) {
      keys = createRemoteJWKSet(new URL(expected.jwksUri), { timeoutDuration: this.#timeoutMs });
      this.#keySets.set(expected.jwksUri, keys);
    }
    let claims: JWTPayload;
    try {
      ({ payload: claims } = await jwtVerify(idToken, keys, {
        issuer: expected.issuer,
        audience: expected.clientId,
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
        clockTolerance: 30,
      }));
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
    if (Array.isArray(claims.aud) && claims.aud.length > 1 && claims.azp !== expected.clientId) {
      return { ok: false, reason: 'audience' };
    }
    if (expected.nonce !== null && claims.nonce !== expected.nonce) return { ok: false, reason: 'nonce' };
    return { ok: true, claims };
  }
}

function reasonOf(error: unknown): Exclude<IdTokenCheck, { ok: true }>['reason'] {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'iss') return 'issuer';
    if (error.claim === 'aud') return 'audience';
    return 'malformed';
  }
  if (error instanceof errors.JWKSTimeout || (error instanceof errors.JOSEError && error.code === 'ERR_JWKS_INVALID')) {
    return 'jwks_unavailable';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
    return 'signature';
  }
  if (
    error instanceof errors.JWTInvalid ||
    error instanceof errors.JWSInvalid ||
    error instanceof errors.JOSEAlgNotAllowed
  ) {
    return 'malformed';
  }
  // A JWKS that could not be fetched (network, non-200): jose rethrows the fetch failure.
  return 'jwks_unavailable';
}

/** The id_token of a token response (JSON, or form-encoded), or null. The body never leaves this function otherwise. */
export function readIdToken(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as unknown;
    if (typeof parsed === 'object' && parsed !== null) {
      const value = (parsed as Record<string, unknown>).id_token;
      return typeof value === 'string' && value.length > 0 ? value : null;
    }
  } catch {
    const value = new URLSearchParams(body).get('id_token');
    return value && value.length > 0 ? value : null;
  }
  return null;
}
