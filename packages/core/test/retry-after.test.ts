import { describe, it, expect } from 'vitest';
import { retryAfterMs } from '../src/retry-after.ts';

const NOW = Date.parse('Wed, 21 Oct 2015 07:20:00 GMT');
const policy = { defaultMs: 60_000, maxMs: 600_000 };

describe('retryAfterMs', () => {
  describe('delay-seconds', () => {
    it('reads "120" as two minutes', () => {
      expect(retryAfterMs('120', NOW, policy)).toBe(120_000);
    });

    it('ignores surrounding whitespace', () => {
      expect(retryAfterMs('  5 ', NOW, policy)).toBe(5_000);
    });

    it('raises "0" to the 1-second floor so a provider is never retried hot', () => {
      expect(retryAfterMs('0', NOW, policy)).toBe(1_000);
    });

    it('honours a custom floor', () => {
      expect(retryAfterMs('0', NOW, { ...policy, minMs: 0 })).toBe(0);
      expect(retryAfterMs('2', NOW, { ...policy, minMs: 5_000 })).toBe(5_000);
    });

    it('caps a huge delay at maxMs', () => {
      expect(retryAfterMs('86400', NOW, policy)).toBe(600_000);
    });

    it('caps an absurdly long digit string (which overflows to Infinity) at maxMs', () => {
      expect(retryAfterMs('9'.repeat(400), NOW, policy)).toBe(600_000);
    });
  });

  describe('HTTP-date', () => {
    it('waits until an HTTP-date in the future', () => {
      expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', NOW, policy)).toBe(8 * 60_000);
    });

    it('treats an HTTP-date in the past as the 1-second floor, not a negative delay', () => {
      expect(retryAfterMs('Wed, 21 Oct 2015 07:00:00 GMT', NOW, policy)).toBe(1_000);
    });

    it('caps an HTTP-date far in the future at maxMs', () => {
      expect(retryAfterMs('Fri, 01 Jan 2100 00:00:00 GMT', NOW, policy)).toBe(600_000);
    });

    it('measures the date against the given clock, not the wall clock', () => {
      const later = NOW + 5 * 60_000;
      expect(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', later, policy)).toBe(3 * 60_000);
    });
  });

  describe('absent or garbage', () => {
    it('uses the default when the header is absent', () => {
      expect(retryAfterMs(undefined, NOW, policy)).toBe(60_000);
    });

    it('uses the default when the header is empty or blank', () => {
      expect(retryAfterMs('', NOW, policy)).toBe(60_000);
      expect(retryAfterMs('   ', NOW, policy)).toBe(60_000);
    });

    it('uses the default for text that is neither seconds nor a date', () => {
      for (const garbage of ['soon', '5s', '99 bottles', 'Infinity', '1e3', 'NaN']) {
        expect(retryAfterMs(garbage, NOW, policy)).toBe(60_000);
      }
    });

    it('clamps the default itself into [min, max]', () => {
      expect(retryAfterMs(undefined, NOW, { defaultMs: 3_600_000, maxMs: 600_000 })).toBe(600_000);
      expect(retryAfterMs(undefined, NOW, { defaultMs: 10, maxMs: 600_000 })).toBe(1_000);
    });
  });
});

describe('retryAfterMs with values that only look like dates', () => {
  it.each(['1.5', '-1', '120.5', '+5', '1 2', '60,'])('treats %j as unusable and waits the default', (header) => {
    expect(retryAfterMs(header, Date.now(), { defaultMs: 60_000, maxMs: 600_000 })).toBe(60_000);
  });
});
