import type { IncomingMessage } from 'node:http';

/** Token requests are a few hundred bytes; anything far bigger is a client bug or abuse, not a request to parse. */
const MAX_BODY_BYTES = 64 * 1024;

export type TokenRequestBody =
  | { kind: 'params'; params: ReadonlyMap<string, string> }
  | {
      kind: 'malformed';
      why:
        | 'too_large'
        | 'unsupported_media_type'
        | 'not_json'
        | 'not_an_object'
        | 'duplicate_parameter'
        | 'non_string_value';
    };

/** Reads the whole body. Rejects only when the client goes away mid-body; every other problem is a `malformed` value. */
export async function readTokenRequest(req: IncomingMessage): Promise<TokenRequestBody> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    // Keep draining instead of destroying the socket: the client must still get its 400.
    if (size <= MAX_BODY_BYTES) chunks.push(buffer);
  }
  if (size > MAX_BODY_BYTES) return { kind: 'malformed', why: 'too_large' };
  return parseBody(req.headers['content-type'], Buffer.concat(chunks).toString('utf8'));
}

export function parseBody(contentType: string | undefined, text: string): TokenRequestBody {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (mediaType === 'application/x-www-form-urlencoded') return parseForm(text);
  // Not what RFC 6749 asks for, but some clients send it and some providers accept it.
  if (mediaType === 'application/json') return parseJson(text);
  return { kind: 'malformed', why: 'unsupported_media_type' };
}

function parseForm(text: string): TokenRequestBody {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(text)) {
    // RFC 6749 §3.2: parameters MUST NOT be included more than once.
    if (params.has(key)) return { kind: 'malformed', why: 'duplicate_parameter' };
    // RFC 6749 §3.1: a parameter sent without a value is treated as omitted.
    if (value !== '') params.set(key, value);
  }
  return { kind: 'params', params };
}

function parseJson(text: string): TokenRequestBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'malformed', why: 'not_json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { kind: 'malformed', why: 'not_an_object' };
  const params = new Map<string, string>();
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    if (entry === null || entry === undefined) continue;
    if (typeof entry !== 'string') return { kind: 'malformed', why: 'non_string_value' };
    if (entry !== '') params.set(key, entry);
  }
  return { kind: 'params', params };
}
