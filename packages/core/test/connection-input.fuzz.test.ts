import fc from 'fast-check';
import { ENQUEUE_INPUT_FIELDS as FIELDS } from '@evergreen/test-support/enqueue-input';
import { describe, expect, it } from 'vitest';
import { parseConnectionInput, type ConnectionInput } from '../src/connection-input.ts';
import { InvalidInputError } from '../src/errors.ts';

/**
 * Property tests of what `enqueueConnection()` accepts: any value gives either a normalised input that Postgres and the
 * keyring can store as given, or an InvalidInputError naming each offending field, whose message repeats no value.
 */

/** Token-looking values, unlike anything else generated, so a leak is unmistakable. */
const secret = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 20, maxLength: 40 })
  .map((body) => `tok_LEAK${body}`);
/** Any UTF-16 string, lone surrogates and NULs included. */
const utf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 30,
});
const text = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), utf16);

/** Values a field may plausibly get right. */
const good: Record<string, fc.Arbitrary<unknown>> = {
  // Dots alone are refused (a URL path reads them as "this" or "parent"); generated often, as the edge they are.
  connectionId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/), fc.stringMatching(/^\.{1,3}$/)),
  ownerId: fc.oneof(fc.string({ minLength: 1, maxLength: 256 }), text),
  provider: fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,63}$/),
  accessToken: fc.oneof(fc.string({ minLength: 1, maxLength: 100 }), text, secret),
  refreshToken: fc.oneof(fc.string({ minLength: 1, maxLength: 100 }), text, secret),
  expiresAt: fc.oneof(
    fc.date(),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }),
    fc.constantFrom('0000-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2030-01-01T00:00:00+01:00'),
  ),
  expiresIn: fc.oneof(fc.nat({ max: 10 * 365 * 86_400 }), fc.double()),
  refreshTokenExpiresIn: fc.oneof(fc.nat({ max: 10 * 365 * 86_400 }), fc.double()),
  credentials: fc.record(
    { username: text, password: fc.oneof(text, secret), clientId: text, clientSecret: fc.oneof(text, secret) },
    { requiredKeys: [] },
  ),
  scopes: fc.oneof(
    fc.array(text, { maxLength: 5 }),
    fc.array(fc.string({ minLength: 250, maxLength: 260 }), { maxLength: 3 }),
    fc.array(fc.string({ minLength: 200, maxLength: 256 }), { minLength: 60, maxLength: 90 }),
  ),
  metadata: fc.oneof(
    fc.dictionary(text, fc.oneof(text, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 }),
    fc.object({ maxDepth: 2, withBigInt: true, withDate: true, withMap: true, withNullPrototype: true }),
  ),
};

/** Anything at all where a field goes: wrong types, secrets in wrong places. */
const wild = fc.oneof(
  fc.anything({ maxDepth: 2, withBigInt: true, withDate: true, withNullPrototype: true, withSparseArray: true }),
  secret,
  fc.array(secret, { maxLength: 2 }),
  secret.map((s) => ({ token: s })),
  fc.constantFrom(NaN, Infinity, -1, 1e308, null, undefined, '', true, new Date(NaN), new Map(), [1, 2]),
  // Objects JSON cannot write: a toJSON that gives nothing or throws, a cycle.
  fc.constantFrom(
    { toJSON: () => undefined },
    {
      toJSON: () => {
        throw new Error('no');
      },
    },
    (() => {
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      return cycle;
    })(),
  ),
);

const input: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.record(
      Object.fromEntries(
        FIELDS.map((f) => [f, fc.oneof({ weight: 3, arbitrary: good[f] as fc.Arbitrary<unknown> }, wild)]),
      ),
      { requiredKeys: [] },
    ),
    fc.oneof(
      { weight: 4, arbitrary: fc.constant({}) },
      fc.dictionary(fc.string({ minLength: 1, maxLength: 12 }), wild, { maxKeys: 2 }),
    ),
  )
  .map(([known, extra]) => ({ ...extra, ...known }));

/** What the caller may hand over: mostly objects, sometimes not an object at all. */
const raw = fc.oneof({ weight: 9, arbitrary: input }, fc.anything(), secret);

