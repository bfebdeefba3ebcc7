import type { OutboxEvent } from '@evergreen/store';
import { request, type Dispatcher } from 'undici';
import { SIGNATURE_HEADER, signWebhook } from './signature.ts';

export type { OutboxEvent };

/** What one POST came to: plain data, never a response body, never the secret or the URL. */
export interface WebhookAttempt {
  ok: boolean;
  /** The status code, when the endpoint answered. */
  httpStatus: number | null;
  /** A short reason for a failure: `HTTP 500`, `timeout`, `network error (ECONNREFUSED)`. Null on success. */
  reason: string | null;
  durationMs: number;
}

export interface WebhookPost {
  url: string;
  secret: string;
  event: OutboxEvent;
  timestampSeconds: number;
  /** The whole exchange, response body included. */
  timeoutMs: number;
  dispatcher: Dispatcher;
  maxResponseBytes?: number;
}

export const USER_AGENT = 'evergreen-webhooks';
const MAX_RESPONSE_BYTES = 64 * 1024;
const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/** The documented delivery body: receivers deduplicate on `id` (delivery is at least once). */
export function webhookBody(event: OutboxEvent): string {
  return JSON.stringify({
    id: `evt_${event.id}`,
    type: event.kind,
    createdAt: event.createdAt.toISOString(),
    data: event.payload,
  });
}

/**
 * POSTs one event, signed. Never throws for anything the network or the endpoint does; 2xx is success, anything else
 * (other statuses, redirects included, network errors, the deadline) a failure with a short reason.
 */
export async function postWebhook(post: WebhookPost): Promise<WebhookAttempt> {
  const started = Date.now();
  const body = webhookBody(post.event);
  const deadline = AbortSignal.timeout(post.timeoutMs);
  const done = (httpStatus: number | null, reason: string | null): WebhookAttempt => ({
    ok: reason === null,
    httpStatus,
    reason,
    durationMs: Date.now() - started,
  });
  try {
    const response = await request(post.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        [SIGNATURE_HEADER]: signWebhook(post.secret, post.timestampSeconds, body),
        'evergreen-event-id': `evt_${post.event.id}`,
        'evergreen-event-type': post.event.kind,
      },
      body,
      signal: deadline,
      dispatcher: post.dispatcher,
      headersTimeout: post.timeoutMs,
      bodyTimeout: post.timeoutMs,
    });
    // The answer is decided by the status; the body is drained (so the connection can be reused) and ignored.
    await drain(response.body, post.maxResponseBytes ?? MAX_RESPONSE_BYTES);
    const status = response.statusCode;
    return status >= 200 && status < 300 ? done(status, null) : done(status, `HTTP ${status}`);
  } catch (error) {
    return done(null, networkReason(error, deadline.aborted));
  }
}

/** Reads at most `maxBytes` and drops them; a larger or failing body is cut off, never buffered. */
async function drain(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<void> {
  let size = 0;
  try {
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > maxBytes) break;
    }
  } catch {
    // The endpoint already answered with its status; a broken body does not change what it said.
  } finally {
    if (!body.destroyed) body.destroy();
  }
}

function networkReason(error: unknown, deadlinePassed: boolean): string {
  const e = error as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : null;
  if (deadlinePassed || e.name === 'TimeoutError' || (code !== null && TIMEOUT_CODES.has(code))) return 'timeout';
  return code !== null && /^[A-Z0-9_]{1,40}$/.test(code) ? `network error (${code})` : 'network error';
}
