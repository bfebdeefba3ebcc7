import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { Keyring } from '@evergreen/keyring';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureSecretsFile } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'evergreen-secrets-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `secrets-${(n += 1)}`, 'secrets.env');

/** Permission bits for group and others: a file holding the encryption key must have none. */
const shared = (path: string) => statSync(path).mode & 0o077;

describe('ensureSecretsFile', () => {
  it('writes a new encryption key and admin token to a new file, readable by its owner only', () => {
    const path = fresh();
    const result = ensureSecretsFile(path, { env: {}, by: 'a test' });
    expect(result).toEqual({
      path,
      wrote: ['EVERGREEN_ENCRYPTION_KEYS', 'EVERGREEN_ADMIN_TOKEN'],
      tightened: false,
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const values = parseEnv(readFileSync(path, 'utf8'));
    expect(Keyring.parse(values.EVERGREEN_ENCRYPTION_KEYS).currentKeyId).toBeTruthy();
    expect(values.EVERGREEN_ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(32);
    expect(readFileSync(path, 'utf8')).toMatch(/^# Written by a test on \d{4}-/m);
  });

  it('keeps what the file already holds, and writes nothing the environment already sets', () => {
    const path = fresh();
    ensureSecretsFile(path, { env: {}, by: 'a test' });
    const first = readFileSync(path, 'utf8');
    expect(ensureSecretsFile(path, { env: {}, by: 'a test' }).wrote).toEqual([]);
    expect(readFileSync(path, 'utf8')).toBe(first);

    const other = fresh();
    const result = ensureSecretsFile(other, {
      env: { EVERGREEN_ENCRYPTION_KEYS: Keyring.generateEntry('mine'), EVERGREEN_ADMIN_TOKEN: ' ' },
      by: 'a test',
    });
    // A blank variable counts as unset, as packages/config reads it.
    expect(result.wrote).toEqual(['EVERGREEN_ADMIN_TOKEN']);
    expect(Object.keys(parseEnv(readFileSync(other, 'utf8')))).toEqual(['EVERGREEN_ADMIN_TOKEN']);
  });

  it('adds only the missing value to an existing file, and tightens a file others could read to 0600', () => {
    const path = join(dir, 'existing.env');
    const key = Keyring.generateEntry('old');
    writeFileSync(path, `DATABASE_URL=postgres://db/app\nEVERGREEN_ENCRYPTION_KEYS=${key}`);
    chmodSync(path, 0o644);
    const result = ensureSecretsFile(path, { env: {}, by: 'a test' });
    expect(result).toEqual({ path, wrote: ['EVERGREEN_ADMIN_TOKEN'], tightened: true });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const values = parseEnv(readFileSync(path, 'utf8'));
    // The line without a final newline was not glued to the new one.
    expect(values.EVERGREEN_ENCRYPTION_KEYS).toBe(key);
    expect(values.DATABASE_URL).toBe('postgres://db/app');
    expect(values.EVERGREEN_ADMIN_TOKEN).toBeTruthy();

    // Nothing to add: the mode is still tightened.
    chmodSync(path, 0o640);
    expect(ensureSecretsFile(path, { env: {}, by: 'a test' })).toEqual({ path, wrote: [], tightened: true });
    expect(shared(path)).toBe(0);
  });

  it('a blank value in the file counts as missing', () => {
    const path = join(dir, 'blank.env');
    writeFileSync(path, 'EVERGREEN_ADMIN_TOKEN=\n', { mode: 0o600 });
    const result = ensureSecretsFile(path, { env: {}, by: 'a test' });
    expect(result.wrote).toEqual(['EVERGREEN_ENCRYPTION_KEYS', 'EVERGREEN_ADMIN_TOKEN']);
    expect(parseEnv(readFileSync(path, 'utf8')).EVERGREEN_ADMIN_TOKEN).toBeTruthy();
  });
});
