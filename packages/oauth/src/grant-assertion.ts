import { createPrivateKey, randomUUID } from 'node:crypto';
import type { ConnectionCredentials, ProviderDefinition } from '@evergreen/core';
import { SignJWT } from 'jose';

/** How long a grant's assertion may be used: short, since it is signed anew for each request. */
const ASSERTION_LIFETIME_S = 120;
/** GitHub: an app JWT may live at most 10 minutes; its iat is put 60 s back for clock drift (GitHub's advice). */
const APP_JWT_BACKDATE_S = 60;
const APP_JWT_LIFETIME_S = 9 * 60;

/** The claims a jwt_bearer assertion carries beyond the standard ones. */
export interface AssertionClaims {
  /** `aud`, already filled in from the connection's metadata. */
  audience: string;
  /** The connection's scopes, when the provider takes them as a claim (Google). */
  scope?: string;
}

/**
 * RFC 7523 §2.1 and §3: a jwt_bearer grant's assertion, signed with the connection's key (jose): iss, sub, aud, iat,
 * exp two minutes on, a fresh jti. Throws (without the key in the message) when the key cannot sign; the token client
 * turns that into an answer.
 */
export async function signGrantAssertion(
  provider: Pick<ProviderDefinition, 'clientId' | 'privateKey' | 'privateKeyAlgorithm' | 'keyId'>,
  credentials: ConnectionCredentials,
  claims: AssertionClaims,
  now: number,
): Promise<string> {
  const algorithm = credentials.algorithm ?? provider.privateKeyAlgorithm;
  const key = signingKey(credentials.privateKey ?? provider.privateKey);
  const keyId = credentials.keyId ?? (credentials.privateKey === undefined ? provider.keyId : null);
  const iat = Math.floor(now / 1000);
  const jwt = new SignJWT(claims.scope === undefined ? {} : { scope: claims.scope })
    .setProtectedHeader({ alg: algorithm, typ: 'JWT', ...(keyId && { kid: keyId }) })
    .setIssuer(credentials.issuer ?? provider.clientId ?? '')
    .setAudience(claims.audience)
    .setJti(randomUUID())
    .setIssuedAt(iat)
    .setExpirationTime(iat + ASSERTION_LIFETIME_S);
  if (credentials.subject !== undefined) jwt.setSubject(credentials.subject);
  return jwt.sign(key);
}

/**
 * GitHub's app JWT: RS256, iss the App's id (or client id), iat 60 s in the past, exp within 10 minutes. The key is
 * the connection's, else the provider entry's.
 */
export async function signAppJwt(
  provider: Pick<ProviderDefinition, 'clientId' | 'privateKey'>,
  credentials: ConnectionCredentials,
  now: number,
): Promise<string> {
  const iat = Math.floor(now / 1000) - APP_JWT_BACKDATE_S;
  return new SignJWT({})
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
    .setIssuer(credentials.appId ?? provider.clientId ?? '')
    .setIssuedAt(iat)
    .setExpirationTime(iat + APP_JWT_BACKDATE_S + APP_JWT_LIFETIME_S)
    .sign(signingKey(credentials.privateKey ?? provider.privateKey));
}

/** PKCS#8 or PKCS#1 PEM, through node:crypto (jose's importPKCS8 reads PKCS#8 only, and GitHub issues PKCS#1). */
function signingKey(pem: string | null | undefined) {
  if (!pem) throw new GrantKeyMissing();
  return createPrivateKey(pem);
}

class GrantKeyMissing extends Error {
  constructor() {
    super('no private key to sign the grant assertion with');
    this.name = 'GrantKeyMissing';
  }
}
