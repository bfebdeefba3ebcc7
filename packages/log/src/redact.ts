import { API_KEY_PREFIX, API_KEY_SCAN_PATTERN } from '@evergreen/api-keys';
import { stdSerializers } from 'pino';

export const CENSOR = '[redacted]';

/**
 * A key names a secret when, lower-cased and without `_` and `-`, it ends with one of these: `accessToken`,
 * `refresh_token`, `id_token`, `EVERGREEN_ADMIN_TOKEN`, `clientSecret`, `webhookSecret`, `privateKey`,
 * `x-api-key`, `client_assertion`, `Proxy-Authorization`, `set-cookie`, `EVERGREEN_ENCRYPTION_KEYS`...
 *
 * A bare `key` is not one: here it names Redis keys and key ids, which operators need; the secrets called keys are
 * spelled `apiKey`, `privateKey` or `encryptionKeys`.
 */
const SECRET_SUFFIXES = [
  'token',
  'secret',
  'password',
  'passwd',
  'apikey',
  'privatekey',
  'credentials',
  'credential',
  'assertion',
  'authorization',
  'cookie',
  'codeverifier',
  'encryptionkeys',
  // An API key's stored SHA-256 (`secretHash`, `secret_hash`): not the key, but nothing a line needs either.
  'secrethash',
];

/** Key verdicts, remembered: log keys are few and repeat on every line. Bounded, in case keys come from data. */
const verdicts = new Map<string, boolean>();
const MAX_VERDICTS = 4_096;

export function isSecretKey(key: string): boolean {
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    const normalised = key.toLowerCase().replace(/[-_]/g, '');
    verdict = SECRET_SUFFIXES.some((suffix) => normalised.endsWith(suffix));
    if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
    verdicts.set(key, verdict);
  }
  return verdict;
}

/**
 * `scheme://user:password@host`: the password of a connection string (Postgres, Redis), up to the last `@` of the
 * authority, since a password may hold one.
 */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@]*:)[^\s/?#]*@/gi;

/** A string with any connection-string password and any Evergreen API key (`evg_<id>_<secret>`) replaced. */
export function redactUrls(text: string): string {
  return redactApiKeys(text.includes('://') ? text.replace(URL_PASSWORD, `$1${CENSOR}@`) : text);
}

/** A string with every Evergreen API key replaced: a key pasted where a name, a message or a URL goes. */
export function redactApiKeys(text: string): string {
  return text.includes(API_KEY_PREFIX) ? text.replace(API_KEY_SCAN_PATTERN, CENSOR) : text;
}

/** Deeper than this, a value is replaced whole: a log line has no business being this deep, and the walk must end. */
const MAX_DEPTH = 32;

/**
 * The value as it may be logged: every value under a secret key (at any depth, in plain objects, arrays and errors)
 * replaced by `[redacted]`, connection-string passwords taken out of strings (and of what a `toJSON` prints, such as
 * a URL's), errors turned into `{ type, message, stack, ... }`.
 * Copy on write: a value with nothing to change is returned as it is, so the usual flat line costs one pass over its
 * keys and no allocation. The value itself is never modified.
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0, []) as T;
}

function redact(value: unknown, depth: number, ancestors: object[]): unknown {
  if (typeof value === 'string') return redactUrls(value);
  if (typeof value !== 'object' || value === null) return value;
  if (ancestors.includes(value)) return '[Circular]';
  if (depth >= MAX_DEPTH) return CENSOR;
  ancestors.push(value);
  try {
    if (value instanceof Error) return redactObject(serialiseError(value), depth, ancestors, true);
    if (Array.isArray(value)) {
      const items = value as unknown[];
      let copy: unknown[] | null = null;
      for (let i = 0; i < items.length; i++) {
        const item = items[i];
        const redacted = redact(item, depth + 1, ancestors);
        if (redacted !== item) (copy ??= [...items])[i] = redacted;
      }
      return copy ?? items;
    }
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') {
      // What JSON will print (a URL's href with its password, a Date's string): redacted, or the value as it was.
      const json = (toJSON as (this: unknown) => unknown).call(value);
      const redacted = redact(json, depth + 1, ancestors);
      return redacted === json ? value : redacted;
    }
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) {
      return redactObject(value as Record<string, unknown>, depth, ancestors, false);
    }
    // Instances of other classes (a Fastify request, a socket) are left to pino's serializers for their key: walking
    // them would copy whole object graphs. Log plain data.
    return value;
  } finally {
    ancestors.pop();
  }
}

function redactObject(
  object: Record<string, unknown>,
  depth: number,
  ancestors: object[],
  owned: boolean,
): Record<string, unknown> {
  let copy: Record<string, unknown> | null = owned ? object : null;
  for (const key of Object.keys(object)) {
    const item = object[key];
    const redacted = isSecretKey(key) && mayHoldSecret(item) ? CENSOR : redact(item, depth + 1, ancestors);
    if (redacted !== item) (copy ??= { ...object })[key] = redacted;
  }
  return copy ?? object;
}

/** A flag (`hasRefreshToken: true`) or an absent value says nothing secret; every other value under a secret key goes. */
function mayHoldSecret(value: unknown): boolean {
  return value !== undefined && value !== null && typeof value !== 'boolean';
}

/** pino's own error shape (type, message, stack, causes' messages, own fields), as a plain object this walk owns. */
function serialiseError(error: Error): Record<string, unknown> {
  const serialised = stdSerializers.err(error) as unknown as Record<string, unknown>;
  const plain: Record<string, unknown> = {};
  // for...in: the serialiser's type, message and stack live on its prototype.
  for (const key in serialised) if (serialised[key] !== undefined) plain[key] = serialised[key];
  return plain;
}
