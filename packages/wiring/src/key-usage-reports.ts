import { encryptionBudget, GCM_RANDOM_IV_LIMIT } from '@evergreen/keyring';
import { safeError, type Logger } from '@evergreen/log';
import type { KeyUsageReports } from '@evergreen/store';

/**
 * What a process logs of its key-usage flushes: a warning when its flush carried a key's count past 2^31 or another
 * 2^28 (an error at 2^32, the GCM limit for random IVs), so operators put a new key first long before; and a warning
 * when a count could not be written (it is kept for the next flush).
 */
export function keyUsageReports(log: Logger): KeyUsageReports {
  return {
    onFlush(flush) {
      const warning = encryptionBudget(flush.encryptions - flush.added, flush.encryptions);
      if (!warning) return;
      log[warning.level](
        {
          keyId: flush.keyId,
          encryptions: warning.encryptions,
          limit: GCM_RANDOM_IV_LIMIT,
          remaining: warning.remaining,
        },
        warning.level === 'error'
          ? 'encryption key past its AES-GCM limit; put a new key first and run `evergreen keys rotate`'
          : 'encryption key nearing its AES-GCM limit; put a new key first and run `evergreen keys rotate`',
      );
    },
    onError(error) {
      log.warn({ err: safeError(error) }, 'encryption count not recorded; kept for the next flush');
    },
  };
}
