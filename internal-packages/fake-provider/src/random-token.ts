import { randomBytes } from 'node:crypto';

/**
 * Opaque random tokens. The prefix is not decoration: secret scans in the test suites grep logs and databases for
 * `at_` / `rt_` followed by base64url, so every token this server mints must be recognisable on sight.
 */
export type TokenPrefix = 'at_' | 'rt_' | 'grant_';

export function randomToken(prefix: TokenPrefix, bytes = 32): string {
  return `${prefix}${randomBytes(bytes).toString('base64url')}`;
}
