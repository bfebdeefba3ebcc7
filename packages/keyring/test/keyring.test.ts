import { randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { ConfigError } from '@evergreen/core';
import { DecryptError, KEYGEN_HINT, Keyring, tokenAad } from '../src/index.ts';

const key = (bytes = 32) => randomBytes(bytes).toString('base64');
const OLD = `old:${key()}`;
const NEW = `new:${key()}`;
const ring = Keyring.parse(OLD);

const CONN = 'conn_123';
const AAD = tokenAad(CONN, 'refresh_token');
const PLAINTEXT = 'rt_Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdoaWo';

function configError(spec: string | undefined): ConfigError {
  try {
    Keyring.parse(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected Keyring.parse to throw');
}

function decryptError(fn: () => unknown): DecryptError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptError);
    return error as DecryptError;
  }
  throw new Error('expected decrypt to throw');
}

/** Flips one bit of the packed bytes (iv ‖ tag ‖ ciphertext) at `index`. */
function tamper(ciphertext: string, index: number): string {
  const [version, keyId, packed] = ciphertext.split('.') as [string, string, string];
  const bytes = Buffer.from(packed, 'base64url');
  bytes[index] = (bytes[index] as number) ^ 0x01;
  return `${version}.${keyId}.${bytes.toString('base64url')}`;
}

