import { constants, verify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

const SEGMENT = /^[A-Za-z0-9_-]+$/;

export interface DecodedJws {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

/** A compact JWS split and decoded, unverified; null when it is not one. */
export function decodeCompactJws(token: string): DecodedJws | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => SEGMENT.test(part))) return null;
  const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
  const header = decodeJson(headerPart);
  const claims = decodeJson(payloadPart);
  if (header === null || claims === null) return null;
  return {
    header,
    claims,
    signingInput: `${headerPart}.${payloadPart}`,
    signature: Buffer.from(signaturePart, 'base64url'),
  };
}

/**
 * RS256, PS256 (RSA keys) and ES256 (P-256) signatures. The algorithm must match the registered key: trusting `alg`
 * alone is the classic JWT confusion bug.
 */
export function signatureOk(jws: DecodedJws, publicKey: KeyObject): boolean {
  const alg = jws.header.alg;
  const keyType = publicKey.asymmetricKeyType;
  const data = Buffer.from(jws.signingInput);
  try {
    if (alg === 'RS256' && keyType === 'rsa') return verify('sha256', data, publicKey, jws.signature);
    if (alg === 'PS256' && (keyType === 'rsa' || keyType === 'rsa-pss')) {
      // RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
      return verify(
        'sha256',
        data,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        jws.signature,
      );
    }
    if (alg === 'ES256' && keyType === 'ec') {
      // JWS carries ECDSA signatures as raw r||s (RFC 7518 §3.4), not DER.
      return (
        jws.signature.length === 64 &&
        verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, jws.signature)
      );
    }
  } catch {
    return false;
  }
  return false;
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
