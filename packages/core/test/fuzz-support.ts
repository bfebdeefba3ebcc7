import fc from 'fast-check';
import type { FatalReason, TransientReason } from '../src/refresh-outcome.ts';

/** Arbitraries and reason lists the core's property tests share. */

export const TRANSIENT_REASONS: readonly TransientReason[] = [
  'network',
  'timeout',
  'server_error',
  'bad_response',
  'unexpected_status',
];

export const FATAL_REASONS: readonly FatalReason[] = [
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_request',
  'invalid_scope',
  'invalid_token_url',
  'missing_credentials',
];

/** The clock's reading, anywhere in this century. */
export const now = fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2100, 0, 1) });

/** `random()` as Math.random gives it: [0, 1). */
export const unit = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });
