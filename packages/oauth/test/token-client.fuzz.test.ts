import { createServer, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  classify,
  parseProviderEntry,
  type ProviderDefinition,
  type ProviderEntry,
  type RefreshOutcome,
  type TokenEndpointReply,
} from '@evergreen/core';
import { buildTokenRequest, TokenClient } from '../src/index.ts';

/**
 * Property tests of the token client against a raw TCP server that answers anything at all: any status 100..599, any
 * reason phrase, headers of any shape, bodies of random bytes, token JSON with wrong types, HTML, cut or mis-framed.
 * The client never throws, reports what came back as plain data, and the classification that follows puts no token
 * into a reason.
 */

const MAX_BYTES = 2_048;

interface Answer {
  status: number;
  reason: string;
  headers: [string, string][];
  body: Buffer;
  /** exact: Content-Length right; none: body until close; short/long: a Content-Length that lies; chunked: one chunk. */
  framing: 'exact' | 'none' | 'short' | 'long' | 'chunked';
}

/** The answer the server gives to the next request (the property runs requests one at a time). */
let next: Buffer = Buffer.alloc(0);
let server: Server;
let tokenUrl: string;
const sockets = new Set<Socket>();

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let seen = Buffer.alloc(0);
    let answered = false;
    socket.on('data', (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const end = seen.indexOf('\r\n\r\n');
      if (answered || end < 0) return;
      const length = Number(/content-length:\s*(\d+)/i.exec(seen.subarray(0, end).toString('latin1'))?.[1] ?? 0);
      if (seen.length < end + 4 + length) return;
      answered = true;
      socket.end(next);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  tokenUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function wire(answer: Answer): Buffer {
  const lines = [`HTTP/1.1 ${answer.status} ${answer.reason}`, ...answer.headers.map(([n, v]) => `${n}: ${v}`)];
  const { body } = answer;
  let payload = body;
  if (answer.framing === 'exact') lines.push(`Content-Length: ${body.length}`);
  if (answer.framing === 'short') lines.push(`Content-Length: ${Math.max(0, body.length - 3)}`);
  if (answer.framing === 'long') lines.push(`Content-Length: ${body.length + 10}`);
  if (answer.framing === 'chunked') {
    lines.push('Transfer-Encoding: chunked');
    payload = Buffer.concat([
      Buffer.from(`${body.length.toString(16)}\r\n`),
      body,
      Buffer.from(body.length > 0 ? '\r\n0\r\n\r\n' : '\r\n'),
    ]);
  }
  lines.push('Connection: close');
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
}

/** The generators write this where a token goes; each run swaps in a fresh one. */
const S = 'TOKENPLACEHOLDER';
const secret = fc
  .string({
    unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'),
    minLength: 24,
    maxLength: 40,
  })
  .map((body) => `gho_SECRET${body}`);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(S),
  fc.string({ maxLength: 20 }),
  fc.double(),
  fc.integer(),
  fc.constantFrom(1e308, -1, 0, 3600, '3600', '1e3', null, true, [], {}),
);
const tokenJson = fc.record(
  {
    access_token: fc.oneof(fc.constant(S), anyValue),
    refresh_token: anyValue,
    expires_in: anyValue,
    token_type: anyValue,
    error: fc.oneof(fc.constantFrom('invalid_grant', 'invalid_client', 'temporarily_unavailable', S), anyValue),
    error_description: fc.constant(`refresh token ${S} was revoked`),
  },
  { requiredKeys: [] },
);
const bodyText = fc.oneof(
  { weight: 4, arbitrary: tokenJson.map((o) => JSON.stringify(o)) },
  fc.json({ maxDepth: 2 }),
  fc.constant(`<html><body><h1>502 Bad Gateway</h1><!-- ${S} --></body></html>`),
  fc.constant(`access_token=${S}&token_type=bearer`),
  tokenJson.map((o) => JSON.stringify(o).slice(0, 20)),
  fc.string({ unit: 'binary', maxLength: 200 }),
);
const body = fc.oneof(
  { weight: 6, arbitrary: bodyText.map((t) => ({ text: t })) },
  fc.uint8Array({ maxLength: 300 }).map((b) => ({ bytes: Buffer.from(b) })),
  // Over the size cap: must come back cut and flagged.
  fc.integer({ min: MAX_BYTES - 2, max: MAX_BYTES * 3 }).map((n) => ({ text: `{"access_token":"${'a'.repeat(n)}"}` })),
);
const printable = fc.string({
  unit: fc.constantFrom(...' !#$%&()*+,-./0123456789:;<=>?@ABCXYZ[]^_`abcxyz{|}~'),
  maxLength: 30,
});
const headerValue = fc.oneof(
  { weight: 8, arbitrary: printable },
  fc.constant(S),
  fc.string({ unit: 'binary-ascii', maxLength: 10 }),
);
const headers = fc.array(
  fc.oneof(
    fc.tuple(
      fc.constant('Content-Type'),
      fc.constantFrom(
        'application/json',
        'application/x-www-form-urlencoded',
        'text/html; charset=utf-8',
        'text/plain',
        '',
      ),
    ),
    fc.tuple(
      fc.constant('Retry-After'),
      fc.oneof(
        fc.nat().map(String),
        printable,
        fc.date({ noInvalidDate: true }).map((d) => d.toUTCString()),
      ),
    ),
    fc.tuple(fc.constantFrom('X-Request-Id', 'WWW-Authenticate', 'Set-Cookie', 'X-Token', 'set-cookie'), headerValue),
  ),
  { maxLength: 5 },
);
const answer = fc
  .record({
    secret,
    status: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 100, max: 599 }) },
      { weight: 2, arbitrary: fc.constantFrom(200, 400, 401, 429, 500, 502, 503) },
    ),
    reason: fc.oneof(fc.constantFrom('OK', 'Bad Request', ''), printable),
    headers,
    body,
    framing: fc.oneof(
      { weight: 6, arbitrary: fc.constant('exact' as const) },
      fc.constantFrom('none' as const, 'short' as const, 'long' as const, 'chunked' as const),
    ),
  })
  .map(({ secret: s, body: b, headers: h, ...rest }) => ({
    secret: s,
    answer: {
      ...rest,
      headers: h.map(([n, v]) => [n, v.replaceAll(S, s)] as [string, string]),
      body: 'bytes' in b ? b.bytes : Buffer.from(b.text.replaceAll(S, s)),
    } satisfies Answer,
  }));

