import { createHash, timingSafeEqual } from 'node:crypto';
import type { BoardAuth } from '@evergreen/config';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Equal-length digests compared in constant time: neither the length nor a prefix of the secret leaks. */
const same = (given: string, expected: Buffer): boolean => timingSafeEqual(digest(given), expected);

export interface AuthCheck {
  /** Whether the Authorization header carries the configured bearer token or basic credentials. */
  accepts(header: string | undefined): boolean;
  /** The challenges to send with a 401. */
  challenges: string[];
  /** False when running without credentials (dev mode on loopback). */
  required: boolean;
}

export function authCheck(auth: BoardAuth, realm = 'evergreen-board'): AuthCheck {
  const token = auth.token !== undefined ? digest(auth.token) : null;
  const basic =
    auth.user !== undefined && auth.password !== undefined
      ? { user: digest(auth.user), password: digest(auth.password) }
      : null;
  const challenges: string[] = [];
  if (token) challenges.push(`Bearer realm="${realm}"`);
  if (basic) challenges.push(`Basic realm="${realm}", charset="UTF-8"`);

  return {
    required: token !== null || basic !== null,
    challenges,
    accepts(header) {
      if (header === undefined) return false;
      const match = /^(\w+)[ \t]+(\S+)[ \t]*$/.exec(header);
      if (!match) return false;
      const scheme = match[1]!.toLowerCase();
      const credentials = match[2]!;
      if (scheme === 'bearer') return token !== null && same(credentials, token);
      if (scheme === 'basic' && basic) {
        const decoded = Buffer.from(credentials, 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) return false;
        // Both compared every time, so the answer's timing does not tell a right user name from a wrong one.
        const userOk = same(decoded.slice(0, colon), basic.user);
        const passwordOk = same(decoded.slice(colon + 1), basic.password);
        return userOk && passwordOk;
      }
      return false;
    },
  };
}