describe('Keyring', () => {
  describe('round trip', () => {
    it('decrypts what it encrypted', () => {
      expect(ring.decrypt(ring.encrypt(PLAINTEXT, AAD), AAD)).toBe(PLAINTEXT);
    });

    it('round-trips the empty string, non-ASCII text and a 16 KiB token', () => {
      for (const text of ['', 'jeton-é-ü-中文-🔑', 'x'.repeat(16_384)])
        expect(ring.decrypt(ring.encrypt(text, AAD), AAD)).toBe(text);
    });

    it('produces evg1.<keyId>.<base64url> with a 12-byte IV and a 16-byte tag before the ciphertext', () => {
      const sealed = ring.encrypt(PLAINTEXT, AAD);
      const parts = sealed.split('.');
      expect(parts).toHaveLength(3);
      expect(parts[0]).toBe('evg1');
      expect(parts[1]).toBe('old');
      expect(parts[2]).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(parts[2] as string, 'base64url').length).toBe(12 + 16 + Buffer.byteLength(PLAINTEXT));
    });
  });

  describe('associated data', () => {
    it('binds a value to its connection: decrypting with another connection id fails with DecryptError', () => {
      const sealed = ring.encrypt(PLAINTEXT, tokenAad('conn_A', 'refresh_token'));
      const error = decryptError(() => ring.decrypt(sealed, tokenAad('conn_B', 'refresh_token')));
      expect(error.code).toBe('ERR_DECRYPT');
      expect(error.keyId).toBe('old');
    });

    it('binds a value to its column: a refresh token cannot be read as the access token', () => {
      const sealed = ring.encrypt(PLAINTEXT, tokenAad(CONN, 'refresh_token'));
      decryptError(() => ring.decrypt(sealed, tokenAad(CONN, 'access_token')));
    });

    it('tokenAad joins connection id and column', () => {
      expect(tokenAad('c1', 'access_token')).toBe('c1/access_token');
      expect(tokenAad('c1', 'refresh_token')).toBe('c1/refresh_token');
    });
  });

  describe('IV randomness', () => {
    it('seals the same plaintext twice into different ciphertexts, both decrypting', () => {
      const a = ring.encrypt(PLAINTEXT, AAD);
      const b = ring.encrypt(PLAINTEXT, AAD);
      expect(a).not.toBe(b);
      const ivA = Buffer.from(a.split('.')[2] as string, 'base64url').subarray(0, 12);
      const ivB = Buffer.from(b.split('.')[2] as string, 'base64url').subarray(0, 12);
      expect(ivA.equals(ivB)).toBe(false);
      expect(ring.decrypt(a, AAD)).toBe(PLAINTEXT);
      expect(ring.decrypt(b, AAD)).toBe(PLAINTEXT);
    });

    it('never repeats an IV over many encryptions, across refills of the pooled random source', () => {
      const ivs = new Set<string>();
      // 10,000 spans two refills of the 4,096-IV pool: a refill that failed to happen would repeat a whole run.
      for (let i = 0; i < 10_000; i++) ivs.add(ring.encrypt('x', AAD).split('.')[2]?.slice(0, 16) as string);
      expect(ivs.size).toBe(10_000);
    });
  });

  describe('rotation', () => {
    const rotated = Keyring.parse(`${NEW},${OLD}`);

    it('a ring "new,old" decrypts values sealed by a ring "old"', () => {
      const sealed = ring.encrypt(PLAINTEXT, AAD);
      expect(rotated.decrypt(sealed, AAD)).toBe(PLAINTEXT);
    });

    it('encrypts with the first key', () => {
      expect(rotated.currentKeyId).toBe('new');
      expect(Keyring.keyIdOf(rotated.encrypt(PLAINTEXT, AAD))).toBe('new');
    });

    it('a ring holding only the old key cannot read values sealed with the new one, and says which key is missing', () => {
      const error = decryptError(() => ring.decrypt(rotated.encrypt(PLAINTEXT, AAD), AAD));
      expect(error.keyId).toBe('new');
      expect(error.message).toContain("key 'new' is not in EVERGREEN_ENCRYPTION_KEYS");
    });

    it('keyIdOf names the sealing key without decrypting', () => {
      expect(Keyring.keyIdOf(ring.encrypt(PLAINTEXT, AAD))).toBe('old');
    });

    it('keyIdOf returns null for anything that is not an Evergreen ciphertext', () => {
      for (const text of ['', PLAINTEXT, 'evg1.k1', 'evg2.k1.abc', 'evg1.k1.abc.def', 'a.b.c'])
        expect(Keyring.keyIdOf(text)).toBeNull();
    });

    it('a different key under the same id does not decrypt', () => {
      const impostor = Keyring.parse(`old:${key()}`);
      decryptError(() => impostor.decrypt(ring.encrypt(PLAINTEXT, AAD), AAD));
    });
  });

  describe('tampering', () => {
    it('a flipped bit in the IV, the tag or the ciphertext fails with DecryptError', () => {
      const sealed = ring.encrypt(PLAINTEXT, AAD);
      for (const index of [0, 11, 12, 27, 28, 12 + 16 + Buffer.byteLength(PLAINTEXT) - 1]) {
        const error = decryptError(() => ring.decrypt(tamper(sealed, index), AAD));
        expect(error.message).toContain('authentication failed');
      }
    });

    it('a value truncated below IV plus tag fails with DecryptError', () => {
      const sealed = ring.encrypt(PLAINTEXT, AAD);
      const [version, keyId, packed] = sealed.split('.') as [string, string, string];
      const short = Buffer.from(packed, 'base64url').subarray(0, 20).toString('base64url');
      expect(decryptError(() => ring.decrypt(`${version}.${keyId}.${short}`, AAD)).message).toContain('truncated');
    });

    it('a value with its ciphertext cut off fails with DecryptError', () => {
      const sealed = ring.encrypt(PLAINTEXT, AAD);
      decryptError(() => ring.decrypt(sealed.slice(0, -4), AAD));
    });

    it('a value that is not an Evergreen ciphertext fails with DecryptError and no key id', () => {
      for (const text of ['', PLAINTEXT, 'evg0.old.AAAA', 'evg1.old', 'evg1.old.a.b']) {
        expect(decryptError(() => ring.decrypt(text, AAD)).keyId).toBeNull();
      }
    });

    it('a DecryptError never repeats the associated data or the value', () => {
      const sealed = ring.encrypt(PLAINTEXT, AAD);
      const error = decryptError(() => ring.decrypt(tamper(sealed, 30), 'conn_secret_aad/refresh_token'));
      expect(error.message).not.toContain(sealed.split('.')[2] as string);
      expect(error.message).not.toContain('conn_secret_aad');
    });
  });

  describe('secrecy of the ciphertext', () => {
    it('contains no substring of the plaintext, raw or base64-encoded', () => {
      const sealed = ring.encrypt(PLAINTEXT, AAD);
      for (let i = 0; i + 8 <= PLAINTEXT.length; i++) expect(sealed).not.toContain(PLAINTEXT.slice(i, i + 8));
      expect(sealed).not.toContain(Buffer.from(PLAINTEXT).toString('base64url').slice(0, 12));
      expect(sealed).not.toContain(Buffer.from(PLAINTEXT).toString('base64').slice(0, 12));
    });

    it('does not contain the associated data', () => {
      expect(ring.encrypt(PLAINTEXT, AAD)).not.toContain(CONN);
    });
  });

  describe('parsing EVERGREEN_ENCRYPTION_KEYS', () => {
    function expectConfigError(spec: string | undefined, reason: RegExp): void {
      const error = configError(spec);
      expect(error.code).toBe('ERR_CONFIG');
      expect(error.message).toContain('EVERGREEN_ENCRYPTION_KEYS');
      expect(error.message).toContain(KEYGEN_HINT);
      expect(error.message).toContain('pnpm keygen');
      expect(error.issues.map((i) => i.reason).join('\n')).toMatch(reason);
    }

    it('refuses a missing, empty or blank value, with the keygen hint', () => {
      expectConfigError(undefined, /is not set/);
      expectConfigError('', /is not set/);
      expectConfigError('   ', /is not set/);
    });

    it('refuses a value holding only commas', () => {
      expectConfigError(',, ,', /holds no key/);
    });

    it('refuses an entry without "id:"', () => {
      expectConfigError(key(), /must look like <id>:<base64 of 32 bytes>/);
    });

    it('refuses a bad key id', () => {
      expectConfigError(`bad id:${key()}`, /key id must be/);
      expectConfigError(`:${key()}`, /key id must be/);
      expectConfigError(`${'k'.repeat(33)}:${key()}`, /key id must be/);
      expectConfigError(`a.b:${key()}`, /key id must be/);
    });

    it('refuses a key of the wrong length', () => {
      expectConfigError(`k1:${key(16)}`, /exactly 32 bytes/);
      expectConfigError(`k1:${key(31)}`, /exactly 32 bytes/);
      expectConfigError(`k1:${key(33)}`, /exactly 32 bytes/);
      expectConfigError('k1:', /exactly 32 bytes/);
    });

    it('refuses key material that is not clean base64', () => {
      const material = key();
      expectConfigError(`k1:${material.slice(0, 10)}!!${material.slice(10)}`, /exactly 32 bytes, base64/);
      expectConfigError(`k1:${Buffer.from(randomBytes(32)).toString('hex')}`, /exactly 32 bytes/);
    });

    it('refuses a duplicate key id', () => {
      expectConfigError(`k1:${key()},k1:${key()}`, /key id 'k1' appears twice/);
    });

    it('names the offending entry by its index, and every bad entry at once', () => {
      const error = configError(`good:${key()},bad,k3:${key(8)}`);
      expect(error.issues.map((i) => i.field)).toEqual([
        'EVERGREEN_ENCRYPTION_KEYS[1]',
        'EVERGREEN_ENCRYPTION_KEYS[2]',
      ]);
    });

    it('never repeats key material in the error', () => {
      const material = key(30);
      expect(configError(`k1:${material}`).message).not.toContain(material);
      const good = key();
      expect(configError(`k1:${good},k1:${good}`).message).not.toContain(good);
    });

    it('accepts surrounding whitespace, a trailing comma and unpadded base64', () => {
      const material = key();
      const parsed = Keyring.parse(` k1:${material.replace(/=+$/, '')} , k2:${key()} ,`);
      expect(parsed.currentKeyId).toBe('k1');
      expect(Keyring.parse(`k1:${material}`).decrypt(parsed.encrypt(PLAINTEXT, AAD), AAD)).toBe(PLAINTEXT);
    });

    it('names another variable when asked to', () => {
      const error = configError(undefined);
      expect(error.issues[0]?.field).toBe('EVERGREEN_ENCRYPTION_KEYS');
      let caught: unknown;
      try {
        Keyring.parse(undefined, 'OTHER_KEYS');
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).issues[0]?.field).toBe('OTHER_KEYS');
    });
  });

  describe('generateEntry', () => {
    it('makes an entry that parses, with the given id', () => {
      const entry = Keyring.generateEntry('k9');
      expect(entry).toMatch(/^k9:/);
      expect(Keyring.parse(entry).currentKeyId).toBe('k9');
    });

    it('defaults the id to k<YYYYMMDD>', () => {
      expect(Keyring.generateEntry()).toMatch(/^k\d{8}:/);
      expect(() => Keyring.parse(Keyring.generateEntry())).not.toThrow();
    });

    it('makes a new key every time', () => {
      expect(Keyring.generateEntry('a')).not.toBe(Keyring.generateEntry('a'));
    });
  });

  describe('deriveKey', () => {
    it('is deterministic: the same keys and purpose give the same 32 bytes', () => {
      const again = Keyring.parse(OLD);
      const a = ring.deriveKey('owner-hash');
      expect(a).toHaveLength(32);
      expect(a.equals(again.deriveKey('owner-hash'))).toBe(true);
    });

    it('depends on the purpose', () => {
      expect(ring.deriveKey('owner-hash').equals(ring.deriveKey('something-else'))).toBe(false);
    });

    it('depends on the current key', () => {
      expect(ring.deriveKey('owner-hash').equals(Keyring.parse(NEW).deriveKey('owner-hash'))).toBe(false);
      expect(
        Keyring.parse(`${NEW},${OLD}`).deriveKey('owner-hash').equals(Keyring.parse(NEW).deriveKey('owner-hash')),
      ).toBe(true);
    });

    it('is not the encryption key itself', () => {
      const material = OLD.slice(OLD.indexOf(':') + 1);
      expect(ring.deriveKey('owner-hash').toString('base64')).not.toBe(material);
    });
  });
});