function definition(url: string, patch: Partial<ProviderEntry> = {}): ProviderDefinition {
  const result = parseProviderEntry({
    id: 'fuzz',
    tokenUrl: url,
    clientId: 'client-id',
    clientSecret: 'client-secret',
    ...patch,
  });
  if (!result.ok) throw new Error(`bad test provider: ${JSON.stringify(result.issues)}`);
  return result.provider;
}

function withoutTokens(outcome: RefreshOutcome): Record<string, unknown> {
  const { tokens: _tokens, ...rest } = outcome as RefreshOutcome & { tokens?: unknown };
  return rest;
}

/** Statuses after which a body is framed as sent: not 1xx (informational), 204 or 304 (no body). */
const carriesBody = (status: number) => status >= 200 && status !== 204 && status !== 304;

describe('TokenClient.request, fuzzed against a server that answers anything', () => {
  it('never throws, reports plain data, and what it reports classifies with no token in any reason', async () => {
    const client = new TokenClient({
      connectTimeoutMs: 1_000,
      headersTimeoutMs: 1_000,
      bodyTimeoutMs: 1_000,
      deadlineMs: 2_000,
      maxResponseBytes: MAX_BYTES,
    });
    const provider = definition(tokenUrl);
    try {
      await fc.assert(
        fc.asyncProperty(answer, async ({ secret: s, answer: a }) => {
          next = wire(a);
          const { reply } = await client.request(provider, tokenUrl, { refreshToken: 'rt-presented', scopes: [] });
          checkShape(reply);
          if (reply.kind === 'response') {
            expect(reply.status).toBe(a.status);
            if (a.framing === 'exact' && carriesBody(a.status)) {
              expect(reply.truncated).toBe(a.body.length > MAX_BYTES);
              const expected = reply.truncated ? a.body.subarray(0, MAX_BYTES) : a.body;
              expect(reply.body).toBe(expected.toString('utf8'));
            }
          } else {
            expect(JSON.stringify(reply)).not.toContain(s);
          }
          const outcome = classify(
            reply,
            Date.now(),
            { defaultRetryAfterMs: 60_000, maxRetryAfterMs: 600_000 },
            provider,
          );
          expect(['success', 'transient', 'rate_limited', 'reauth', 'fatal']).toContain(outcome.kind);
          expect(JSON.stringify(withoutTokens(outcome))).not.toContain(s);
          if (outcome.kind === 'success') expect(reply.kind === 'response' && reply.status < 300).toBe(true);
        }),
        { numRuns: 200 },
      );
    } finally {
      await client.close();
    }
  });
});

