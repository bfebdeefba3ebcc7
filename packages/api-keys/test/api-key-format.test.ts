import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_ID_PATTERN,
  API_KEY_SCAN_PATTERN,
  apiKeyMatches,
  generateApiKey,
  hashApiKey,
  parseApiKey,
} from '../src/api-key-format.ts';

const scan = (text: string) => text.match(API_KEY_SCAN_PATTERN) ?? [];

describe('the API key format', () => {
  it('is evg_, a 16-hex-character id, _, and 32 random bytes in base64url; only the hash of the key is kept', () => {
    const { id, key, secretHash } = generateApiKey();
    expect(key).toMatch(/^evg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(id).toMatch(API_KEY_ID_PATTERN);
    expect(key.startsWith(`evg_${id}_`)).toBe(true);
    expect(Buffer.from(key.slice(`evg_${id}_`.length), 'base64url')).toHaveLength(32);
    expect(secretHash).toBe(hashApiKey(key));
    expect(secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(secretHash).not.toContain(key.slice(-43));
  });

  it('draws a new id and secret every time', () => {
    const keys = Array.from({ length: 200 }, () => generateApiKey());
    expect(new Set(keys.map((k) => k.id)).size).toBe(200);
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
  });

  it('parses every generated key back to its id, whatever characters its secret drew', () => {
    for (let i = 0; i < 500; i++) {
      const { id, key } = generateApiKey();
      expect(parseApiKey(key)).toEqual({ id, key });
    }
  });

  const valid = generateApiKey().key;
  it.each([
    ['empty', ''],
    ['the prefix alone', 'evg_'],
    ['another prefix', valid.replace(/^evg_/, 'evx_')],
    ['an upper-case id', valid.replace(/^evg_[0-9a-f]{16}/, 'evg_0123456789ABCDEF')],
    ['a short id', valid.replace(/^evg_[0-9a-f]{16}/, 'evg_abc')],
    ['a short secret', valid.slice(0, -1)],
    ['a long secret', `${valid}A`],
    ['a secret with padding', `${valid.slice(0, -1)}=`],
    ['a non-canonical last character', `${valid.slice(0, -1)}B`],
    ['whitespace around it', ` ${valid}`],
    ['a Bearer header instead of the key', `Bearer ${valid}`],
    ['a standard-base64 character', `${valid.slice(0, 30)}+${valid.slice(31)}`],
  ])('refuses %s (null, no exception)', (_what, text) => {
    expect(parseApiKey(text)).toBeNull();
  });

  it('matches a key against its stored hash, and nothing else', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(apiKeyMatches(a.key, a.secretHash)).toBe(true);
    expect(apiKeyMatches(b.key, a.secretHash)).toBe(false);
    // The same secret under another id: the hash covers the whole key, so a copied hash does not carry over.
    const moved = a.key.replace(a.id, b.id);
    expect(apiKeyMatches(moved, a.secretHash)).toBe(false);
    // A stored value that is not a SHA-256 digest never matches (and does not throw in timingSafeEqual).
    expect(apiKeyMatches(a.key, a.secretHash.slice(2))).toBe(false);
    expect(apiKeyMatches(a.key, '')).toBe(false);
  });

  it('gives secret scanners a rule that finds a key in any text, and nothing that only looks like one', () => {
    const { key } = generateApiKey();
    expect(scan(key)).toEqual([key]);
    expect(scan(`EVERGREEN_API_KEY=${key}\n`)).toEqual([key]);
    expect(scan(`"apiKey":"${key}"`)).toEqual([key]);
    expect(scan(`Authorization: Bearer ${key}`)).toEqual([key]);
    expect(scan(`${key} and ${generateApiKey().key}`)).toHaveLength(2);
    expect(scan(`${key}A`)).toEqual([]); // longer than a key: not one
    expect(scan(`x${key}`)).toEqual([]); // glued to a word: not one
    expect(scan(key.slice(0, -2))).toEqual([]);
    expect(scan(`evg1.test1.${randomBytes(40).toString('base64url')}`)).toEqual([]); // a keyring ciphertext
  });

  it('takes its randomness from the source it is given', () => {
    const zeros = (size: number) => Buffer.alloc(size);
    expect(generateApiKey(zeros).key).toBe(`evg_0000000000000000_${Buffer.alloc(32).toString('base64url')}`);
  });
});
