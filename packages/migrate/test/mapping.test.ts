import { createCipheriv, randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  csvRecord,
  decryptReferenceToken,
  exportLine,
  nangoRecord,
  parseJsonLine,
  parseNangoKey,
  parseReferenceKey,
  platformRecord,
  unknownColumns,
  type NangoConnectionRow,
  type PlatformConnectionRow,
} from '../src/index.ts';

const referenceSeal = (plain: string, key: Buffer, ivBytes = 16) => {
  const iv = randomBytes(ivBytes);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((b) => b.toString('hex')).join(':');
};

describe('JSON Lines', () => {
  it('an object is an input; status decides; blank lines are nothing', () => {
    expect(parseJsonLine('{"ownerId":"o","provider":"p"}', 3)).toEqual({
      line: 3,
      outcome: { kind: 'input', input: { ownerId: 'o', provider: 'p' } },
    });
    expect(parseJsonLine('  ', 4)).toBeNull();
    expect(parseJsonLine('{"ownerId":"o","status":"token_expired"}', 5)!.outcome).toEqual({
      kind: 'input',
      input: { ownerId: 'o' },
    });
    expect(parseJsonLine('{"status":"needs_reauth"}', 6)!.outcome).toMatchObject({ kind: 'skipped', field: 'status' });
    expect(parseJsonLine('{"status":"sleepy"}', 7)!.outcome).toMatchObject({ kind: 'invalid' });
    expect(parseJsonLine('[1]', 8)!.outcome).toEqual({
      kind: 'invalid',
      issues: [{ field: '(line)', reason: 'must be a JSON object' }],
    });
  });

  it("a syntax error's reason never quotes the line (it may hold a token)", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 6 }), (secret) => {
        const record = parseJsonLine(`{"accessToken": "${secret}`, 1);
        if (record?.outcome.kind !== 'invalid') return;
        for (const issue of record.outcome.issues) expect(issue.reason.includes(secret)).toBe(false);
      }),
    );
  });
});

describe('CSV records', () => {
  it('types each column; an empty cell is absent; a bad cell is named', () => {
    expect(
      csvRecord(
        { ownerId: 'o', provider: 'p', expiresIn: '60', scopes: 'a  b', metadata: '{"x":1}', refreshToken: '' },
        2,
      ).outcome,
    ).toEqual({
      kind: 'input',
      input: { ownerId: 'o', provider: 'p', expiresIn: 60, scopes: ['a', 'b'], metadata: { x: 1 } },
    });
    expect(csvRecord({ expiresIn: 'soon', metadata: '{' }, 3).outcome).toEqual({
      kind: 'invalid',
      issues: [
        { field: 'expiresIn', reason: 'must be a number of seconds' },
        { field: 'metadata', reason: 'must be a JSON object' },
      ],
    });
    expect(unknownColumns(['ownerId', 'owner', 'token'])).toMatch(/^unknown CSV columns 'owner', 'token'/);
    expect(unknownColumns(['ownerId', 'provider'])).toBeNull();
  });
});

describe('the reference schema (platform_connections)', () => {
  const key = randomBytes(32);
  const row = (over: Partial<PlatformConnectionRow>): PlatformConnectionRow => ({
    id: 'row-1',
    user_id: 'u1',
    platform: 'spotify',
    access_token: referenceSeal('at', key),
    refresh_token: referenceSeal('rt', key),
    token_expires_at: '2030-01-01T00:00:00',
    status: 'connected',
    ...over,
  });

  it('decrypts iv:authTag:ciphertext hex with any IV length; refuses malformed values and other keys by reason', () => {
    expect(decryptReferenceToken(referenceSeal('héllo', key, 12), key)).toBe('héllo');
    expect(decryptReferenceToken(referenceSeal('héllo', key, 16), key)).toBe('héllo');
    expect(() => decryptReferenceToken(referenceSeal('x', randomBytes(32)), key)).toThrow(/does not decrypt/);
    expect(() => decryptReferenceToken('abc', key)).toThrow(/not iv:authTag:ciphertext/);
    expect(() => parseReferenceKey('00')).toThrow(/64 hexadecimal/);
  });

  it('maps a row: owner and provider, expiry as UTC, statuses, a missing refresh token', () => {
    expect(platformRecord(row({}), key, 1)).toEqual({
      line: 1,
      id: 'row-1',
      outcome: {
        kind: 'input',
        input: {
          ownerId: 'u1',
          provider: 'spotify',
          accessToken: 'at',
          refreshToken: 'rt',
          expiresAt: '2030-01-01T00:00:00Z',
        },
      },
    });
    expect(platformRecord(row({ refresh_token: null, token_expires_at: null }), key, 1).outcome).toEqual({
      kind: 'input',
      input: { ownerId: 'u1', provider: 'spotify', accessToken: 'at' },
    });
    for (const status of ['needs_reauth', 'error', 'disconnected']) {
      expect(platformRecord(row({ status }), key, 1).outcome).toMatchObject({ kind: 'skipped', field: 'status' });
    }
    expect(platformRecord(row({ status: 'token_expired' }), key, 1).outcome.kind).toBe('input');
    expect(platformRecord(row({ access_token: null }), key, 1).outcome).toEqual({
      kind: 'invalid',
      issues: [{ field: 'access_token', reason: 'is empty: the row holds no token to import' }],
    });
  });
});

