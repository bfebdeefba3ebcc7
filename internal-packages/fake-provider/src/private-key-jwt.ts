import { verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export type AssertionResult = { kind: 'ok' } | { kind: 'invalid_client'; why: string };

/**
 * RFC 7523 §2.2 / §3 client authentication: `client_assertion_type` and a `client_assertion` JWT signed with the
 * client's private key. Strict on purpose (signature, iss, sub, aud, exp, nbf, single-use jti), like a real server.
 */
export class PrivateKeyJwtVerifier {
  readonly #publicKey: KeyObject;
  readonly #clientId: string;
  readonly #audience: string;
  readonly #now: () => number;
  // Every jti ever accepted: a test server lives for seconds, so there is no need to forget expired ones.
  readonly #seenJti = new Set<string>();

  constructor(publicKey: KeyObject, clientId: string, audience: string, now: () => number = Date.now) {
    this.#publicKey = publicKey;
    this.#clientId = clientId;
    this.#audience = audience;
    this.#now = now;
  }

  authenticate(authorization: string | undefined, params: ReadonlyMap<string, string>): AssertionResult {
    // The only method accepted: a client that also (or instead) sends a secret is misconfigured.
    if (authorization !== undefined) return fail('an Authorization header was sent');
    if (params.has('client_secret')) return fail('a client_secret was sent');
    if (params.get('client_assertion_type') !== JWT_BEARER_ASSERTION) return fail('client_assertion_type');
    const assertion = params.get('client_assertion');
    if (assertion === undefined) return fail('no client_assertion');
    const clientId = params.get('client_id');
    if (clientId !== undefined && clientId !== this.#clientId) return fail('client_id names another client');

    const parts = assertion.split('.');
    if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) return fail('not a compact JWS');
    const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
    const header = decodeJson(headerPart);
    const claims = decodeJson(payloadPart);
    if (header === null || claims === null) return fail('header or payload is not a JSON object');

    if (!this.#signatureOk(header.alg, `${headerPart}.${payloadPart}`, Buffer.from(signaturePart, 'base64url'))) {
      return fail('signature');
    }
    if (claims.iss !== this.#clientId) return fail('iss');
    if (claims.sub !== this.#clientId) return fail('sub');
    const aud = claims.aud;
    const audOk = aud === this.#audience || (Array.isArray(aud) && aud.includes(this.#audience));
    if (!audOk) return fail('aud');
    const nowSeconds = this.#now() / 1000;
    if (typeof claims.exp !== 'number' || !(claims.exp > nowSeconds)) return fail('exp');
    if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && claims.nbf <= nowSeconds)) return fail('nbf');
    if (typeof claims.jti !== 'string' || claims.jti === '') return fail('jti');
    // RFC 7523 §3 item 7: the server may (and this one does) refuse a jti it has already seen.
    if (this.#seenJti.has(claims.jti)) return fail('jti replayed');
    this.#seenJti.add(claims.jti);
    return { kind: 'ok' };
  }

  #signatureOk(alg: unknown, signingInput: string, signature: Buffer): boolean {
    const keyType = this.#publicKey.asymmetricKeyType;
    const data = Buffer.from(signingInput);
    try {
      // The algorithm must match the registered key: trusting `alg` alone is the classic JWT confusion bug.
      if (alg === 'RS256' && keyType === 'rsa') return verify('sha256', data, this.#publicKey, signature);
      if (alg === 'ES256' && keyType === 'ec') {
        // JWS carries ECDSA signatures as raw r||s (RFC 7518 §3.4), not DER.
        return (
          signature.length === 64 &&
          verify('sha256', data, { key: this.#publicKey, dsaEncoding: 'ieee-p1363' }, signature)
        );
      }
    } catch {
      return false;
    }
    return false;
  }
}

function decodeJson(segment: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

function fail(why: string): AssertionResult {
  return { kind: 'invalid_client', why };
}
