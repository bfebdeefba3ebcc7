import fc from 'fast-check';
import { ENQUEUE_INPUT_FIELDS as FIELDS } from '@evergreen/test-support/enqueue-input';
import { InvalidInputError, type EnqueueConnectionInput, type EnqueueConnectionResult } from '@evergreen/sdk';
import { migrateDatabase } from '@evergreen/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';

/**
 * enqueueConnection() fuzzed against the real Postgres and Redis: any object gives a result or an InvalidInputError
 * naming a field (and then nothing is written); every valid input is stored so that its row decrypts to exactly what
 * was given, and no stored row ever fails to decrypt.
 */

// Nothing listens on port 9 of loopback; enqueueing never calls the provider.
const TOKEN_URL = 'http://127.0.0.1:9';

/** Any UTF-16 string, lone surrogates and NULs included. */
const utf16 = fc.string({
  unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
  maxLength: 20,
});
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.string({ unit: 'binary', maxLength: 20 }), utf16);
const secret = fc
  .string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'), minLength: 20, maxLength: 30 })
  .map((body) => `tok_LEAK${body}`);
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** A JWT-shaped access token whose `exp` is anything. */
const jwt = fc
  .oneof(fc.double(), fc.integer(), fc.constantFrom(1e300, 253402300800, 2 ** 31), fc.string({ maxLength: 5 }))
  .map((exp) => `${b64url({ alg: 'none' })}.${b64url({ sub: 'u', exp })}.sig`);
const token = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }) },
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 50 }),
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 100 }),
  fc.integer({ min: 1, max: 16_384 }).chain((n) => fc.string({ unit: 'binary', minLength: n, maxLength: n })),
  jwt,
);
const expiry = fc.oneof(
  fc.constant({}),
  fc.nat({ max: 10 * 365 * 86_400 }).map((expiresIn) => ({ expiresIn })),
  fc.double({ min: 0, max: 10 * 365 * 86_400, noNaN: true }).map((expiresIn) => ({ expiresIn })),
  fc
    .date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true })
    .map((expiresAt) => ({ expiresAt })),
  fc
    .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true })
    .map((d) => ({ expiresAt: d.toISOString() })),
);
/** Text Postgres takes (no NUL): what a valid ownerId, scope or metadata string is. */
const plain = (min: number, max: number) =>
  fc.string({ unit: 'binary', minLength: min, maxLength: max }).filter((s) => !s.includes('\u0000'));
const metadata = fc.dictionary(
  plain(0, 12),
  fc.oneof(
    plain(0, 30),
    fc.jsonValue({ maxDepth: 2 }).filter((v) => !JSON.stringify(v).includes('\\u0000')),
  ),
  { maxKeys: 4 },
);
const OWNERS = ['owner-a', 'owner-b', 'ünïcødé-owner', '👤'];
const IDS = ['conn-1', 'conn-2', 'conn-3'];

/** A valid input for one of the four configured providers: a refresh grant, a templated URL, a password grant, a PAT. */
const validInput: fc.Arbitrary<EnqueueConnectionInput> = fc
  .record({
    provider: fc.constantFrom('acme', 'tenant', 'login', 'pat'),
    connectionId: fc.oneof(
      { weight: 2, arbitrary: fc.constant(undefined) },
      fc.constantFrom(...IDS),
      fc.stringMatching(/^[A-Za-z0-9_.-]{8,128}$/).filter((id) => !/^\.+$/.test(id)),
    ),
    ownerId: fc.oneof(fc.constantFrom(...OWNERS), plain(1, 64)),
    accessToken: token,
    refreshToken: fc.option(token, { nil: undefined }),
    expiry,
    scopes: fc.array(plain(1, 15), { maxLength: 4 }),
    metadata,
    tenant: fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9_-]{0,20}$/),
    credentials: fc.record({ username: plain(1, 30), password: token }),
  })
  .map(({ provider, connectionId, expiry: e, tenant, credentials, metadata: m, refreshToken, ...rest }) => ({
    ...rest,
    provider,
    ...e,
    ...(connectionId !== undefined && { connectionId }),
    ...(refreshToken !== undefined && provider !== 'pat' && { refreshToken }),
    ...(provider === 'login' && { credentials }),
    metadata: provider === 'tenant' ? { ...m, tenant } : m,
  }));

