import { describe, expect, it } from 'vitest';
import {
  encryptionBudget,
  ENCRYPTION_WARNING_EVERY,
  ENCRYPTION_WARNING_FROM,
  GCM_RANDOM_IV_LIMIT,
  Keyring,
  tokenAad,
} from '../src/index.ts';

describe('Keyring encryption count', () => {
  it('counts every value the current key seals, hands the count over once, and takes back what was not recorded', () => {
    const ring = Keyring.parse(`${Keyring.generateEntry('now')},${Keyring.generateEntry('old')}`);
    expect(ring.takeEncryptionCount()).toBe(0);
    for (let i = 0; i < 5; i++) ring.encrypt(`token-${i}`, tokenAad('c1', 'access_token'));
    ring.decrypt(ring.encrypt('x', 'aad'), 'aad'); // decrypting costs nothing
    expect(ring.takeEncryptionCount()).toBe(6);
    expect(ring.takeEncryptionCount()).toBe(0);
    ring.encrypt('y', 'aad');
    ring.restoreEncryptionCount(6);
    expect(ring.takeEncryptionCount()).toBe(7);
  });
});

describe('encryptionBudget', () => {
  const FIRST = ENCRYPTION_WARNING_FROM;
  const STEP = ENCRYPTION_WARNING_EVERY;

  it('follows NIST SP 800-38D §8.3 for random IVs: 2^32 per key, a first warning at half of it', () => {
    expect(GCM_RANDOM_IV_LIMIT).toBe(4_294_967_296);
    expect(FIRST).toBe(GCM_RANDOM_IV_LIMIT / 2);
    expect(STEP).toBe(2 ** 28);
  });

  it('says nothing below the first mark, or when no mark was passed', () => {
    expect(encryptionBudget(0, 1_000_000)).toBeNull();
    expect(encryptionBudget(0, FIRST - 1)).toBeNull();
    expect(encryptionBudget(FIRST, FIRST + 10)).toBeNull();
    expect(encryptionBudget(FIRST + 1, FIRST + STEP - 1)).toBeNull();
    expect(encryptionBudget(FIRST + 5, FIRST + 5)).toBeNull();
  });

  it('warns once when the count reaches 2^31, and again at every 2^28 after', () => {
    expect(encryptionBudget(FIRST - 1, FIRST)).toEqual({
      level: 'warn',
      threshold: FIRST,
      encryptions: FIRST,
      remaining: FIRST,
    });
    expect(encryptionBudget(FIRST + STEP - 3, FIRST + STEP + 4)).toMatchObject({
      level: 'warn',
      threshold: FIRST + STEP,
    });
    // Marks passed in one batch give one warning, for the highest.
    expect(encryptionBudget(0, FIRST + 3 * STEP + 1)).toMatchObject({ threshold: FIRST + 3 * STEP });
  });

  it('turns to an error at the limit and keeps reporting past it', () => {
    expect(encryptionBudget(GCM_RANDOM_IV_LIMIT - 1, GCM_RANDOM_IV_LIMIT)).toEqual({
      level: 'error',
      threshold: GCM_RANDOM_IV_LIMIT,
      encryptions: GCM_RANDOM_IV_LIMIT,
      remaining: 0,
    });
    expect(encryptionBudget(GCM_RANDOM_IV_LIMIT + 1, GCM_RANDOM_IV_LIMIT + STEP)).toMatchObject({
      level: 'error',
      threshold: GCM_RANDOM_IV_LIMIT + STEP,
      remaining: 0,
    });
  });

  it('passes every mark exactly once however the count is split into batches', () => {
    let count = FIRST - 7 * STEP;
    let warnings = 0;
    const batch = Math.floor(STEP / 3) + 12_345;
    while (count < GCM_RANDOM_IV_LIMIT + 2 * STEP) {
      if (encryptionBudget(count, count + batch)) warnings += 1;
      count += batch;
    }
    // 2^31, 2^31 + 2^28 … 2^32 (9 marks), then 2^32 + 2^28 and 2^32 + 2^29.
    expect(warnings).toBe(11);
  });
});
