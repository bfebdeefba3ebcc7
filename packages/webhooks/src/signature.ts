import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header that carries the signature of every delivery. */
export const SIGNATURE_HEADER = 'evergreen-signature';

/** How far a signature's timestamp may be from the receiver's clock, either way, by default: five minutes. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Bounds on what a verifier reads, so a hostile header cannot make it do unbounded work. */
const MAX_HEADER_LENGTH = 4096;
const MAX_SIGNATURES = 16;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

function hmac(secret: string, timestampSeconds: number, body: string): Buffer {
  return createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest();
}

/**
 * The `evergreen-signature` header for one body (Stripe-style): `t=<unix seconds>,v1=<hex HMAC-SHA256 of
 * "<t>.<body>">`. Given several secrets (a rotation in progress), one `v1=` per secret, so receivers holding either
 * the old or the new secret accept it.
 */
export function signWebhook(secret: string | readonly string[], timestampSeconds: number, body: string): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError('timestampSeconds must be a non-negative whole number of seconds');
  }
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new RangeError('signWebhook needs at least one secret');
  const signatures = secrets.map((s) => `v1=${hmac(s, timestampSeconds, body).toString('hex')}`);
  return [`t=${timestampSeconds}`, ...signatures].join(',');
}

export interface VerifyWebhookSignatureInput {
  /** The endpoint's secret, or several while rotating: any one of them may have signed. */
  secret: string | readonly string[];
  /** The `evergreen-signature` header as received (absent headers are simply rejected). */
  header: string | null | undefined;
  /** The raw request body, exactly as received (before any JSON parsing). */
  body: string;
  nowSeconds: number;
  toleranceSeconds?: number;
}

/**
 * Whether `header` is a valid signature of `body`: well formed, a timestamp within the tolerance of `nowSeconds`
 * (neither stale nor from the future), and at least one `v1=` value equal to the HMAC under one of the secrets,
 * compared in constant time. Unknown schemes (`v0=`...) are ignored. Never throws.
 */
export function verifyWebhookSignature(input: VerifyWebhookSignatureInput): boolean {
  const { header, body, nowSeconds } = input;
  const toleranceSeconds = input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  const secrets = (typeof input.secret === 'string' ? [input.secret] : input.secret).filter((s) => s.length > 0);
  if (typeof header !== 'string' || header.length > MAX_HEADER_LENGTH || typeof body !== 'string') return false;
  if (secrets.length === 0 || !Number.isFinite(nowSeconds) || !(toleranceSeconds >= 0)) return false;

  const parsed = parseHeader(header);
  if (parsed === null) return false;
  if (Math.abs(nowSeconds - parsed.timestamp) > toleranceSeconds) return false;

  const expected = secrets.map((s) => hmac(s, parsed.timestamp, body));
  let matched = false;
  // Every candidate against every secret, without stopping early: the time taken says nothing about which matched.
  for (const candidate of parsed.signatures) {
    for (const digest of expected) {
      if (timingSafeEqual(candidate, digest)) matched = true;
    }
  }
  return matched;
}

function parseHeader(header: string): { timestamp: number; signatures: Buffer[] } | null {
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== null || !/^\d{1,15}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!HEX_SHA256.test(value) || signatures.length >= MAX_SIGNATURES) return null;
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === null || signatures.length === 0) return null;
  return { timestamp, signatures };
}
