import type { TokenEndpointReply } from '@evergreen/core';

/**
 * What a revocation request came to. RFC 7009 §2.2: 200 means revoked, and a server answers 200 for a token it does
 * not know too (the client's goal, the token being unusable, is met). §2.2.1: 503 asks the client to try again later.
 */
export type RevocationOutcome =
  | { revoked: true }
  | {
      revoked: false;
      /** Worth trying again later: a 503 (or any 5xx, a 429), a timeout or a network error. */
      retryable: boolean;
      /** The HTTP status, or null when none came back (network); never the body, which may echo the token. */
      status: number | null;
      /** The system error code of a network failure (ECONNREFUSED), or null. */
      code: string | null;
    };

/** Pure: the reply as the token client saw it → the outcome. */
export function classifyRevocation(reply: TokenEndpointReply): RevocationOutcome {
  if (reply.kind === 'network') return { revoked: false, retryable: true, status: null, code: reply.code };
  if (reply.status === 200) return { revoked: true };
  const retryable = reply.status >= 500 || reply.status === 429;
  return { revoked: false, retryable, status: reply.status, code: null };
}
