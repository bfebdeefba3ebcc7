import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomFillSync } from 'node:crypto';
import { ConfigError, EvergreenError, isWellFormedText } from '@evergreen/core';

const VERSION = 'evg1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

export const KEYGEN_HINT =
  "Make a key with `pnpm keygen` (or: node -e \"console.log('k1:'+require('crypto').randomBytes(32).toString('base64'))\")" +
  ' and set EVERGREEN_ENCRYPTION_KEYS=<that output>. To rotate, put the new key first and keep the old ones after it.';

/**
 * Fresh random IVs, drawn from one CSPRNG fill per 4,096 of them. A `randomBytes(12)` call costs about 5 µs, mostly
 * the call into the system's generator; two per connection were a large share of a bulk enqueue's CPU
 * (docs/benchmarks/README.md). Each slice is handed out once; IVs are public, so holding the next ones is harmless.
 */
class IvSource {
  readonly #pool = Buffer.allocUnsafeSlow(IV_BYTES * 4_096);
  #next = this.#pool.length;

  take(): Buffer {
    if (this.#next >= this.#pool.length) {
      randomFillSync(this.#pool);
      this.#next = 0;
    }
    const iv = Buffer.from(this.#pool.subarray(this.#next, this.#next + IV_BYTES));
    this.#next += IV_BYTES;
    return iv;
  }
}

const ivs = new IvSource();

/** A ciphertext that does not open: a wrong or missing key, a corrupted value, or a value moved from another row. */
export class DecryptError extends EvergreenError {
  readonly keyId: string | null;

  constructor(reason: string, keyId: string | null) {
    super('ERR_DECRYPT', `cannot decrypt a stored token: ${reason}`);
    this.keyId = keyId;
  }
}

/**
 * A value the keyring will not seal: text UTF-8 cannot carry (a lone UTF-16 surrogate) would decrypt to something
 * else, so it is refused rather than stored changed.
 */
export class EncryptError extends EvergreenError {
  constructor(reason: string) {
    super('ERR_ENCRYPT', `cannot encrypt a token: ${reason}`);
  }
}

/**
 * DESIGN.md invariant 3: AES-256-GCM, a fresh 12-byte IV per value, the 16-byte tag, the key id inside the ciphertext
 * so keys can rotate, and associated data binding the value to its row and column, so a ciphertext copied into
 * another row fails to decrypt instead of handing one user's token to another.
 *
 * Format: `evg1.<keyId>.<base64url(iv ‖ tag ‖ ciphertext)>`.
 */
export class Keyring {
  readonly currentKeyId: string;
  readonly #keys: ReadonlyMap<string, Buffer>;
  /** Encryptions under the current key not yet added to the durable count (see `takeEncryptionCount`). */
  #uncounted = 0;

  private constructor(keys: Map<string, Buffer>, currentKeyId: string) {
    this.#keys = keys;
    this.currentKeyId = currentKeyId;
  }

  /** Parses `EVERGREEN_ENCRYPTION_KEYS`: comma-separated `id:base64` entries, 32-byte keys, the first one current. */
  static parse(spec: string | undefined, variable = 'EVERGREEN_ENCRYPTION_KEYS'): Keyring {
    if (spec === undefined || spec.trim() === '') {
      throw new ConfigError(
        [{ field: variable, reason: 'is not set; Evergreen will not store tokens unencrypted' }],
        KEYGEN_HINT,
      );
    }
    const keys = new Map<string, Buffer>();
    const issues: { field: string; reason: string }[] = [];
    const entries = spec
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '');
    entries.forEach((entry, index) => {
      const where = `${variable}[${index}]`;
      const colon = entry.indexOf(':');
      if (colon < 0) return issues.push({ field: where, reason: 'must look like <id>:<base64 of 32 bytes>' });
      const id = entry.slice(0, colon);
      const material = entry.slice(colon + 1);
      if (!KEY_ID.test(id))
        return issues.push({ field: where, reason: 'key id must be 1-32 letters, digits, "_" or "-"' });
      if (keys.has(id)) return issues.push({ field: where, reason: `key id '${id}' appears twice` });
      const key = Buffer.from(material, 'base64');
      // Buffer.from ignores junk characters; re-encoding tells a real base64 string from a lucky one.
      if (key.length !== KEY_BYTES || key.toString('base64').replace(/=+$/, '') !== material.replace(/=+$/, '')) {
        return issues.push({ field: where, reason: `key '${id}' must be exactly ${KEY_BYTES} bytes, base64-encoded` });
      }
      keys.set(id, key);
    });
    if (issues.length > 0) throw new ConfigError(issues, KEYGEN_HINT);
    const [current] = keys.keys();
    if (current === undefined) throw new ConfigError([{ field: variable, reason: 'holds no key' }], KEYGEN_HINT);
    return new Keyring(keys, current);
  }

  /** A new random key entry, ready to be put first in EVERGREEN_ENCRYPTION_KEYS. */
  static generateEntry(id = `k${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`): string {
    return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
  }

  encrypt(plaintext: string, associatedData: string): string {
    if (!isWellFormedText(plaintext)) throw new EncryptError('the value is not well-formed Unicode (a lone surrogate)');
    const key = this.#keys.get(this.currentKeyId) as Buffer;
    const iv = ivs.take();
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const packed = Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
    this.#uncounted += 1;
    return `${VERSION}.${this.currentKeyId}.${packed}`;
  }

  /**
   * How many values the current key sealed since the last call, and resets that to 0. A key may seal at most 2^32
   * values with random IVs (see `encryptionBudget`), counted across every process: the store adds these to its
   * `key_usage` table in batches, so counting costs the encryption itself nothing more than an increment.
   */
  takeEncryptionCount(): number {
    const count = this.#uncounted;
    this.#uncounted = 0;
    return count;
  }

  /** Puts back a count taken by `takeEncryptionCount` that could not be recorded, so the next attempt carries it. */
  restoreEncryptionCount(count: number): void {
    this.#uncounted += count;
  }

  decrypt(ciphertext: string, associatedData: string): string {
    const parts = ciphertext.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION) throw new DecryptError('not an Evergreen ciphertext', null);
    const keyId = parts[1] as string;
    const key = this.#keys.get(keyId);
    if (!key) throw new DecryptError(`key '${keyId}' is not in EVERGREEN_ENCRYPTION_KEYS`, keyId);
    const packed = Buffer.from(parts[2] as string, 'base64url');
    if (packed.length < IV_BYTES + TAG_BYTES) throw new DecryptError('value is truncated', keyId);
    const decipher = createDecipheriv('aes-256-gcm', key, packed.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(packed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    try {
      return Buffer.concat([decipher.update(packed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new DecryptError('authentication failed (wrong key, corrupted value, or a value from another row)', keyId);
    }
  }

  /** Which key sealed a value, without opening it: lets a rotation find the rows still on an old key. */
  static keyIdOf(ciphertext: string): string | null {
    const parts = ciphertext.split('.');
    return parts.length === 3 && parts[0] === VERSION ? (parts[1] as string) : null;
  }

  /**
   * A key for another purpose (hashing owner ids in logs), derived with HKDF-SHA256 from the current key so there
   * is no second secret to manage.
   */
  deriveKey(purpose: string): Buffer {
    const key = this.#keys.get(this.currentKeyId) as Buffer;
    return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), `evergreen:${purpose}`, 32));
  }
}

/** Associated data for one token column of one connection row. */
export function tokenAad(
  connectionId: string,
  column: 'access_token' | 'refresh_token' | 'previous_refresh_token' | 'credentials',
): string {
  return `${connectionId}/${column}`;
}