function checkShape(reply: TokenEndpointReply): void {
  if (reply.kind === 'network') {
    expect(typeof reply.timeout).toBe('boolean');
    expect(reply.code === null || typeof reply.code === 'string').toBe(true);
    return;
  }
  expect(reply.kind).toBe('response');
  expect(Number.isInteger(reply.status)).toBe(true);
  expect(typeof reply.body).toBe('string');
  expect(typeof reply.truncated).toBe('boolean');
  for (const [name, value] of Object.entries(reply.headers)) {
    expect(name).toBe(name.toLowerCase());
    expect(typeof value).toBe('string');
  }
}

describe('buildTokenRequest, fuzzed', () => {
  /** Tokens and secrets of any well-formed text: what a provider may issue and a user may choose. */
  const value = fc.string({ unit: 'binary', minLength: 1, maxLength: 80 });
  const dialect = fc.record({
    clientAuth: fc.constantFrom('client_secret_basic' as const, 'client_secret_post' as const, 'none' as const),
    format: fc.constantFrom('form' as const, 'json' as const),
    grant: fc.constantFrom('refresh_token' as const, 'password' as const, 'client_credentials' as const),
    scope: fc.constantFrom('none' as const, 'connection' as const),
  });

  it('carries exactly the refresh token, credentials and client secret given, whatever characters they hold', () => {
    fc.assert(
      fc.property(
        dialect,
        value,
        value,
        value,
        value,
        fc.array(fc.string({ unit: 'binary', minLength: 1, maxLength: 10 }), { maxLength: 3 }),
        (d, refreshToken, password, clientId, clientSecret, scopes) => {
          const provider = definition('https://auth.example.com/token', {
            clientId,
            clientSecret,
            clientAuth: d.clientAuth,
            grant: d.grant,
            request: { format: d.format, scope: d.scope },
          });
          const { headers, body } = buildTokenRequest(provider, {
            refreshToken,
            credentials: { username: 'user', password },
            scopes,
          });
          const fields: Record<string, string> =
            d.format === 'json'
              ? (JSON.parse(body) as Record<string, string>)
              : Object.fromEntries(new URLSearchParams(body));
          expect(headers['content-type']).toBe(
            d.format === 'json' ? 'application/json' : 'application/x-www-form-urlencoded',
          );
          expect(fields.refresh_token).toBe(d.grant === 'refresh_token' ? refreshToken : undefined);
          if (d.grant === 'password') expect(fields.password).toBe(password);
          if (d.scope === 'connection' && scopes.length > 0) expect(fields.scope).toBe(scopes.join(' '));
          if (d.clientAuth === 'client_secret_basic') {
            // RFC 6749 §2.3.1: each part form-urlencoded, then joined and base64-encoded.
            const decoded = Buffer.from((headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString(
              'utf8',
            );
            const [id, secretPart] = decoded.split(':') as [string, string];
            const formDecode = (x: string) => new URLSearchParams(`v=${x}`).get('v');
            expect(formDecode(id)).toBe(clientId);
            expect(formDecode(secretPart)).toBe(clientSecret);
            expect(fields.client_secret).toBeUndefined();
          } else if (d.clientAuth === 'client_secret_post') {
            expect(fields.client_id).toBe(clientId);
            expect(fields.client_secret).toBe(clientSecret);
          } else {
            expect(fields.client_secret).toBeUndefined();
            expect(headers.authorization).toBeUndefined();
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
