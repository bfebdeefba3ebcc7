import type { InputIssue } from './errors.ts';
import { tokenUrlProblem } from './token-url.ts';

/** One configured receiver of Evergreen's events. */
export interface WebhookEndpoint {
  /** Stable name: keys the endpoint's cursor and delivery rows, and names it in logs. */
  id: string;
  /** Where deliveries are POSTed. Never logged: such URLs often carry a token of their own. */
  url: string;
  /** HMAC key of the `evergreen-signature` header. Never logged, never sent. */
  secret: string;
  /** The event kinds this endpoint receives, or `['*']` for all of them. */
  events: readonly string[];
}

export const ENDPOINT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const MIN_SECRET_LENGTH = 16;
export const ALL_EVENTS = '*';
/** `connection.refreshed`, `connection.needs_reauth`: dotted lower-case words. */
const EVENT_KIND_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const FIELDS = ['id', 'url', 'secret', 'events'];

export interface ParseWebhookEndpointsOptions {
  /** When given, every listed kind must be one of these (a typo would otherwise silently receive nothing). */
  knownKinds?: readonly string[];
}

export interface ParsedWebhookEndpoints {
  /** The entries that passed every check. Use them only when `issues` is empty: a bad entry must stop the process. */
  endpoints: WebhookEndpoint[];
  /** Every problem, each naming its field as `EVERGREEN_WEBHOOKS[i] (id).field`. Never a secret. */
  issues: InputIssue[];
}

/** Whether `endpoint` receives events of `kind`. */
export function endpointWants(endpoint: Pick<WebhookEndpoint, 'events'>, kind: string): boolean {
  return endpoint.events.includes(ALL_EVENTS) || endpoint.events.includes(kind);
}

/**
 * Reads the webhook configuration: a list of `{ id, url, secret, events? }` (or that list as JSON text, as an
 * environment variable holds it; nothing at all means no webhooks). Pure: the caller turns issues into a ConfigError.
 */
export function parseWebhookEndpoints(
  raw: unknown,
  source = 'EVERGREEN_WEBHOOKS',
  options: ParseWebhookEndpointsOptions = {},
): ParsedWebhookEndpoints {
  const endpoints: WebhookEndpoint[] = [];
  const issues: InputIssue[] = [];
  let list = raw;
  if (list === undefined || list === null || (typeof list === 'string' && list.trim() === '')) {
    return { endpoints, issues };
  }
  if (typeof list === 'string') {
    try {
      list = JSON.parse(list) as unknown;
    } catch {
      // Never echo the text: it holds secrets.
      return { endpoints, issues: [{ field: source, reason: 'is not valid JSON' }] };
    }
  }
  if (!Array.isArray(list)) {
    return { endpoints, issues: [{ field: source, reason: 'must be a list of { id, url, secret, events? }' }] };
  }

  const seen = new Map<string, number>();
  list.forEach((entry: unknown, index) => {
    const at = `${source}[${index}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      issues.push({ field: at, reason: 'must be an object { id, url, secret, events? }' });
      return;
    }
    const record = entry as Record<string, unknown>;
    const before = issues.length;
    const { id, url, secret, events } = record;
    const validId = typeof id === 'string' && ENDPOINT_ID_PATTERN.test(id);
    const prefix = validId ? `${at} (${id})` : at;
    const issue = (field: string, reason: string) => issues.push({ field: `${prefix}.${field}`, reason });

    if (!validId) {
      issue('id', 'is required: 1 to 64 lower-case letters, digits, "_" or "-", starting with a letter or digit');
    } else if (seen.has(id)) {
      issue('id', `duplicates ${source}[${seen.get(id)}]`);
    } else {
      seen.set(id, index);
    }

    if (typeof url !== 'string' || url === '') issue('url', 'is required');
    else {
      const problem = tokenUrlProblem(url);
      if (problem) issue('url', problem);
    }

    if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
      issue('secret', `is required: a string of at least ${MIN_SECRET_LENGTH} characters`);
    }

    const kinds = parseEvents(events, options.knownKinds, issue);

    for (const key of Object.keys(record)) {
      if (!FIELDS.includes(key)) issue(key.slice(0, 64), `is not a known field (${FIELDS.join(', ')})`);
    }

    if (issues.length === before && kinds) {
      endpoints.push({ id: id as string, url: url as string, secret: secret as string, events: kinds });
    }
  });
  return { endpoints, issues };
}

function parseEvents(
  events: unknown,
  knownKinds: readonly string[] | undefined,
  issue: (field: string, reason: string) => void,
): string[] | null {
  if (events === undefined) return [ALL_EVENTS];
  if (!Array.isArray(events) || events.length === 0) {
    issue('events', `must be a non-empty list of event kinds, or ["${ALL_EVENTS}"] for all`);
    return null;
  }
  const kinds: string[] = [];
  let ok = true;
  events.forEach((kind: unknown, i) => {
    if (kind === ALL_EVENTS) {
      if (events.length > 1) {
        issue(`events[${i}]`, `"${ALL_EVENTS}" stands for every kind and must be alone`);
        ok = false;
      }
    } else if (typeof kind !== 'string' || !EVENT_KIND_PATTERN.test(kind)) {
      issue(`events[${i}]`, 'must be an event kind such as "connection.refreshed"');
      ok = false;
    } else if (knownKinds && !knownKinds.includes(kind)) {
      issue(`events[${i}]`, `is not an event kind (${knownKinds.join(', ')})`);
      ok = false;
    }
    if (typeof kind === 'string' && !kinds.includes(kind)) kinds.push(kind);
  });
  return ok ? kinds : null;
}
