import { randomBytes } from 'node:crypto';

/**
 * A well-formed JWT for the non-OAuth login endpoint: `base64url(header).base64url({ sub, exp }).signature`. The
 * signature is random bytes (nobody can or should verify it); the point is that the client must read the expiry
 * from `exp`, because the login answer carries nothing else.
 */
export function mintLoginJwt(subject: string, expSeconds: number): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ sub: subject, exp: expSeconds })).toString('base64url');
  return `${header}.${payload}.${randomBytes(32).toString('base64url')}`;
}
