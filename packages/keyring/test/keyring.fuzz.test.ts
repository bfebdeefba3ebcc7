import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, EvergreenError } from '@evergreen/core';
import { DecryptError, EncryptError, Keyring, tokenAad } from '../src/index.ts';

/**
 * Property tests of DESIGN.md invariant 3: whatever string goes in comes out exactly, bound to its row and column;
 * anything else presented as a ciphertext (tampered, truncated, moved, under another key) is a DecryptError, never a
 * wrong plaintext.
 */

const entry = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;
const OLD = entry('old');
const NEW = entry('new');
const ring = Keyring.parse(`${NEW},${OLD}`);
const oldRing = Keyring.parse(OLD);
const otherRing = Keyring.parse(`new:${randomBytes(32).toString('base64')}`);

/** Any well-formed text: every code point, ASCII control characters, NULs, emoji, combining marks, long values. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ unit: 'binary-ascii', maxLength: 300 }),
  fc.string({ unit: 'grapheme-ascii', minLength: 4_000, maxLength: 17_000 }),
);
/** Any UTF-16 string at all, lone surrogates included: what a JSON `"\ud800"` escape or a careless caller can make. */
const utf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 80,
});
const connectionId = fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/);
const column = fc.constantFrom<Parameters<typeof tokenAad>[1]>(
  'access_token',
  'refresh_token',
  'previous_refresh_token',
  'credentials',
);
const aad = fc.oneof(
  fc.tuple(connectionId, column).map(([id, col]) => tokenAad(id, col)),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

function decryptOrError(keyring: Keyring, ciphertext: string, associatedData: string): string | DecryptError {
  try {
    return keyring.decrypt(ciphertext, associatedData);
  } catch (error) {
    expect(error).toBeInstanceOf(DecryptError);
    return error as DecryptError;
  }
}

describe('Keyring, fuzzed', () => {
  it('decrypts exactly what it encrypted, for any text and any associated data', () => {
    fc.assert(
      fc.property(text, aad, (plaintext, ad) => {
        const sealed = ring.encrypt(plaintext, ad);
        expect(sealed).toMatch(/^evg1\.new\.[A-Za-z0-9_-]+$/);
        expect(ring.decrypt(sealed, ad)).toBe(plaintext);
        expect(Keyring.keyIdOf(sealed)).toBe('new');
        if (plaintext.length >= 16) expect(sealed).not.toContain(plaintext);
      }),
      { numRuns: 500 },
    );
  });

  it('any UTF-16 string either comes back exactly or is refused at encryption with a typed error', () => {
    fc.assert(
      fc.property(utf16, aad, (plaintext, ad) => {
        let sealed: string;
        try {
          sealed = ring.encrypt(plaintext, ad);
        } catch (error) {
          expect(error).toBeInstanceOf(EvergreenError);
          if (plaintext.length >= 4) expect((error as Error).message).not.toContain(plaintext);
          return;
        }
        expect(ring.decrypt(sealed, ad)).toBe(plaintext);
      }),
      { numRuns: 500 },
    );
  });

  it('a value sealed under a rotated-out key still opens while the key is listed, and names its key when not', () => {
    fc.assert(
      fc.property(text, aad, (plaintext, ad) => {
        const sealed = oldRing.encrypt(plaintext, ad);
        expect(ring.decrypt(sealed, ad)).toBe(plaintext);
        const error = decryptOrError(otherRing, sealed, ad);
        expect(error).toBeInstanceOf(DecryptError);
        expect((error as DecryptError).keyId).toBe('old');
      }),
      { numRuns: 200 },
    );
  });

  it('a value moved to another row or column, or opened under another key with the same id, does not open', () => {
    fc.assert(
      fc.property(text, aad, aad, (plaintext, ad, otherAd) => {
        fc.pre(ad !== otherAd);
        const sealed = ring.encrypt(plaintext, ad);
        expect(decryptOrError(ring, sealed, otherAd)).toBeInstanceOf(DecryptError);
        expect(decryptOrError(otherRing, sealed, ad)).toBeInstanceOf(DecryptError);
      }),
      { numRuns: 300 },
    );
  });

  /** Every way a stored value can be damaged: flipped bits anywhere, cut, extended, re-labelled, re-encoded. */
  const tampering: fc.Arbitrary<TamperCase> = fc.oneof(
    fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ kind: fc.constant('cut' as const), keep: fc.nat() }),
    fc.record({ kind: fc.constant('extend' as const), extra: fc.uint8Array({ minLength: 1, maxLength: 20 }) }),
    fc.record({ kind: fc.constant('text' as const), at: fc.nat(), char: fc.string({ minLength: 1, maxLength: 3 }) }),
    fc.record({
      kind: fc.constant('label' as const),
      label: fc.string({ maxLength: 10 }),
      part: fc.constantFrom(0 as const, 1 as const),
    }),
  );

  function tamper(sealed: string, t: TamperCase): string {
    const [version, keyId, packed] = sealed.split('.') as [string, string, string];
    const bytes = Buffer.from(packed, 'base64url');
    switch (t.kind) {
      case 'flip': {
        const i = t.at % bytes.length;
        bytes[i] = (bytes[i] as number) ^ (1 << t.bit);
        return `${version}.${keyId}.${bytes.toString('base64url')}`;
      }
      case 'cut':
        return `${version}.${keyId}.${bytes.subarray(0, t.keep % bytes.length).toString('base64url')}`;
      case 'extend':
        return `${version}.${keyId}.${Buffer.concat([bytes, t.extra]).toString('base64url')}`;
      case 'text': {
        const i = t.at % (sealed.length + 1);
        return sealed.slice(0, i) + t.char + sealed.slice(i + 1);
      }
      case 'label':
        return t.part === 0 ? `${t.label}.${keyId}.${packed}` : `${version}.${t.label}.${packed}`;
    }
  }

  it('a tampered value is a DecryptError, or (when the damage decodes to the same bytes) the very same plaintext', () => {
    fc.assert(
      fc.property(text, aad, tampering, (plaintext, ad, t) => {
        const sealed = ring.encrypt(plaintext, ad);
        const damaged = tamper(sealed, t);
        const result = decryptOrError(ring, damaged, ad);
        if (typeof result === 'string') {
          // Only a change that leaves the bytes as they were can open: a non-canonical base64url tail, say.
          expect(result).toBe(plaintext);
          const packedOf = (s: string) => Buffer.from(s.split('.')[2] ?? '', 'base64url').toString('hex');
          expect(packedOf(damaged)).toBe(packedOf(sealed));
        } else {
          if (plaintext.length >= 8) expect(result.message).not.toContain(plaintext);
          expect(result.code).toBe('ERR_DECRYPT');
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('any string presented as a ciphertext is a DecryptError', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.string({ maxLength: 60 }).map((s) => `evg1.new.${s}`),
          fc.uint8Array({ maxLength: 60 }).map((b) => `evg1.new.${Buffer.from(b).toString('base64url')}`),
          fc.uint8Array({ maxLength: 60 }).map((b) => `evg1.old.${Buffer.from(b).toString('base64')}`),
        ),
        aad,
        (junk, ad) => {
          expect(decryptOrError(ring, junk, ad)).toBeInstanceOf(DecryptError);
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

type TamperCase =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'cut'; keep: number }
  | { kind: 'extend'; extra: Uint8Array }
  | { kind: 'text'; at: number; char: string }
  | { kind: 'label'; label: string; part: 0 | 1 };

describe('Keyring.parse, fuzzed', () => {
  const material = fc.oneof(
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64')),
    fc.uint8Array({ minLength: 0, maxLength: 48 }).map((b) => Buffer.from(b).toString('base64')),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('base64url')),
    fc.string({ minLength: 8, maxLength: 60 }),
  );
  const id = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), fc.string({ maxLength: 40 }));
  const spec = fc.array(
    fc.oneof(
      fc.tuple(id, material).map(([i, m]) => ({ text: `${i}:${m}`, material: m })),
      material.map((m) => ({ text: m, material: m })),
    ),
    { maxLength: 4 },
  );

  it('gives a keyring or a ConfigError, and never repeats key material in the message', () => {
    fc.assert(
      fc.property(spec, fc.constantFrom(',', ', ', ' ,'), (entries, separator) => {
        const text = entries.map((e) => e.text).join(separator);
        let parsed: Keyring;
        try {
          parsed = Keyring.parse(text);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          for (const e of entries) {
            // Short or key-id-shaped junk may coincide with words of the message; real material never may.
            if (e.material.length >= 16) expect((error as Error).message).not.toContain(e.material);
          }
          return;
        }
        const sealed = parsed.encrypt('round trip', 'aad');
        expect(parsed.decrypt(sealed, 'aad')).toBe('round trip');
      }),
      { numRuns: 500 },
    );
  });
});

describe('found by fuzzing (regressions)', () => {
  it('refuses to seal a lone surrogate with an EncryptError rather than store U+FFFD in its place', () => {
    for (const plaintext of ['\ud800', 'rt-\udfff', '\udbff\udbff']) {
      expect(() => ring.encrypt(plaintext, 'c/access_token')).toThrow(EncryptError);
    }
    expect(ring.decrypt(ring.encrypt('\ud83d\ude00\u0000', 'c/access_token'), 'c/access_token')).toBe(
      '\ud83d\ude00\u0000',
    );
  });
});
