import type { KeyObject } from 'node:crypto';
import { decodeCompactJws, signatureOk } from './jws.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

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

    const jws = decodeCompactJws(assertion);
    if (jws === null) return fail('not a compact JWS');
    if (!signatureOk(jws, this.#publicKey)) return fail('signature');
    const { claims } = jws;
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
}

function fail(why: string): AssertionResult {
  return { kind: 'invalid_client', why };
}
