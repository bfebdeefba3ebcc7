/**
 * NIST SP 800-38D §8.3: with 96-bit IVs drawn at random (§8.2.2), the total number of invocations of the
 * authenticated encryption function with one key shall not exceed 2^32. Past that, the chance that two values share
 * an IV (which gives away the GHASH key, so tags can be forged, and the XOR of the two plaintexts) exceeds 2^-32.
 */
export const GCM_RANDOM_IV_LIMIT = 2 ** 32;
/** The first warning: half the budget spent, time enough to put a new key first. */
export const ENCRYPTION_WARNING_FROM = 2 ** 31;
/** Then a warning every 2^28 (about 268 million) encryptions more, until the key is replaced. */
export const ENCRYPTION_WARNING_EVERY = 2 ** 28;

export interface EncryptionBudgetWarning {
  /** `error` once the limit itself is reached. */
  level: 'warn' | 'error';
  /** The warning mark that was passed. */
  threshold: number;
  encryptions: number;
  /** Encryptions left before the limit (0 past it). */
  remaining: number;
}

/**
 * Whether a key's count, going from `before` to `after` encryptions, passed a warning mark: 2^31, then every 2^28.
 * One answer however many marks were passed at once; none when none was. Counts are added under a row lock, so each
 * mark is passed by exactly one writer, and the warning is logged once, by that process.
 */
export function encryptionBudget(before: number, after: number): EncryptionBudgetWarning | null {
  if (after < ENCRYPTION_WARNING_FROM || after <= before) return null;
  const marks = Math.floor((after - ENCRYPTION_WARNING_FROM) / ENCRYPTION_WARNING_EVERY);
  const threshold = ENCRYPTION_WARNING_FROM + marks * ENCRYPTION_WARNING_EVERY;
  if (before >= threshold) return null;
  return {
    level: after >= GCM_RANDOM_IV_LIMIT ? 'error' : 'warn',
    threshold,
    encryptions: after,
    remaining: Math.max(0, GCM_RANDOM_IV_LIMIT - after),
  };
}
