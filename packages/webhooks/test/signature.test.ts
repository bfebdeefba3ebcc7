import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhookSignature } from '../src/index.ts';

const secret = 'whsec_0123456789abcdef';
const body = JSON.stringify({ id: 'evt_1', type: 'connection.refreshed', data: { connectionId: 'c1' } });
const t = 1_760_000_000;

describe('signWebhook', () => {
  it('writes t=<seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">', () => {
    const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
    expect(signWebhook(secret, t, body)).toBe(`t=${t},v1=${expected}`);
  });

  it('signs with each secret of a rotation, one v1= apiece', () => {
    const header = signWebhook(['new-secret-0123456789', secret], t, body);
    expect(header.split(',')).toHaveLength(3);
    expect(header).toContain(signWebhook(secret, t, body).split(',')[1]);
  });

  it('refuses timestamps that are not whole seconds, and an empty list of secrets', () => {
    expect(() => signWebhook(secret, 1.5, body)).toThrow(RangeError);
    expect(() => signWebhook(secret, -1, body)).toThrow(RangeError);
    expect(() => signWebhook([], t, body)).toThrow(RangeError);
  });
});

describe('verifyWebhookSignature', () => {
  const header = signWebhook(secret, t, body);

  it('accepts its own signature (round trip)', () => {
    expect(verifyWebhookSignature({ secret, header, body, nowSeconds: t })).toBe(true);
  });

  it('accepts timestamps within the tolerance either way, and rejects stale or future ones beyond it', () => {
    expect(verifyWebhookSignature({ secret, header, body, nowSeconds: t + 300 })).toBe(true);
    expect(verifyWebhookSignature({ secret, header, body, nowSeconds: t - 300 })).toBe(true);
    expect(verifyWebhookSignature({ secret, header, body, nowSeconds: t + 301 })).toBe(false);
    expect(verifyWebhookSignature({ secret, header, body, nowSeconds: t - 301 })).toBe(false);
    expect(verifyWebhookSignature({ secret, header, body, nowSeconds: t + 30, toleranceSeconds: 10 })).toBe(false);
    expect(verifyWebhookSignature({ secret, header, body, nowSeconds: t + 30, toleranceSeconds: 60 })).toBe(true);
  });

  it('rejects a tampered body, a tampered timestamp and the wrong secret', () => {
    expect(verifyWebhookSignature({ secret, header, body: body.replace('c1', 'c2'), nowSeconds: t })).toBe(false);
    expect(verifyWebhookSignature({ secret, header, body: `${body} `, nowSeconds: t })).toBe(false);
    const moved = header.replace(`t=${t}`, `t=${t + 1}`);
    expect(verifyWebhookSignature({ secret, header: moved, body, nowSeconds: t })).toBe(false);
    expect(verifyWebhookSignature({ secret: 'another-secret-0123', header, body, nowSeconds: t })).toBe(false);
  });

  it('accepts any of several v1= values (the sender mid-rotation) and any of several secrets (the receiver)', () => {
    const rotating = signWebhook(['old-secret-0123456789', 'new-secret-0123456789'], t, body);
    for (const s of ['old-secret-0123456789', 'new-secret-0123456789']) {
      expect(verifyWebhookSignature({ secret: s, header: rotating, body, nowSeconds: t })).toBe(true);
    }
    expect(verifyWebhookSignature({ secret: 'third-secret-0123456', header: rotating, body, nowSeconds: t })).toBe(
      false,
    );
    const receiverSecrets = ['new-secret-0123456789', secret];
    expect(verifyWebhookSignature({ secret: receiverSecrets, header, body, nowSeconds: t })).toBe(true);
    // A v1= that matches nothing next to one that matches: still valid.
    const withJunk = `t=${t},v1=${'0'.repeat(64)},${header.split(',')[1]}`;
    expect(verifyWebhookSignature({ secret, header: withJunk, body, nowSeconds: t })).toBe(true);
    // Unknown schemes are ignored, as long as a v1 matches.
    expect(verifyWebhookSignature({ secret, header: `${header},v0=abc`, body, nowSeconds: t })).toBe(true);
  });

  it('rejects malformed headers without throwing', () => {
    const v1 = header.split(',')[1] as string;
    const malformed: (string | null | undefined)[] = [
      undefined,
      null,
      '',
      v1,
      `t=${t}`,
      `t=${t},v1=`,
      `t=${t},v1=nothex`,
      `t=${t},v1=${v1.slice(3, 40)}`,
      `t=abc,${v1}`,
      `t=-${t},${v1}`,
      `t=${t}.5,${v1}`,
      `t=${t},t=${t},${v1}`,
      `t=${t},${v1},garbage`,
      `t=${t},${v1},${'x'.repeat(5000)}`,
      `t=${t},${Array.from({ length: 20 }, () => v1).join(',')}`,
    ];
    for (const h of malformed) {
      expect(verifyWebhookSignature({ secret, header: h, body, nowSeconds: t }), String(h).slice(0, 80)).toBe(false);
    }
    expect(verifyWebhookSignature({ secret: '', header, body, nowSeconds: t })).toBe(false);
    expect(verifyWebhookSignature({ secret, header, body, nowSeconds: Number.NaN })).toBe(false);
  });

  it('tolerates spaces around the parts', () => {
    const spaced = header.replace(',', ', ');
    expect(verifyWebhookSignature({ secret, header: spaced, body, nowSeconds: t })).toBe(true);
  });
});