/** Anything at all where a field goes. */
const wild = fc.oneof(
  fc.anything({ maxDepth: 2, withBigInt: true, withDate: true, withNullPrototype: true }),
  text,
  secret,
  fc.constantFrom(NaN, Infinity, -1, 1e308, null, '', new Date(NaN), new Date(8.64e15), '0000-01-01T00:00:00Z'),
);
/** The values most likely to break storage: NULs and lone surrogates, dates Postgres cannot hold, absurd JWT expiries. */
const edge = fc.oneof(
  fc.record({ ownerId: fc.constantFrom('a\u0000b', '\ud800', 'x\udfffy') }),
  fc.record({ scopes: fc.constantFrom(['read', 'wr\u0000ite'], ['\udc00'], ['read', 'x'.repeat(257)]) }),
  fc.record({ connectionId: fc.constantFrom('.', '..', '...') }),
  fc.record({ metadata: fc.constantFrom({ team: 'a\u0000' }, { 'k\u0000': 1 }, { k: ['\ud800'] }, { '\udbff': 'x' }) }),
  fc.record({ accessToken: fc.constantFrom('\ud800', 'abc\udfff', '\u0000\u0000') }),
  fc.record({ refreshToken: fc.constantFrom('\udbff\udbff', 'rt-\ud83d') }),
  fc.record({
    expiresAt: fc.constantFrom(
      new Date(8.64e15),
      new Date(-8.64e15),
      new Date('+010000-01-01T00:00:00Z'),
      '0000-01-01T00:00:00Z',
      new Date(NaN),
    ),
  }),
  fc.record({
    accessToken: fc
      .constantFrom(1e300, 1e17, 253402300800, -1, 1e-300)
      .map((exp) => `${b64url({ alg: 'none' })}.${b64url({ sub: 'u', exp })}.sig`),
  }),
);

/** Valid inputs with some fields replaced, dropped or added at random. */
const arbitraryInput: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.tuple(validInput, edge).map(([input, patch]) => {
      // An edge case alone: an expiry from elsewhere could hide it (expiresIn beats the JWT's exp).
      const { expiresIn: _in, expiresAt: _at, ...rest } = input;
      return { ...rest, ...patch };
    }),
  },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        validInput,
        fc.dictionary(fc.constantFrom(...FIELDS, 'refresh_token', 'extra'), fc.option(wild, { nil: undefined }), {
          maxKeys: 2,
        }),
      )
      .map(([input, patch]) => ({ ...input, ...patch })),
  },
);

function checkResult(result: EnqueueConnectionResult, startedAt: number): void {
  expect(typeof result.connectionId).toBe('string');
  expect(result.status).toBe('connected');
  expect(['scheduled', 'pending', 'not_needed']).toContain(result.scheduling);
  for (const time of [result.expiresAt, result.refreshAt]) {
    if (time !== null) {
      expect(time).toBeInstanceOf(Date);
      expect(Number.isFinite(time.getTime())).toBe(true);
    }
  }
  const { expiresAt, refreshAt } = result;
  if (expiresAt !== null && refreshAt !== null && expiresAt.getTime() > Date.now()) {
    expect(refreshAt.getTime()).toBeLessThanOrEqual(expiresAt.getTime());
  }
  if (refreshAt !== null) expect(refreshAt.getTime()).toBeGreaterThanOrEqual(startedAt - 1);
}