describe('Nango connections', () => {
  const key = randomBytes(32);
  const seal = (credentials: object) => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    const data = Buffer.concat([cipher.update(JSON.stringify(credentials)), cipher.final()]);
    return {
      credentials: { encrypted_credentials: data.toString('base64') },
      credentials_iv: iv.toString('base64'),
      credentials_tag: cipher.getAuthTag().toString('base64'),
    };
  };
  const row = (credentials: object, over: Partial<NangoConnectionRow> = {}): NangoConnectionRow => ({
    id: 7,
    connection_id: 'user-7',
    provider_config_key: 'github-prod',
    connection_config: null,
    refresh_exhausted: false,
    ...seal(credentials),
    ...over,
  });
  const options = { key, providers: new Set(['github']), providerMap: new Map([['github-prod', 'github']]) };

  it('opens OAuth 2 credentials and maps them; reports other auth modes, unmapped keys, another key', () => {
    const record = nangoRecord(
      row({ type: 'OAUTH2', access_token: 'a', refresh_token: 'r', expires_at: '2030-01-01T00:00:00.000Z', raw: {} }),
      1,
      options,
    );
    expect(record).toEqual({
      line: 1,
      id: '7',
      outcome: {
        kind: 'input',
        input: {
          ownerId: 'user-7',
          provider: 'github',
          accessToken: 'a',
          refreshToken: 'r',
          expiresAt: '2030-01-01T00:00:00.000Z',
        },
      },
    });
    expect(nangoRecord(row({ type: 'BASIC' }), 1, options).outcome).toMatchObject({
      kind: 'skipped',
      field: 'credentials.type',
    });
    expect(nangoRecord(row({ type: 'OAUTH2' }, { provider_config_key: 'slack' }), 1, options).outcome).toMatchObject({
      kind: 'invalid',
      issues: [{ field: 'provider_config_key' }],
    });
    expect(nangoRecord(row({ type: 'OAUTH2' }), 1, { ...options, key: randomBytes(32) }).outcome).toMatchObject({
      kind: 'invalid',
      issues: [{ field: 'credentials', reason: expect.stringContaining('does not decrypt') }],
    });
    expect(nangoRecord(row({ type: 'OAUTH2' }), 1, { ...options, key: null }).outcome).toMatchObject({
      kind: 'invalid',
      issues: [{ reason: expect.stringContaining('--key') }],
    });
    expect(() => parseNangoKey('short')).toThrow(/base64 of 32 bytes/);
  });
});

describe('export lines', () => {
  it('the enqueueConnection input and status; secrets only when given', () => {
    const c = {
      connectionId: 'c1',
      ownerId: 'o',
      provider: 'p',
      status: 'connected',
      scopes: [],
      metadata: {},
      expiresAt: new Date('2030-01-01T00:00:00Z'),
    };
    expect(JSON.parse(exportLine(c))).toEqual({
      connectionId: 'c1',
      ownerId: 'o',
      provider: 'p',
      status: 'connected',
      expiresAt: '2030-01-01T00:00:00.000Z',
    });
    expect(JSON.parse(exportLine({ ...c, secrets: { accessToken: 'a', refreshToken: null } }))).toMatchObject({
      accessToken: 'a',
    });
  });
});
