import { describe, expect, it } from 'vitest';
import {
  LOCKED_RECHECK_MAX_MS,
  LOCKED_RECHECK_MIN_MS,
  lockedRecheckMs,
  lockOutlivesRequest,
  refreshLockMs,
} from '../src/lock-timing.ts';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);

describe('refreshLockMs', () => {
  it('takes the lock for one request and its write: the HTTP deadline plus 3 s', () => {
    expect(refreshLockMs(30_000, 15_000)).toBe(18_000);
    expect(refreshLockMs(60_000, 5_000)).toBe(8_000);
  });

  it('never for longer than the configured TTL', () => {
    expect(refreshLockMs(10_000, 15_000)).toBe(10_000);
    expect(refreshLockMs(18_000, 15_000)).toBe(18_000);
  });
});

describe('lockOutlivesRequest', () => {
  it('a lock with the HTTP deadline plus the write margin left outlives the request', () => {
    expect(lockOutlivesRequest(NOW + 16_000, NOW, 15_000)).toBe(true);
    expect(lockOutlivesRequest(NOW + 18_000, NOW, 15_000)).toBe(true);
  });

  it('a lock with any less left does not, nor does one already lapsed', () => {
    expect(lockOutlivesRequest(NOW + 15_999, NOW, 15_000)).toBe(false);
    expect(lockOutlivesRequest(NOW - 1, NOW, 15_000)).toBe(false);
  });
});

describe('lockedRecheckMs', () => {
  it.each([
    [0, LOCKED_RECHECK_MIN_MS],
    [100, LOCKED_RECHECK_MIN_MS],
    [400, 500],
    [5_000, LOCKED_RECHECK_MAX_MS],
    [-5, LOCKED_RECHECK_MIN_MS],
  ])('a lock held %i ms more is looked at again after %i ms', (remaining, wait) => {
    expect(lockedRecheckMs(remaining)).toBe(wait);
  });
});
