import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify, STANDARD_RULES, type ClassifyPolicy, type ProviderRules } from '../src/classify.ts';
import {
  ABSOLUTE_TIME_FORMATS,
  DEFAULT_RESPONSE_SHAPE,
  ERROR_MEANINGS,
  type ResponseShape,
} from '../src/provider-definition.ts';
import type { RefreshOutcome } from '../src/refresh-outcome.ts';
import { planRefresh } from '../src/refresh-plan.ts';
import type { TokenEndpointReply } from '../src/token-endpoint-reply.ts';
import { parseAbsoluteTime, parseExpiresIn, parseTokenResponse } from '../src/token-response.ts';
import { FATAL_REASONS, now, TRANSIENT_REASONS } from './fuzz-support.ts';

/**
 * Property tests of DESIGN.md invariant 6 on whatever a token endpoint (or a proxy in front of it) may answer: any
 * status 100..599, any headers, any body. The reply is classified, never thrown, and nothing the provider sent,
 * a token least of all, reaches a reason.
 */

const GARBAGE = ['not_json', 'not_an_object', 'no_access_token', 'bad_token', 'bad_expires_in'];

/** A token-looking value: a prefix and 24-48 base64url characters, unlike anything else the generators produce. */
const secret = fc
  .tuple(
    fc.constantFrom('ya29.', 'gho_', 'xoxe-1-', 'sl.', 'eyJ', 'rt_', ''),
    fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
      minLength: 24,
      maxLength: 48,
    }),
  )
  .map(([prefix, body]) => `${prefix}SECRET${body}`);

/**
 * The generators write this where a token goes, and each run swaps in a fresh secret: building the arbitraries once,
 * rather than once per secret, keeps the file fast.
 */
const S = 'TOKENPLACEHOLDER';
const withSecret = (text: string, s: string) => text.replaceAll(S, s);

/** What may sit where a string, a number or a token goes: every JSON type, wrong ones included. */
const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(S),
  fc.constant(`Bearer ${S}`),
  fc.string({ maxLength: 20 }),
  fc.constant(''),
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1, 0, 3600, 2 ** 53 + 1, 1e21, 0.5),
  fc.stringMatching(/^\s*[0-9]{1,30}(\.[0-9]{1,5})?\s*$/),
  fc.constantFrom('3600', '1e3', '0x10', '-5', 'NaN', 'Infinity', '', ' 60 ', '9'.repeat(400)),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.constant(S), { maxLength: 2 }),
  fc.constant({ value: S }),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

const ERROR_CODES = [
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'unsupported_grant_type',
  'invalid_request',
  'invalid_scope',
  'temporarily_unavailable',
  'bad_refresh_token',
  'token_revoked',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
];

/** A token-endpoint-like JSON object: the standard fields (and nested and unknown ones), each of any type. */
const tokenJson: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    access_token: anyValue,
    refresh_token: anyValue,
    expires_in: anyValue,
    refresh_token_expires_in: anyValue,
    expires_at: anyValue,
    issued_at: anyValue,
    token_type: anyValue,
    scope: anyValue,
    error: fc.oneof(fc.constantFrom(...ERROR_CODES), anyValue),
    error_description: fc.oneof(anyValue, fc.constant(`refresh token ${S} is invalid`)),
    ok: anyValue,
    authed_user: fc.record({ access_token: anyValue, refresh_token: anyValue }, { requiredKeys: [] }),
    instance_url: anyValue,
    [S]: anyValue,
    extra: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

/** Closer to what a provider sends: an access token that is a string (or the secret), an error code now and then. */
const plausibleJson: fc.Arbitrary<Record<string, unknown>> = fc
  .tuple(
    fc.oneof(fc.constant(S), fc.string({ minLength: 1, maxLength: 30 }), anyValue),
    fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...ERROR_CODES) }),
    fc.oneof(fc.nat(), fc.nat().map(String), anyValue),
    tokenJson,
  )
  .map(([access, error, expiresIn, rest]) => {
    const { error: _error, ...others } = rest;
    return { ...others, access_token: access, expires_in: expiresIn, ...(error !== null && { error }) };
  });