/** Collects every string in a value (secrets included), to look for them in a message. */
function strings(value: unknown, into: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') into.push(value);
  else if (value !== null && typeof value === 'object' && depth < 5) {
    for (const v of Object.values(value)) strings(v, into, depth + 1);
  }
  return into;
}

function parse(value: unknown): ConnectionInput | InvalidInputError {
  try {
    return parseConnectionInput(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
}

const wellFormed = (t: string) => Buffer.from(t, 'utf8').toString('utf8') === t;
/** What a Postgres text or jsonb value takes. */
const storableText = (t: string) => wellFormed(t) && !t.includes('\u0000');

describe('parseConnectionInput, fuzzed', () => {
  it('gives a normalised input or an InvalidInputError naming each field; nothing else is thrown', () => {
    fc.assert(
      fc.property(raw, (value) => {
        const result = parse(value);
        if (!(result instanceof InvalidInputError)) return;
        expect(result.code).toBe('ERR_INVALID_INPUT');
        expect(result.issues.length).toBeGreaterThan(0);
        expect(result.field).toBe(result.issues[0]?.field);
        const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
        for (const issue of result.issues) {
          expect(result.message).toContain(issue.field);
          expect(issue.reason.length).toBeGreaterThan(0);
          // The field is the input as a whole, a known field (or a path inside one), or the unknown key(s) given.
          const head = issue.field.split('.')[0] as string;
          const named =
            issue.field === '(input)' ||
            FIELDS.includes(head) ||
            keys.some((k) => issue.field === k || issue.field.split(', ').includes(k));
          expect(named, issue.field).toBe(true);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('never repeats a token-looking value (wherever it was put) in the message or a reason', () => {
    fc.assert(
      fc.property(input, (value) => {
        const result = parse(value);
        if (!(result instanceof InvalidInputError)) return;
        const leaks = strings(value).filter((s) => s.startsWith('tok_LEAK'));
        for (const s of leaks) {
          expect(result.message).not.toContain(s);
          for (const issue of result.issues) expect(issue.reason).not.toContain(s);
        }
        expect(result.message).not.toContain('tok_LEAK');
      }),
      { numRuns: 1_000 },
    );
  });

  it('accepts only what can be stored as given: text Postgres takes, tokens that survive encryption, storable dates', () => {
    fc.assert(
      fc.property(raw, (value) => {
        const result = parse(value);
        if (result instanceof InvalidInputError) return;
        expect(storableText(result.ownerId)).toBe(true);
        if (result.connectionId !== undefined) expect(result.connectionId).toMatch(/^(?!\.+$)[A-Za-z0-9_.-]{1,128}$/);
        for (const scope of result.scopes) expect(storableText(scope)).toBe(true);
        for (const scope of result.scopes) expect(scope.length).toBeLessThanOrEqual(256);
        expect(result.scopes.join(' ').length).toBeLessThanOrEqual(16_384);
        for (const token of [result.accessToken, result.refreshToken]) {
          if (token !== undefined) expect(wellFormed(token)).toBe(true);
        }
        // Credentials are sealed as one JSON document, whose escapes carry any UTF-16 string; they are kept as given.
        if (result.credentials) {
          expect(wellFormed(JSON.stringify(result.credentials))).toBe(true);
          expect(result.credentials).toEqual((value as { credentials: unknown }).credentials);
        }
        // Metadata goes into jsonb as JSON: every key and string in it must be text Postgres takes.
        const json = JSON.stringify(result.metadata);
        const parsedBack = JSON.parse(json) as unknown;
        const texts = [...strings(parsedBack), ...keysDeep(parsedBack)];
        for (const t of texts) expect(storableText(t), JSON.stringify(t)).toBe(true);
        if (result.expiresAt !== undefined) {
          expect(new Date(result.expiresAt).toISOString()).toMatch(/^(?!0000)\d{4}-/);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('keeps a valid input exactly: tokens, scopes, metadata and times as given', () => {
    const valid = fc.record(
      {
        connectionId: fc.stringMatching(/^[A-Za-z0-9_.-]{1,128}$/).filter((id) => !/^\.+$/.test(id)),
        ownerId: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }),
        provider: good.provider as fc.Arbitrary<string>,
        accessToken: fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
        refreshToken: fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }),
        expiresIn: fc.nat({ max: 10 * 365 * 86_400 }),
        scopes: fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }), { maxLength: 5 }),
        metadata: fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 10 }), fc.string({ unit: 'grapheme' })),
      },
      { requiredKeys: ['ownerId', 'provider', 'accessToken'] },
    );
    fc.assert(
      fc.property(valid, (value) => {
        expect(parseConnectionInput(value)).toEqual({ scopes: [], metadata: {}, ...value });
      }),
      { numRuns: 500 },
    );
  });
});

function keysDeep(value: unknown, into: string[] = []): string[] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.push(k);
      keysDeep(v, into);
    }
  }
  return into;
}

describe('found by fuzzing (regressions)', () => {
  const valid = { ownerId: 'u', provider: 'acme', accessToken: 'at' };
  const rejected = (patch: Record<string, unknown>): InvalidInputError => {
    const result = parse({ ...valid, ...patch });
    expect(result).toBeInstanceOf(InvalidInputError);
    return result as InvalidInputError;
  };

  it('refuses NUL characters and lone surrogates where Postgres would refuse them, naming the field', () => {
    expect(rejected({ ownerId: 'a\u0000b' }).field).toBe('ownerId');
    expect(rejected({ ownerId: '\ud800' }).field).toBe('ownerId');
    expect(rejected({ scopes: ['read', 'wr\u0000ite'] }).field).toBe('scopes.1');
    expect(rejected({ metadata: { team: 'a\u0000' } }).field).toBe('metadata');
    expect(rejected({ metadata: { 'k\u0000': 1 } }).field).toBe('metadata');
    expect(rejected({ metadata: { k: ['\udc00'] } }).field).toBe('metadata');
  });

  it('refuses a token with a lone surrogate (it would decrypt as U+FFFD), but keeps NULs in tokens, which it can', () => {
    expect(rejected({ accessToken: 'at\ud800' }).field).toBe('accessToken');
    expect(rejected({ refreshToken: '\udfff' }).field).toBe('refreshToken');
    expect(parse({ ...valid, accessToken: 'a\u0000b' })).toMatchObject({ accessToken: 'a\u0000b' });
  });

  it('refuses an expiresAt outside the years 0001-9999, which timestamptz cannot read back', () => {
    expect(rejected({ expiresAt: new Date(8.64e15) }).field).toBe('expiresAt');
    expect(rejected({ expiresAt: '0000-01-01T00:00:00Z' }).field).toBe('expiresAt');
    expect(parse({ ...valid, expiresAt: '9999-12-31T23:59:59Z' })).toMatchObject({ expiresAt: 253_402_300_799_000 });
  });

  it('metadata whose toJSON gives nothing is an InvalidInputError, not a TypeError', () => {
    expect(rejected({ metadata: { toJSON: () => undefined } }).field).toBe('metadata');
  });

  it('refuses credentials given as a Date or a Map, which would otherwise be stored as empty credentials', () => {
    expect(rejected({ credentials: new Map([['username', 'u']]) }).field).toBe('credentials');
    expect(rejected({ credentials: new Date() }).field).toBe('credentials');
    expect(parse({ ...valid, credentials: Object.assign(Object.create(null), { username: 'u' }) })).toMatchObject({
      credentials: { username: 'u' },
    });
  });

  it('keeps a "__proto__" metadata key (JSON.parse makes one) as data rather than dropping it', () => {
    const metadata = JSON.parse('{"__proto__": {"instance_url": "https://x"}, "a": 1}') as Record<string, unknown>;
    const result = parse({ ...valid, metadata }) as ConnectionInput;
    expect(Object.keys(result.metadata)).toEqual(['__proto__', 'a']);
    expect(JSON.stringify(result.metadata)).toBe('{"__proto__":{"instance_url":"https://x"},"a":1}');
  });
});
