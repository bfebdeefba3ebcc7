import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The key format: `evg_<id>_<secret>`. `evg_` lets a secret scanner find a leaked key; `<id>` (16 lower-case hex
 * characters, 64 random bits) is public, for lookup, display and logs; `<secret>` is 32 random bytes in base64url
 * without padding (43 characters). base64url has `_` in its alphabet, which is why the id (hex) never does: the first
 * two `_` split the key unambiguously. docs/api.md gives the scanner rule, `API_KEY_SCAN_PATTERN` below.
 */
export const API_KEY_PREFIX = 'evg_';

/** An API key id as it appears in a key, in the CLI and in the operator API. */
export const API_KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

const SECRET_BYTES = 32;
/** 32 bytes in base64url without padding: 43 characters, the last of which carries 4 bits (so it is never - or _). */
const KEY_PATTERN = /^evg_([0-9a-f]{16})_([A-Za-z0-9_-]{42}[AEIMQUYcgkosw048])$/;

/**
 * The rule for secret scanners (GitHub custom patterns, gitleaks, trufflehog): a whole key anywhere in a text. Global,
 * so `text.replace(API_KEY_SCAN_PATTERN, …)` finds every key; `lastIndex` makes `.test` stateful, use `match`.
 */
export const API_KEY_SCAN_PATTERN =
  /(?<![A-Za-z0-9])evg_[0-9a-f]{16}_[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048](?![A-Za-z0-9_-])/g;

export interface ParsedApiKey {
  id: string;
  /** The whole key as presented: what is hashed. */
  key: string;
}

export interface GeneratedApiKey {
  id: string;
  /** Shown once, to the person who created it; never stored. */
  key: string;
  /** What the store keeps. */
  secretHash: string;
}

/** A new key: random id and secret from `random` (node's CSPRNG unless a test passes its own). */
export function generateApiKey(random: (size: number) => Buffer = randomBytes): GeneratedApiKey {
  const id = random(8).toString('hex');
  const secret = random(SECRET_BYTES).toString('base64url');
  const key = `${API_KEY_PREFIX}${id}_${secret}`;
  return { id, key, secretHash: hashApiKey(key) };
}

/** The key's id, when `text` is a well-formed key; null for anything else (no exception: a bad key is a value). */
export function parseApiKey(text: string): ParsedApiKey | null {
  const match = KEY_PATTERN.exec(text);
  return match ? { id: match[1]!, key: text } : null;
}

/**
 * SHA-256 of the whole key, hex. A slow password hash (scrypt, argon2) defends low-entropy secrets against guessing
 * from a stolen hash; this secret is 256 random bits, which no guessing reaches, so one fast hash is as strong and
 * keeps verification cheap on every request. Hashing the whole key rather than the secret alone binds the hash to
 * its id: a hash copied onto another row does not verify there.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Whether `key` hashes to `storedHash`, compared in constant time (no early exit on the first differing byte). */
export function apiKeyMatches(key: string, storedHash: string): boolean {
  const presented = Buffer.from(hashApiKey(key), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  // Both are SHA-256 digests; a stored value of another length is corrupt, and timingSafeEqual needs equal lengths.
  return stored.length === presented.length && timingSafeEqual(presented, stored);
}
