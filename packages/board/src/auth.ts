import { createHash, timingSafeEqual } from 'node:crypto';
import type { BoardAuth } from '@evergreen/config';

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** Equal-length digests compared in constant time: neither the length nor a prefix of the secret leaks. */
const same = (given: string, expected: Buffer): boolean => timingSafeEqual(digest(given), expected);

/** One login attempt as it may be logged: the scheme and a basic user name, never the secret. */
export interface AuthAttempt {
  accepted: boolean;
  /** `bearer`, `basic` or `other`; null when the header is missing or malformed. */
  scheme: string | null;
  /** The user name of basic credentials, cut to 64 characters. */
  user?: string;
}

export interface AuthCheck {
  /** Whether the Authorization header carries the configured bearer token or basic credentials. */
  accepts(header: string | undefined): boolean;
  /** The same, with what a failure log line may say about the attempt. */
  verify(header: string | undefined): AuthAttempt;
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

  const verify = (header: string | undefined): AuthAttempt => {
    if (header === undefined) return { accepted: false, scheme: null };
    const match = /^(\w+)[ \t]+(\S+)[ \t]*$/.exec(header);
    if (!match) return { accepted: false, scheme: null };
    const scheme = match[1]!.toLowerCase();
    const credentials = match[2]!;
    if (scheme === 'bearer') return { accepted: token !== null && same(credentials, token), scheme };
    if (scheme === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return { accepted: false, scheme };
      const user = decoded.slice(0, colon).slice(0, 64);
      if (!basic) return { accepted: false, scheme, user };
      // Both compared every time, so the answer's timing does not tell a right user name from a wrong one.
      const userOk = same(decoded.slice(0, colon), basic.user);
      const passwordOk = same(decoded.slice(colon + 1), basic.password);
      return { accepted: userOk && passwordOk, scheme, user };
    }
    // Another scheme's word is logged as "other": a client that put its secret first would otherwise have it logged.
    return { accepted: false, scheme: 'other' };
  };

  return {
    required: token !== null || basic !== null,
    challenges,
    verify,
    accepts: (header) => verify(header).accepted,
  };
}
