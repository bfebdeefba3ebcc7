import { describe, it, expect } from 'vitest';
import { InvalidInputError } from '../src/errors.ts';
import { parseConnectionInput } from '../src/connection-input.ts';

const ACCESS = 'at_VERY_SECRET_ACCESS_TOKEN_4b1d9e';
const REFRESH = 'rt_VERY_SECRET_REFRESH_TOKEN_8c2f0a';
const valid = { ownerId: 'user-42', provider: 'github', accessToken: ACCESS, refreshToken: REFRESH };

function failure(raw: unknown, context?: string): InvalidInputError {
  try {
    parseConnectionInput(raw, context);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected parseConnectionInput to throw');
}

function expectFieldRejected(patch: Record<string, unknown>, field: string): InvalidInputError {
  const error = failure({ ...valid, ...patch });
  expect(error.issues.map((i) => i.field)).toContain(field);
  expect(error.message).toContain(`${field}: `);
  expect(error.message).not.toContain(ACCESS);
  expect(error.message).not.toContain(REFRESH);
  return error;
}

describe('parseConnectionInput', () => {
  describe('valid input', () => {
    it('accepts the minimum and fills in empty scopes and metadata', () => {
      expect(parseConnectionInput({ ownerId: 'o', provider: 'p', accessToken: ACCESS })).toEqual({
        ownerId: 'o',
        provider: 'p',
        accessToken: ACCESS,
        scopes: [],
        metadata: {},
      });
    });

    it('leaves optional fields out instead of setting them to undefined', () => {
      const parsed = parseConnectionInput({ ownerId: 'o', provider: 'p', accessToken: ACCESS });
      for (const key of ['connectionId', 'refreshToken', 'expiresAt', 'expiresIn']) expect(key in parsed).toBe(false);
    });

    it('keeps every field it is given', () => {
      const parsed = parseConnectionInput({
        ...valid,
        connectionId: 'conn_1.a-B',
        expiresIn: 3600,
        scopes: ['repo', 'read:user'],
        metadata: { instanceUrl: 'https://example.my.salesforce.com' },
      });
      expect(parsed).toEqual({
        connectionId: 'conn_1.a-B',
        ownerId: 'user-42',
        provider: 'github',
        accessToken: ACCESS,
        refreshToken: REFRESH,
        expiresIn: 3600,
        scopes: ['repo', 'read:user'],
        metadata: { instanceUrl: 'https://example.my.salesforce.com' },
      });
    });

    it('turns an expiresAt Date into epoch milliseconds', () => {
      const date = new Date('2030-01-01T00:00:00Z');
      expect(parseConnectionInput({ ...valid, expiresAt: date }).expiresAt).toBe(date.getTime());
    });

    it('turns an ISO-8601 expiresAt with Z or an offset into epoch milliseconds', () => {
      expect(parseConnectionInput({ ...valid, expiresAt: '2030-01-01T00:00:00Z' }).expiresAt).toBe(
        Date.UTC(2030, 0, 1),
      );
      expect(parseConnectionInput({ ...valid, expiresAt: '2030-01-01T02:00:00+02:00' }).expiresAt).toBe(
        Date.UTC(2030, 0, 1),
      );
      expect(parseConnectionInput({ ...valid, expiresAt: '2030-01-01T00:00:00.250Z' }).expiresAt).toBe(
        Date.UTC(2030, 0, 1) + 250,
      );
    });

    it('accepts the boundary lengths', () => {
      expect(() =>
        parseConnectionInput({
          connectionId: 'c'.repeat(128),
          ownerId: 'o'.repeat(256),
          provider: `p${'x'.repeat(63)}`,
          accessToken: 'a'.repeat(16_384),
          refreshToken: 'r'.repeat(16_384),
          expiresIn: 10 * 365 * 24 * 3600,
          scopes: Array.from({ length: 500 }, (_, i) => `s${i}`),
        }),
      ).not.toThrow();
    });

    it('accepts expiresIn 0', () => {
      expect(parseConnectionInput({ ...valid, expiresIn: 0 }).expiresIn).toBe(0);
    });
  });

  describe('the error', () => {
    it('is an InvalidInputError with code ERR_INVALID_INPUT whose message starts with the context', () => {
      const error = failure({ ...valid, ownerId: '' }, 'enqueueConnections[3]');
      expect(error.code).toBe('ERR_INVALID_INPUT');
      expect(error.name).toBe('InvalidInputError');
      expect(error.message.startsWith('enqueueConnections[3]: ')).toBe(true);
      expect(error.field).toBe('ownerId');
    });

    it('uses "enqueueConnection" as the default context', () => {
      expect(failure({ ...valid, ownerId: '' }).message.startsWith('enqueueConnection: ')).toBe(true);
    });

    it('names every offending field at once', () => {
      const error = failure({ ownerId: '', provider: 'Not A Provider', accessToken: '', expiresIn: -1 });
      expect(error.issues.map((i) => i.field).sort()).toEqual(['accessToken', 'expiresIn', 'ownerId', 'provider']);
      for (const field of ['accessToken', 'expiresIn', 'ownerId', 'provider'])
        expect(error.message).toContain(`${field}: `);
    });

    it('rejects a value that is not an object as "(input)"', () => {
      for (const raw of [null, undefined, 'string', 42, [valid]]) {
        const error = failure(raw);
        expect(error.field).toBe('(input)');
      }
    });
  });

  describe('each field', () => {
    it('connectionId: must be 1-128 plain characters (no ":" for BullMQ, no "/")', () => {
      for (const bad of ['', 'a:b', 'a/b', 'with space', 'c'.repeat(129), 'é'])
        expectFieldRejected({ connectionId: bad }, 'connectionId');
      expectFieldRejected({ connectionId: 42 }, 'connectionId');
    });

    it('connectionId: never dots alone, which a URL path reads as "this" or "parent" (issue 15, finding 11)', () => {
      for (const bad of ['.', '..', '...', '.'.repeat(128)]) {
        const error = expectFieldRejected({ connectionId: bad }, 'connectionId');
        expect(error.issues).toEqual([
          {
            field: 'connectionId',
            reason: 'must be 1-128 characters of letters, digits, "_", "." or "-", and not dots alone',
          },
        ]);
      }
      for (const good of ['.a', 'a.', 'a..b', '..a', 'v1.2', '_', '-', `${'.'.repeat(127)}a`]) {
        expect(parseConnectionInput({ ...valid, connectionId: good }).connectionId).toBe(good);
      }
    });

    it('ownerId: required, a non-empty string of at most 256 characters', () => {
      const { ownerId: _, ...withoutOwner } = valid;
      const error = failure(withoutOwner);
      expect(error.field).toBe('ownerId');
      for (const bad of ['', 'o'.repeat(257), 42, null]) expectFieldRejected({ ownerId: bad }, 'ownerId');
    });

    it('provider: required, a lower-case provider id', () => {
      const { provider: _, ...withoutProvider } = valid;
      expect(failure(withoutProvider).field).toBe('provider');
      for (const bad of ['', 'GitHub', '-github', 'git hub', 'a:b', `p${'x'.repeat(64)}`, 7]) {
        expectFieldRejected({ provider: bad }, 'provider');
      }
    });

    it('accessToken: optional (credential grants log in on their own), but non-empty and at most 16384 characters', () => {
      const { accessToken: _, ...withoutAccess } = valid;
      const parsed = parseConnectionInput(withoutAccess);
      expect(parsed).toEqual({
        ownerId: 'user-42',
        provider: 'github',
        refreshToken: REFRESH,
        scopes: [],
        metadata: {},
      });
      expect('accessToken' in parsed).toBe(false);
      for (const bad of ['', 'a'.repeat(16_385), 12345, { token: 'x' }, null])
        expectFieldRejected({ accessToken: bad }, 'accessToken');
    });

    it('refreshTokenExpiresIn: a finite number of seconds between 0 and ten years', () => {
      expect(parseConnectionInput({ ...valid, refreshTokenExpiresIn: 15_897_600 }).refreshTokenExpiresIn).toBe(
        15_897_600,
      );
      expect(parseConnectionInput({ ...valid, refreshTokenExpiresIn: 0 }).refreshTokenExpiresIn).toBe(0);
      expect('refreshTokenExpiresIn' in parseConnectionInput(valid)).toBe(false);
      for (const bad of ['3600', -1, Number.NaN, Number.POSITIVE_INFINITY, 10 * 365 * 24 * 3600 + 1, null]) {
        expectFieldRejected({ refreshTokenExpiresIn: bad }, 'refreshTokenExpiresIn');
      }
    });

    it('credentials: a login or a client of its own, kept as given', () => {
      const login = { username: 'alice@example.com', password: 'pw:with spaces+é' };
      expect(parseConnectionInput({ ownerId: 'o', provider: 'password', credentials: login })).toEqual({
        ownerId: 'o',
        provider: 'password',
        credentials: login,
        scopes: [],
        metadata: {},
      });
      const client = { clientId: 'conn-client', clientSecret: 'conn-secret' };
      expect(parseConnectionInput({ ...valid, credentials: client }).credentials).toEqual(client);
      expect(parseConnectionInput({ ...valid, credentials: {} }).credentials).toEqual({});
      expect('credentials' in parseConnectionInput(valid)).toBe(false);
    });

    it('credentials: must be an object', () => {
      for (const bad of ['alice:pw', 42, null, ['alice', 'pw']]) {
        const error = expectFieldRejected({ credentials: bad }, 'credentials');
        expect(error.issues).toEqual([
          {
            field: 'credentials',
            reason: "must be an object holding the credentials of the provider's grant (docs/credentials.md)",
          },
        ]);
      }
    });

    it('credentials: each field a non-empty string, named by its path', () => {
      expectFieldRejected({ credentials: { username: '' } }, 'credentials.username');
      expectFieldRejected({ credentials: { username: 7 } }, 'credentials.username');
      expectFieldRejected({ credentials: { username: 'u'.repeat(1025) } }, 'credentials.username');
      expectFieldRejected({ credentials: { password: '' } }, 'credentials.password');
      expectFieldRejected({ credentials: { password: 'p'.repeat(16_385) } }, 'credentials.password');
      expectFieldRejected({ credentials: { clientId: '' } }, 'credentials.clientId');
      expectFieldRejected({ credentials: { clientSecret: null } }, 'credentials.clientSecret');
    });

    it('credentials: unknown keys are rejected', () => {
      const error = failure({ ...valid, credentials: { username: 'u', password: 'p', otp: '123456' } });
      expect(error.issues).toHaveLength(1);
      expect(error.issues[0]?.reason).toBe('is not a known field');
      expect(error.issues[0]?.field).toMatch(/(^|\.)otp$/);
    });

    // src bug (connection-input.ts toIssue): an unrecognized key inside `credentials` is named by the key alone
    // ('otp'), dropping the path, unlike every other nested issue ('credentials.username'). Remove `.fails` once fixed.
    it('credentials: an unknown key is named credentials.<key>', () => {
      expectFieldRejected({ credentials: { username: 'u', otp: '123456' } }, 'credentials.otp');
    });

    it('refreshToken: optional, but non-empty and at most 16384 characters when given', () => {
      for (const bad of ['', 'r'.repeat(16_385), 9, null]) expectFieldRejected({ refreshToken: bad }, 'refreshToken');
    });

    it('expiresAt: a Date or an ISO-8601 date-time with an offset', () => {
      for (const bad of [
        1_900_000_000_000,
        'tomorrow',
        '2030-01-01',
        '2030-01-01T00:00:00',
        '2030-02-30T00:00:00Z',
        new Date('not a date'),
        null,
        {},
      ]) {
        expectFieldRejected({ expiresAt: bad }, 'expiresAt');
      }
    });

    it('expiresIn: a finite number of seconds between 0 and ten years', () => {
      for (const bad of ['3600', -1, Number.NaN, Number.POSITIVE_INFINITY, 10 * 365 * 24 * 3600 + 1, null]) {
        expectFieldRejected({ expiresIn: bad }, 'expiresIn');
      }
    });

    it('expiresAt and expiresIn together are rejected, naming expiresIn', () => {
      const error = expectFieldRejected({ expiresAt: '2030-01-01T00:00:00Z', expiresIn: 3600 }, 'expiresIn');
      expect(error.message).toContain('expiresAt');
    });

    it('scopes: an array of at most 500 non-empty strings; a bad element is named by its index', () => {
      expectFieldRejected({ scopes: 'repo user' }, 'scopes');
      expectFieldRejected({ scopes: Array.from({ length: 501 }, (_, i) => `s${i}`) }, 'scopes');
      expectFieldRejected({ scopes: ['repo', ''] }, 'scopes.1');
      expectFieldRejected({ scopes: [3] }, 'scopes.0');
    });

    it('scopes: each at most 256 characters, named by its index (issue 15, finding 11)', () => {
      expect(parseConnectionInput({ ...valid, scopes: ['s'.repeat(256)] }).scopes).toEqual(['s'.repeat(256)]);
      const error = expectFieldRejected({ scopes: ['repo', 'x'.repeat(257)] }, 'scopes.1');
      expect(error.issues).toEqual([{ field: 'scopes.1', reason: 'must be at most 256 characters' }]);
      expect(failure({ ...valid, scopes: ['repo', 'x'.repeat(1_000_000)] }).message.length).toBeLessThan(200);
    });

    it('scopes: at most 16384 characters together, as sent (joined by spaces)', () => {
      const atLimit = [...Array.from({ length: 63 }, () => 'a'.repeat(255)), 'b'.repeat(256)];
      expect(atLimit.join(' ')).toHaveLength(16_384);
      expect(parseConnectionInput({ ...valid, scopes: atLimit }).scopes).toEqual(atLimit);
      const error = expectFieldRejected({ scopes: [...atLimit.slice(0, -1), 'b'.repeat(255), 'cc'] }, 'scopes');
      expect(error.issues).toEqual([
        { field: 'scopes', reason: 'must be at most 16384 characters together (joined by spaces)' },
      ]);
    });

    it('metadata: a plain object', () => {
      for (const bad of [[], [1, 2], null, 'x', 5]) expectFieldRejected({ metadata: bad }, 'metadata');
    });

    it('metadata: must be JSON-serialisable', () => {
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      expectFieldRejected({ metadata: circular }, 'metadata');
      expectFieldRejected({ metadata: { big: 10n } }, 'metadata');
    });

    it('metadata: at most 16384 bytes of JSON, counting bytes rather than characters', () => {
      expect(() => parseConnectionInput({ ...valid, metadata: { a: 'x'.repeat(16_000) } })).not.toThrow();
      expectFieldRejected({ metadata: { a: 'x'.repeat(16_400) } }, 'metadata');
      // 8,200 characters but 16,400 bytes in UTF-8.
      expectFieldRejected({ metadata: { a: 'é'.repeat(8_200) } }, 'metadata');
    });

    it('rejects unknown fields, naming them', () => {
      const error = expectFieldRejected(
        { access_token: 'at_snake_case_secret', expires: 3600 },
        'access_token, expires',
      );
      expect(error.issues[0]?.reason).toBe('is not a known field');
    });
  });

  describe('secrecy', () => {
    it('error messages never contain the token values passed in, whatever is wrong', () => {
      const cases: Record<string, unknown>[] = [
        { ...valid, ownerId: '' },
        { ...valid, accessToken: `${ACCESS}${'x'.repeat(16_384)}` },
        { ...valid, refreshToken: `${REFRESH}${'y'.repeat(16_384)}` },
        { ...valid, provider: ACCESS },
        { ...valid, connectionId: `${REFRESH}:x` },
        { ...valid, expiresAt: ACCESS },
        { ...valid, expiresIn: REFRESH },
        { ...valid, scopes: [ACCESS, ''] },
        { ...valid, metadata: ACCESS },
        { ...valid, token: ACCESS, refresh_token: REFRESH },
        { ...valid, accessToken: [ACCESS], refreshToken: { value: REFRESH } },
        { ...valid, expiresAt: '2030-01-01T00:00:00Z', expiresIn: 60 },
        { ...valid, credentials: { username: ACCESS, password: REFRESH, extra: ACCESS } },
        { ...valid, credentials: { clientId: 5, clientSecret: `${REFRESH}${'z'.repeat(16_384)}` } },
        { ...valid, credentials: REFRESH },
        { ...valid, refreshTokenExpiresIn: ACCESS },
      ];
      for (const raw of cases) {
        const error = failure(raw);
        const everything = `${error.message} ${JSON.stringify(error.issues)} ${String(error.stack)}`;
        expect(everything).not.toContain(ACCESS);
        expect(everything).not.toContain(REFRESH);
      }
    });
  });
});
