import { DEFAULT_RESPONSE_SHAPE, type ErrorMeaning, type ResponseShape } from './provider-definition.ts';
import type { FatalReason, RefreshOutcome } from './refresh-outcome.ts';
import { retryAfterMs } from './retry-after.ts';
import type { TokenEndpointReply } from './token-endpoint-reply.ts';
import { parseTokenResponse } from './token-response.ts';

export interface ClassifyPolicy {
  /** Used when a 429 carries no usable Retry-After. */
  defaultRetryAfterMs: number;
  /** The longest a 429 may pause a provider's queue. */
  maxRetryAfterMs: number;
}

/** A provider's own dialect: where its answer keeps things, and what its error codes mean. */
export interface ProviderRules {
  response: ResponseShape;
  errors: Readonly<Record<string, ErrorMeaning>>;
  /** What a status means when the body holds no OAuth error (GitHub's installation endpoint: 404, 401). */
  statusErrors?: Readonly<Record<string, ErrorMeaning>>;
}

export const STANDARD_RULES: ProviderRules = { response: DEFAULT_RESPONSE_SHAPE, errors: {} };

const FATAL: ReadonlySet<string> = new Set<FatalReason>([
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_request',
  'invalid_scope',
]);

/**
 * DESIGN.md invariant 6, in one place: what a token endpoint's reply means for the connection. Pure: the clock is an
 * argument, nothing is thrown, and the body never leaves this function except as parsed tokens.
 */
export function classify(
  reply: TokenEndpointReply,
  now: number,
  policy: ClassifyPolicy,
  rules: ProviderRules = STANDARD_RULES,
): RefreshOutcome {
  if (reply.kind === 'network') {
    return { kind: 'transient', reason: reply.timeout ? 'timeout' : 'network', status: null };
  }
  const { status } = reply;

  if (status === 429) {
    return {
      kind: 'rate_limited',
      reason: 'rate_limited',
      retryAfterMs: retryAfterMs(reply.headers['retry-after'], now, {
        defaultMs: policy.defaultRetryAfterMs,
        maxMs: policy.maxRetryAfterMs,
      }),
      status,
    };
  }
  if (status >= 500) return { kind: 'transient', reason: 'server_error', status };
  if (reply.truncated) return { kind: 'transient', reason: 'bad_response', status };

  const parsed = parseTokenResponse(reply.body, rules.response, reply.headers['content-type'] ?? '');
  // The error code decides wherever it arrives: invalid_grant comes under 400, 401, 404, even 200.
  if (parsed.kind === 'oauth_error') {
    const meaning = rules.errors[parsed.error] ?? parsed.error;
    return byMeaning(meaning, status);
  }
  const statusMeaning = status >= 300 ? rules.statusErrors?.[String(status)] : undefined;
  if (statusMeaning !== undefined) return byMeaning(statusMeaning, status);
  if (status >= 200 && status < 300) {
    if (parsed.kind === 'tokens') return { kind: 'success', tokens: parsed.tokens, status };
    return { kind: 'transient', reason: 'bad_response', status };
  }
  // A 4xx without an OAuth error body (an HTML 404 from a proxy, say) proves nothing about the grant: retry, slowly.
  return { kind: 'transient', reason: 'unexpected_status', status };
}

function byMeaning(meaning: string, status: number): RefreshOutcome {
  if (meaning === 'invalid_grant') return { kind: 'reauth', reason: 'invalid_grant', status };
  if (FATAL.has(meaning)) return { kind: 'fatal', reason: meaning as FatalReason, status };
  // An error code we do not know (temporarily_unavailable, a provider's own): assume the provider's bad moment.
  return { kind: 'transient', reason: 'unexpected_status', status };
}