/** How a form body writes a value: strings as they are, anything else as its JSON. */
const formValue = (x: unknown) => (typeof x === 'string' ? x : String(JSON.stringify(x)));

/** Any body at all: bytes, JSON, provider-shaped JSON with wrong types, HTML, truncated JSON, forms, huge numbers. */
const shapedBody = fc.oneof(tokenJson, plausibleJson, plausibleJson).map((o) => JSON.stringify(o));
const body: fc.Arbitrary<string> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.json({ maxDepth: 3 }),
  { weight: 8, arbitrary: shapedBody },
  fc.tuple(shapedBody, fc.nat()).map(([text, at]) => text.slice(0, at % Math.max(1, text.length))),
  fc.constant(`<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>${S}</p></body></html>`),
  fc.constant(`access_token=${S}&token_type=bearer&expires_in=28800`),
  fc.constant(`error=bad_refresh_token&error_description=${S}`),
  tokenJson.map((o) =>
    new URLSearchParams(Object.entries(o).map(([k, x]): [string, string] => [k, formValue(x)])).toString(),
  ),
  fc.constantFrom(
    '',
    ' ',
    'null',
    '[]',
    '"at"',
    '{"access_token":"at","expires_in":1e400}',
    `{"access_token":"at","expires_in":${'9'.repeat(400)}}`,
    '{"access_token":"at","expires_in":"3600","refresh_token_expires_in":1e308}',
    '{"access_token":"\\ud800","refresh_token":"\\udfff"}',
    `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
    `${'{"a":'.repeat(3_000)}1${'}'.repeat(3_000)}`,
  ),
);

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/x-www-form-urlencoded',
  'text/html',
  'text/plain',
  'application/problem+json',
  '',
];

/** Any headers: content types real and garbage, Retry-After of any shape, a token in a header of its own. */
const headers: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    'content-type': fc.oneof(fc.constantFrom(...CONTENT_TYPES), fc.string({ maxLength: 40 })),
    'retry-after': fc.oneof(
      fc.nat({ max: 10 ** 9 }).map(String),
      fc.string({ maxLength: 40 }),
      fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      fc.constantFrom('-1', '1.5', '1e3', ' 120 ', '9'.repeat(400), 'Fri, 31 Dec 9999 23:59:59 GMT', S),
    ),
    'www-authenticate': fc.constant(`Bearer error="invalid_token", token="${S}"`),
    'x-request-id': fc.string({ maxLength: 20 }),
  },
  { requiredKeys: [] },
);

const PATHS = ['access_token', 'refresh_token', 'expires_in', 'expires_at', 'issued_at', 'error', 'ok', 'scope'];
const path = fc.oneof(
  fc.constantFrom(...PATHS),
  fc.constantFrom('authed_user.access_token', 'authed_user.refresh_token', 'a.b.c', '__proto__', 'constructor'),
);
/** A provider's response shape and error table, as a providers file may declare them. */
const rules: fc.Arbitrary<ProviderRules> = fc.oneof(
  fc.constant(STANDARD_RULES),
  fc.record({
    response: fc.record({
      accessToken: fc.oneof(fc.constant('access_token'), path),
      refreshToken: fc.option(path),
      expiresIn: fc.option(path),
      expiresInUnit: fc.constantFrom('seconds', 'milliseconds'),
      expiresAt: fc.option(path),
      expiresAtFormat: fc.constantFrom(...ABSOLUTE_TIME_FORMATS),
      issuedAt: fc.option(path),
      issuedAtFormat: fc.constantFrom(...ABSOLUTE_TIME_FORMATS),
      refreshTokenExpiresIn: fc.option(path),
      error: path,
      successFlag: fc.option(path),
      metadata: fc.dictionary(fc.constantFrom('instance_url', 'team', 'org'), path, { maxKeys: 2 }),
    }) satisfies fc.Arbitrary<ResponseShape>,
    errors: fc.dictionary(fc.constantFrom(...ERROR_CODES), fc.constantFrom(...ERROR_MEANINGS), { maxKeys: 4 }),
  }),
);

const policy: fc.Arbitrary<ClassifyPolicy> = fc.record({
  defaultRetryAfterMs: fc.integer({ min: 100, max: 3_600_000 }),
  maxRetryAfterMs: fc.integer({ min: 100, max: 86_400_000 }),
});

/** Any reply a token endpoint can produce, with a fresh secret wherever a token may hide. */
const reply: fc.Arbitrary<{ secret: string; reply: TokenEndpointReply }> = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.record({
      secret,
      reply: fc.record({
        kind: fc.constant('network' as const),
        timeout: fc.boolean(),
        code: fc.option(fc.string({ maxLength: 20 })),
      }),
    }),
  },
  {
    weight: 9,
    arbitrary: fc
      .record({
        secret,
        status: fc.oneof(
          fc.integer({ min: 100, max: 599 }),
          fc.constantFrom(200, 201, 400, 401, 403, 429, 500, 503),
          fc.constant(200),
        ),
        headers,
        body,
        truncated: fc.oneof({ weight: 4, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      })
      .map(({ secret: s, status, headers: h, body: b, truncated }) => ({
        secret: s,
        reply: {
          kind: 'response' as const,
          status,
          headers: Object.fromEntries(Object.entries(h).map(([k, v]) => [k, withSecret(v, s)])),
          body: withSecret(b, s),
          truncated,
        },
      })),
  },
);

const scenario = fc.record({ reply, now, policy, rules }).map(({ reply: r, ...rest }) => ({ ...r, ...rest }));

/** The outcome as it travels to logs, metrics, the audit table and errors: everything but the granted tokens. */
function withoutTokens(outcome: RefreshOutcome): Record<string, unknown> {
  const { tokens: _tokens, ...rest } = outcome as RefreshOutcome & { tokens?: unknown };
  return rest;
}

function expectFiniteTokenNumbers(tokens: Record<string, unknown>): void {
  for (const key of ['expiresInSeconds', 'expiresAt', 'issuedAt', 'refreshTokenExpiresInSeconds']) {
    if (tokens[key] !== undefined) expect(Number.isFinite(tokens[key]), key).toBe(true);
  }
}

describe('classify, fuzzed', () => {
  it('classifies any reply into exactly one outcome whose reason belongs to its kind', () => {
    fc.assert(
      fc.property(scenario, ({ reply: r, now: at, policy: p, rules: rs }) => {
        const outcome = classify(r, at, p, rs);
        switch (outcome.kind) {
          case 'success':
            expect(outcome.tokens.accessToken).toEqual(expect.any(String));
            expect(outcome.tokens.accessToken.length).toBeGreaterThan(0);
            expectFiniteTokenNumbers(outcome.tokens as unknown as Record<string, unknown>);
            break;
          case 'transient':
            expect(TRANSIENT_REASONS).toContain(outcome.reason);
            break;
          case 'rate_limited':
            expect(outcome.reason).toBe('rate_limited');
            break;
          case 'reauth':
            expect(outcome.reason).toBe('invalid_grant');
            break;
          case 'fatal':
            expect(FATAL_REASONS).toContain(outcome.reason);
            break;
          default:
            throw new Error(`not an outcome: ${JSON.stringify(outcome)}`);
        }
        expect(outcome.status).toBe(r.kind === 'network' ? null : r.status);
      }),
      { numRuns: 1_000 },
    );
  });

  it('follows invariant 6: network and timeout, 429 with a capped Retry-After, 5xx, cut bodies, success only on 2xx', () => {
    fc.assert(
      fc.property(scenario, ({ reply: r, now: at, policy: p, rules: rs }) => {
        const outcome = classify(r, at, p, rs);
        if (r.kind === 'network') {
          expect(outcome).toEqual({ kind: 'transient', reason: r.timeout ? 'timeout' : 'network', status: null });
          return;
        }
        if (r.status === 429) {
          expect(outcome.kind).toBe('rate_limited');
          const wait = (outcome as Extract<RefreshOutcome, { kind: 'rate_limited' }>).retryAfterMs;
          expect(Number.isFinite(wait)).toBe(true);
          expect(wait).toBeLessThanOrEqual(p.maxRetryAfterMs);
          expect(wait).toBeGreaterThanOrEqual(Math.min(1_000, p.maxRetryAfterMs));
          return;
        }
        expect(outcome.kind).not.toBe('rate_limited');
        if (r.status >= 500) expect(outcome).toEqual({ kind: 'transient', reason: 'server_error', status: r.status });
        else if (r.truncated) expect(outcome).toEqual({ kind: 'transient', reason: 'bad_response', status: r.status });
        if (outcome.kind === 'success') expect(r.status >= 200 && r.status < 300 && !r.truncated).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  it('never lets a token from the body or the headers into anything but the granted tokens', () => {
    fc.assert(
      fc.property(scenario, ({ secret: s, reply: r, now: at, policy: p, rules: rs }) => {
        const outcome = classify(r, at, p, rs);
        expect(JSON.stringify(withoutTokens(outcome))).not.toContain('SECRET');
        expect(JSON.stringify(withoutTokens(outcome))).not.toContain(s);
      }),
      { numRuns: 1_000 },
    );
  });

  it('is deterministic: the same reply at the same instant classifies the same way', () => {
    fc.assert(
      fc.property(scenario, ({ reply: r, now: at, policy: p, rules: rs }) => {
        expect(classify(r, at, p, rs)).toEqual(classify(structuredClone(r), at, p, rs));
      }),
      { numRuns: 200 },
    );
  });
});

describe('a successful answer, fuzzed', () => {
  /** Any UTF-16 text, lone surrogates and NULs included (JSON escapes can carry both). */
  const utf16 = fc.string({
    unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    maxLength: 40,
  });
  const bigNumber = fc.oneof(
    fc.nat(),
    fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true }),
    fc.constantFrom(1e300, 1e308, 2 ** 53, 253402300800, 1e15),
    fc.stringMatching(/^[0-9]{1,25}$/),
  );
  const answer = fc.record(
    {
      access_token: fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), utf16),
      refresh_token: fc.oneof(fc.string({ maxLength: 40 }), utf16),
      expires_in: bigNumber,
      refresh_token_expires_in: bigNumber,
      expires_at: fc.oneof(
        bigNumber,
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      ),
      issued_at: fc.oneof(
        bigNumber,
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      ),
      instance_url: fc.oneof(fc.webUrl(), utf16),
    },
    { requiredKeys: ['access_token'] },
  );
  const shape = fc.record({
    expiresInUnit: fc.constantFrom('seconds' as const, 'milliseconds' as const),
    expiresAtFormat: fc.constantFrom(...ABSOLUTE_TIME_FORMATS),
    issuedAtFormat: fc.constantFrom(...ABSOLUTE_TIME_FORMATS),
  });
  const wellFormed = (t: string) => Buffer.from(t, 'utf8').toString('utf8') === t;

  it('grants only tokens that survive encryption, metadata a jsonb column takes, and times a row can hold', () => {
    fc.assert(
      fc.property(answer, shape, now, fc.integer({ min: 200, max: 299 }), (fields, formats, at, status) => {
        const rs: ProviderRules = {
          response: {
            ...DEFAULT_RESPONSE_SHAPE,
            ...formats,
            expiresAt: 'expires_at',
            issuedAt: 'issued_at',
            metadata: { instance_url: 'instance_url' },
          },
          errors: {},
        };
        const r: TokenEndpointReply = {
          kind: 'response',
          status,
          headers: {},
          body: JSON.stringify(fields),
          truncated: false,
        };
        const outcome = classify(r, at, { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 }, rs);
        if (outcome.kind !== 'success') {
          expect(outcome).toMatchObject({ kind: 'transient', reason: 'bad_response' });
          return;
        }
        const { tokens } = outcome;
        expect(wellFormed(tokens.accessToken)).toBe(true);
        if (tokens.refreshToken !== undefined) expect(wellFormed(tokens.refreshToken)).toBe(true);
        for (const value of Object.values(tokens.metadata ?? {})) {
          expect(wellFormed(value) && !value.includes('\u0000')).toBe(true);
        }
        const plan = planRefresh({
          now: at,
          issuedFrom: at,
          tokens,
          provider: {
            grant: 'refresh_token',
            defaultLifetimeSeconds: 3600,
            keepAliveSeconds: null,
            refreshTokenLifetimeSeconds: null,
            refreshTokenWarningSeconds: 7 * 86_400,
            rotation: { rotates: 'sometimes', graceSeconds: 0 },
          },
          renewable: true,
          current: { refreshToken: null, refreshTokenExpiresAt: null, refreshTokenWarned: false },
          timing: { bufferMs: 300_000, shortLifetimeFraction: 0.5, jitterMs: 30_000 },
          minIntervalMs: 10_000,
          random: Math.random,
        });
        // What the store does with them: toISOString() and a timestamptz column.
        for (const time of [plan.expiresAt, plan.refreshAt, plan.refreshTokenExpiresAt]) {
          if (time !== null && time !== undefined) expect(new Date(time).toISOString()).toMatch(/^(?!0000)\d{4}-/);
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

describe('parseTokenResponse, fuzzed', () => {
  const input = fc
    .record({
      secret,
      body,
      contentType: fc.oneof(fc.constantFrom(...CONTENT_TYPES), fc.string({ maxLength: 30 })),
      shape: rules.map((r) => r.response),
    })
    .map((i) => ({ ...i, body: withSecret(i.body, i.secret) }));

  it('returns tokens, an error code or a garbage verdict; tokens carry well-typed, finite fields', () => {
    fc.assert(
      fc.property(input, ({ body: b, contentType, shape }) => {
        const parsed = parseTokenResponse(b, shape, contentType);
        if (parsed.kind === 'garbage') {
          expect(GARBAGE).toContain(parsed.why);
          expect(Object.keys(parsed).sort()).toEqual(['kind', 'why']);
        } else if (parsed.kind === 'oauth_error') {
          expect(typeof parsed.error).toBe('string');
          expect(parsed.error.length).toBeGreaterThan(0);
        } else {
          expect(parsed.kind).toBe('tokens');
          const t = parsed.tokens;
          expect(typeof t.accessToken === 'string' && t.accessToken.length > 0).toBe(true);
          if (t.refreshToken !== undefined)
            expect(typeof t.refreshToken === 'string' && t.refreshToken !== '').toBe(true);
          for (const key of ['scope', 'tokenType'] as const)
            if (t[key] !== undefined) expect(typeof t[key]).toBe('string');
          expectFiniteTokenNumbers(t as unknown as Record<string, unknown>);
          if (t.expiresInSeconds !== undefined) expect(t.expiresInSeconds).toBeGreaterThanOrEqual(0);
          if (t.refreshTokenExpiresInSeconds !== undefined)
            expect(t.refreshTokenExpiresInSeconds).toBeGreaterThanOrEqual(0);
          for (const value of Object.values(t.metadata ?? {})) expect(typeof value).toBe('string');
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('an error code, when it reports one, is exactly what the body holds at the error path: no other body text', () => {
    fc.assert(
      fc.property(secret, tokenJson, (s, template) => {
        const record = JSON.parse(withSecret(JSON.stringify(template), s)) as Record<string, unknown>;
        const parsed = parseTokenResponse(JSON.stringify(record), DEFAULT_RESPONSE_SHAPE, 'application/json');
        if (parsed.kind === 'oauth_error') expect(parsed.error).toBe(record.error);
        if (parsed.kind === 'garbage') expect(JSON.stringify(parsed)).not.toContain(s);
      }),
      { numRuns: 500 },
    );
  });

  it('reads back exactly the tokens a well-formed answer grants, JSON or form', () => {
    const token = fc.string({ unit: 'binary', minLength: 1, maxLength: 200 });
    fc.assert(
      fc.property(
        token,
        fc.option(token, { nil: undefined }),
        fc.option(fc.integer({ min: 0, max: 10 ** 9 }), { nil: undefined }),
        fc.boolean(),
        (access, refresh, expiresIn, form) => {
          const fields = {
            access_token: access,
            ...(refresh !== undefined && { refresh_token: refresh }),
            ...(expiresIn !== undefined && { expires_in: expiresIn }),
          };
          const text = form
            ? new URLSearchParams(Object.entries(fields).map(([k, x]): [string, string] => [k, String(x)])).toString()
            : JSON.stringify(fields);
          const parsed = parseTokenResponse(
            text,
            DEFAULT_RESPONSE_SHAPE,
            form ? 'application/x-www-form-urlencoded' : '',
          );
          expect(parsed).toEqual({
            kind: 'tokens',
            tokens: {
              accessToken: access,
              ...(refresh !== undefined && { refreshToken: refresh }),
              ...(expiresIn !== undefined && { expiresInSeconds: expiresIn }),
            },
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('parseExpiresIn and parseAbsoluteTime, fuzzed', () => {
  const anything = fc.oneof(
    fc.anything(),
    fc.double(),
    fc.constantFrom(1e308, Number.MAX_VALUE, 1e21, 2 ** 53, -0, '1e3', '0x10', ' 42 ', '9'.repeat(400)),
    fc.stringMatching(/^\s*[0-9]{1,400}(\.[0-9]{1,20})?\s*$/),
    fc.string(),
  );

  it('parseExpiresIn is null or a finite, non-negative number', () => {
    fc.assert(
      fc.property(anything, (value) => {
        const n = parseExpiresIn(value);
        if (n !== null) {
          expect(Number.isFinite(n)).toBe(true);
          expect(n).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('parseAbsoluteTime is null or a finite whole number of epoch ms, in every format', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          anything,
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
        ),
        fc.constantFrom(...ABSOLUTE_TIME_FORMATS),
        (value, format) => {
          const ms = parseAbsoluteTime(value, format);
          if (ms !== null) {
            expect(Number.isFinite(ms)).toBe(true);
            expect(Number.isInteger(ms)).toBe(true);
          }
        },
      ),
      { numRuns: 1_000 },
    );
  });
});

describe('found by fuzzing (regressions)', () => {
  const shape: ResponseShape = {
    ...DEFAULT_RESPONSE_SHAPE,
    expiresAt: 'expires_at',
    metadata: { instance_url: 'instance_url' },
  };

  it('an epoch-seconds expires_at that overflows to Infinity in milliseconds is garbage, not an Infinity expiry', () => {
    expect(parseAbsoluteTime(1e308, 'epoch_seconds')).toBeNull();
    expect(parseTokenResponse('{"access_token":"a","expires_at":1e308}', shape)).toEqual({
      kind: 'garbage',
      why: 'bad_expires_in',
    });
  });

  it('an access or refresh token holding a lone surrogate (a JSON escape) is garbage: it could not be stored as sent', () => {
    expect(parseTokenResponse('{"access_token":"at\\ud800"}')).toEqual({ kind: 'garbage', why: 'bad_token' });
    expect(parseTokenResponse('{"access_token":"at","refresh_token":"\\udfff"}')).toEqual({
      kind: 'garbage',
      why: 'bad_token',
    });
    expect(
      classify(
        { kind: 'response', status: 200, headers: {}, body: '{"access_token":"\\udbff"}', truncated: false },
        0,
        { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 },
      ),
    ).toEqual({ kind: 'transient', reason: 'bad_response', status: 200 });
  });

  it('metadata a jsonb column would refuse (a NUL, a lone surrogate) is left out of the tokens', () => {
    expect(parseTokenResponse('{"access_token":"a","instance_url":"https://x\\u0000"}', shape)).toEqual({
      kind: 'tokens',
      tokens: { accessToken: 'a' },
    });
    expect(parseTokenResponse('{"access_token":"a","instance_url":"https://x"}', shape)).toEqual({
      kind: 'tokens',
      tokens: { accessToken: 'a', metadata: { instance_url: 'https://x' } },
    });
  });
});
