import type { ResolvedOptions } from './options.ts';

/** What a successful token request produced, before any provider's quirks shape it into a body. */
export interface IssuedTokens {
  accessToken: string;
  /** The refresh token to send, or null to send none. */
  refreshToken: string | null;
  expiresIn: number;
  scope: string | null;
}

export type ResponseShape = Pick<
  ResolvedOptions,
  'response' | 'expiresInFormat' | 'issuedAt' | 'extraResponse' | 'refreshTokenExpiresIn' | 'errorStyle' | 'envelope'
>;

/** A body as fields; `renderFields` turns it into JSON or a form, whichever the request gets. */
export type Fields = Record<string, unknown>;

const JSON_TYPE = 'application/json; charset=utf-8';
const FORM_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';

export function successFields(shape: ResponseShape, tokens: IssuedTokens, now: number): Fields {
  const fields: Fields = {};
  // Slack signals success in the body as well as in the status.
  if (shape.errorStyle === 'slack') fields.ok = true;
  fields[shape.response.accessToken] = tokens.accessToken;
  if (shape.response.tokenType !== null) fields[shape.response.tokenType] = 'Bearer';
  if (shape.response.expiresIn !== null) {
    fields[shape.response.expiresIn] = formatExpiresIn(tokens.expiresIn, shape.expiresInFormat);
  }
  if (tokens.refreshToken !== null) {
    fields[shape.response.refreshToken] = tokens.refreshToken;
    if (shape.refreshTokenExpiresIn !== null) fields.refresh_token_expires_in = shape.refreshTokenExpiresIn;
  }
  if (tokens.scope !== null) fields.scope = tokens.scope;
  if (shape.issuedAt) fields.issued_at = String(now);
  const merged = { ...fields, ...shape.extraResponse };
  return shape.envelope === null ? merged : { ...shape.envelope.fields, [shape.envelope.key]: merged };
}

function formatExpiresIn(seconds: number, format: ResolvedOptions['expiresInFormat']): number | string {
  switch (format) {
    case 'number':
      return seconds;
    case 'string':
      return String(seconds);
    case 'milliseconds':
      return seconds * 1000;
  }
}

/** The answer to a bad, used, revoked or unknown refresh token (and a wrong password), in the configured style. */
export function invalidGrant(
  style: ResolvedOptions['errorStyle'],
  oauthStatus: number,
): { status: number; fields: Fields } {
  switch (style) {
    case 'oauth':
      return { status: oauthStatus, fields: { error: 'invalid_grant' } };
    case 'github':
      return {
        status: 200,
        fields: { error: 'bad_refresh_token', error_description: 'The refresh token passed is incorrect or expired.' },
      };
    case 'slack':
      return { status: 200, fields: { ok: false, error: 'invalid_refresh_token' } };
  }
}

/** The answer to failed client authentication; only the `oauth` style uses 401 (and so a challenge). */
export function invalidClient(style: ResolvedOptions['errorStyle']): { status: number; fields: Fields } {
  switch (style) {
    case 'oauth':
      return { status: 401, fields: { error: 'invalid_client' } };
    case 'github':
      return { status: 200, fields: { error: 'incorrect_client_credentials' } };
    case 'slack':
      return { status: 200, fields: { ok: false, error: 'invalid_client_id' } };
  }
}

/** True when the Accept header names application/json itself (a wildcard does not count, as at GitHub). */
export function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(',').some((range) => range.split(';')[0]?.trim().toLowerCase() === 'application/json');
}

export function renderFields(fields: Fields, format: 'json' | 'form'): { contentType: string; body: string } {
  if (format === 'json') return { contentType: JSON_TYPE, body: JSON.stringify(fields) };
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    form.set(key, formValue(value));
  }
  return { contentType: FORM_TYPE, body: form.toString() };
}

function formValue(value: unknown): string {
  if (value === null) return '';
  if (typeof value === 'string') return value;
  // Numbers and booleans read the same as JSON; objects (a quirk's nested field) are sent as their JSON.
  return JSON.stringify(value) ?? '';
}