describe('enqueueConnection(), fuzzed against Postgres and Redis', () => {
  const sandbox = new Sandbox();
  let stack: Stack;
  /** What each connection was last given: the stored row must decrypt to exactly this. */
  const expected = new Map<string, EnqueueConnectionInput>();

  beforeAll(async () => {
    sandbox.useProviders([
      { id: 'acme', tokenUrl: `${TOKEN_URL}/token` },
      { id: 'tenant', tokenUrl: `${TOKEN_URL}/{tenant}/token` },
      { id: 'login', grant: 'password', tokenUrl: `${TOKEN_URL}/token` },
      { id: 'pat', grant: 'none', tokenUrl: `${TOKEN_URL}/token` },
    ]);
    stack = await startStack(sandbox); // a producer only
    // The table must exist before the first fingerprint, whichever test runs first.
    await migrateDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema });
  });

  afterAll(async () => {
    await stack?.close();
    await sandbox.cleanup();
  });

  /** Cheap fingerprint of the table: any insert changes the count, any update bumps a version. */
  const fingerprint = async () => {
    const [row] = await sandbox.sql`select count(*)::int as n, coalesce(sum(version), 0)::int as v from connections`;
    return row as { n: number; v: number };
  };

  async function expectStoredAsGiven(connectionId: string, input: EnqueueConnectionInput): Promise<void> {
    const row = await stack.read(connectionId);
    expect(row).not.toBeNull();
    expect(row!.ownerId).toBe(input.ownerId);
    expect(row!.provider).toBe(input.provider);
    expect(row!.accessToken).toBe(input.accessToken ?? null);
    expect(row!.refreshToken).toBe(input.refreshToken ?? null);
    expect(row!.credentials).toEqual(input.credentials ?? null);
    expect(row!.scopes).toEqual(input.scopes ?? []);
    expect(row!.metadata).toEqual(JSON.parse(JSON.stringify(input.metadata ?? {})));
  }

  it('stores every valid input so that its row decrypts to exactly what was given', async () => {
    await fc.assert(
      fc.asyncProperty(validInput, async (input) => {
        const startedAt = Date.now();
        let result: EnqueueConnectionResult;
        try {
          result = await stack.evergreen.enqueueConnection(input);
        } catch (error) {
          // The one refusal a valid input can meet: its id already names another owner's (or provider's) connection.
          expect(error).toBeInstanceOf(InvalidInputError);
          expect((error as InvalidInputError).field).toBe('connectionId');
          expect(input.connectionId).toBeDefined();
          return;
        }
        checkResult(result, startedAt);
        if (input.connectionId !== undefined) expect(result.connectionId).toBe(input.connectionId);
        expected.set(result.connectionId, input);
        await expectStoredAsGiven(result.connectionId, input);
      }),
      { numRuns: 150 },
    );
  });

  it('gives any other object a result or an InvalidInputError naming its fields, and writes nothing on error', async () => {
    await fc.assert(
      fc.asyncProperty(arbitraryInput, async (input) => {
        const before = await fingerprint();
        const startedAt = Date.now();
        let result: EnqueueConnectionResult;
        try {
          result = await stack.evergreen.enqueueConnection(input as EnqueueConnectionInput);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidInputError);
          const e = error as InvalidInputError;
          expect(e.code).toBe('ERR_INVALID_INPUT');
          expect(e.issues.length).toBeGreaterThan(0);
          for (const issue of e.issues) expect(e.message).toContain(issue.field);
          expect(e.message).not.toContain('tok_LEAK');
          expect(await fingerprint()).toEqual(before);
          return;
        }
        checkResult(result, startedAt);
        const given = input as EnqueueConnectionInput;
        expected.set(result.connectionId, given);
        // Whatever was accepted was stored as given, whatever it had around it.
        await expectStoredAsGiven(result.connectionId, given);
      }),
      { numRuns: 150 },
    );
  });

  it('enqueueConnections() gives each item of any batch a result or its own InvalidInputError, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbitraryInput, { maxLength: 8 }), async (inputs) => {
        const before = await fingerprint();
        const { results, succeeded, failed } = await stack.evergreen.enqueueConnections(
          inputs as EnqueueConnectionInput[],
        );
        expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(inputs.map((_, i) => i));
        expect(succeeded + failed).toBe(inputs.length);
        for (const r of results) {
          if (!r.ok) {
            expect(r.error.code).toBe('ERR_INVALID_INPUT');
            expect(r.error.issues.length).toBeGreaterThan(0);
            expect(r.error.message).not.toContain('tok_LEAK');
            continue;
          }
          const given = inputs[r.index] as EnqueueConnectionInput;
          expected.set(r.connectionId, given);
          await expectStoredAsGiven(r.connectionId, given);
        }
        if (succeeded === 0) expect(await fingerprint()).toEqual(before);
      }),
      { numRuns: 40 },
    );
  });

  describe('found by fuzzing (regressions)', () => {
    const valid = { ownerId: 'regression-owner', provider: 'acme', accessToken: 'at', refreshToken: 'rt' };
    const refusal = async (input: Record<string, unknown>) => {
      const before = await fingerprint();
      const error = await stack.evergreen.enqueueConnection(input as never).catch((e: unknown) => e);
      expect(await fingerprint()).toEqual(before);
      expect(error).toBeInstanceOf(InvalidInputError);
      return (error as InvalidInputError).field;
    };

    it('refuses what Postgres or the keyring cannot hold as given with an InvalidInputError, not a database error', async () => {
      expect(await refusal({ ...valid, ownerId: 'a\u0000b' })).toBe('ownerId');
      expect(await refusal({ ...valid, scopes: ['wr\u0000ite'] })).toBe('scopes.0');
      expect(await refusal({ ...valid, metadata: { team: '\u0000' } })).toBe('metadata');
      expect(await refusal({ ...valid, expiresAt: new Date(8.64e15) })).toBe('expiresAt');
      expect(await refusal({ ...valid, expiresAt: '0000-01-01T00:00:00Z' })).toBe('expiresAt');
      expect(await refusal({ ...valid, accessToken: 'at\ud800' })).toBe('accessToken');
    });

    it('refuses a connection id of dots alone and a scope over 256 characters (issue 15, finding 11)', async () => {
      for (const connectionId of ['.', '..', '...'])
        expect(await refusal({ ...valid, connectionId })).toBe('connectionId');
      expect(await refusal({ ...valid, scopes: ['read', 's'.repeat(257)] })).toBe('scopes.1');
    });

    it('stores a JWT whose exp no row can hold with the provider default expiry, instead of failing on Infinity', async () => {
      const accessToken = `${b64url({ alg: 'none' })}.${b64url({ sub: 'u', exp: 1e300 })}.sig`;
      const before = Date.now();
      const result = await stack.evergreen.enqueueConnection({ ...valid, ownerId: 'jwt-owner', accessToken });
      expected.set(result.connectionId, { ...valid, ownerId: 'jwt-owner', accessToken });
      expect(result.expiresAt!.getTime()).toBeGreaterThanOrEqual(before + 3_600_000);
      expect(result.expiresAt!.getTime()).toBeLessThanOrEqual(Date.now() + 3_600_000);
    });

    it('stores a "__proto__" metadata key as data', async () => {
      const metadata = JSON.parse('{"__proto__": {"team": "x"}, "a": 1}') as Record<string, unknown>;
      const input = { ...valid, ownerId: 'proto-owner', metadata };
      const result = await stack.evergreen.enqueueConnection(input);
      expected.set(result.connectionId, input);
      const [row] = await sandbox.sql`select metadata::text as m from connections where id = ${result.connectionId}`;
      expect(JSON.parse(row!.m as string)).toEqual(metadata);
      expect(Object.keys(JSON.parse(row!.m as string) as object)).toContain('__proto__');
    });
  });

  it('leaves no stored row that fails to decrypt, and every row holds what its connection was last given', async () => {
    const rows = await sandbox.sql<{ id: string; access_token: string | null; refresh_token: string | null }[]>`
      select id, access_token, refresh_token from connections`;
    // Every row is one the tests saw reported as written: nothing was stored behind an error.
    expect(rows.length).toBe(expected.size);
    for (const { id, access_token: access, refresh_token: refresh } of rows) {
      // Sealed, or absent (a credential grant handed over without a token).
      for (const sealed of [access, refresh])
        if (sealed !== null) expect(sealed).toMatch(/^evg1\.test1\.[A-Za-z0-9_-]+$/);
      const input = expected.get(id);
      expect(input, `row ${id} was never reported as written`).toBeDefined();
      await expectStoredAsGiven(id, input!);
    }
  });
});
