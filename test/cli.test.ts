import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { Keyring } from '@evergreen/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@evergreen/test-support/processes';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';

function evergreen(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['apps/cli/bin/evergreen.mjs', ...args], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('the evergreen command', () => {
  const sandbox = new Sandbox();
  let f: ProviderStack;

  beforeAll(async () => {
    f = await startProviderStack(sandbox);
  });

  afterAll(() => f?.close());

  it('db migrate applies the migrations', async () => {
    const { code, out } = await evergreen(['db', 'migrate'], sandbox.env());
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ migrated: sandbox.schema });
  });

  it('connections show, refresh and disconnect, printing no secret', async () => {
    const grant = f.provider.issue();
    const { connectionId } = await f.stack.evergreen.enqueueConnection({
      ownerId: 'cli',
      provider: 'acme',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 3600,
    });
    const shown = await evergreen(['connections', 'show', connectionId], sandbox.env());
    expect(shown.code).toBe(0);
    expect(JSON.parse(shown.out)).toMatchObject({ connectionId, ownerId: 'cli', status: 'connected' });
    const refreshed = await evergreen(['connections', 'refresh', connectionId], sandbox.env());
    expect(JSON.parse(refreshed.out)).toMatchObject({ connectionId, version: 2 });
    expect(f.provider.grant(grant.grantId)!.refreshCount).toBe(1);
    const gone = await evergreen(['connections', 'disconnect', connectionId], sandbox.env());
    expect(JSON.parse(gone.out)).toMatchObject({ connectionId, status: 'disconnected' });
    const all = shown.out + refreshed.out + gone.out + shown.err + refreshed.err + gone.err;
    for (const token of f.provider.allIssuedTokens()) expect(all.includes(token)).toBe(false);
  });

  it('keys rotate moves every secret to the new current key', async () => {
    for (let i = 0; i < 3; i++) {
      const g = f.provider.issue();
      await f.stack.evergreen.enqueueConnection({
        ownerId: `rot-${i}`,
        provider: 'acme',
        accessToken: g.accessToken,
        refreshToken: g.refreshToken,
      });
    }
    const env = sandbox.env({
      EVERGREEN_ENCRYPTION_KEYS: `${Keyring.generateEntry('next')},${sandbox.encryptionKeys}`,
    });
    const { code, out } = await evergreen(['keys', 'rotate', '--batch-size', '2'], env);
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ currentKey: 'next', remaining: 0 });
    const rows = await sandbox.sql`select access_token from connections where access_token is not null`;
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(Keyring.keyIdOf(r.access_token as string)).toBe('next');
  });

  it('connections list pages through connections with filters, and names a bad option', async () => {
    const listed = await evergreen(['connections', 'list', '--provider', 'acme', '--limit', '2'], sandbox.env());
    expect(listed.code).toBe(0);
    const page = JSON.parse(listed.out) as { items: { provider: string }[]; nextCursor: string | null };
    expect(page.items).toHaveLength(2);
    expect(page.items.every((i) => i.provider === 'acme')).toBe(true);
    expect(page.nextCursor).not.toBeNull();
    const bad = await evergreen(['connections', 'list', '--limit', '0'], sandbox.env());
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('limit');
  });

  it('says what is wrong: exit 2 for usage, 1 with the error code for an unknown connection', async () => {
    expect((await evergreen(['frobnicate'], sandbox.env())).code).toBe(2);
    const noId = await evergreen(['connections', 'show'], sandbox.env());
    expect(noId.code).toBe(2);
    expect(noId.err).toContain('a connection id is required');
    const missing = await evergreen(['connections', 'show', 'nope'], sandbox.env());
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('ERR_CONNECTION_NOT_FOUND');
  });
});

describe('evergreen secrets init', () => {
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-secrets-init-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // What a container of the image has: production mode, and none of the product's configuration yet.
  const env = { PATH: process.env.PATH ?? '', EVERGREEN_ENV_FILE: 'none', NODE_ENV: 'production' };

  it('writes a new key and admin token to --file, readable by its owner only, printing neither', async () => {
    const file = join(dir, 'first', 'secrets.env');
    const run = await evergreen(['secrets', 'init', '--file', file], env);
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toEqual({
      file,
      wrote: ['EVERGREEN_ENCRYPTION_KEYS', 'EVERGREEN_ADMIN_TOKEN'],
      tightened: false,
    });
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    const values = parseEnv(readFileSync(file, 'utf8'));
    const keyring = Keyring.parse(values.EVERGREEN_ENCRYPTION_KEYS);
    expect(keyring.currentKeyId).toBeTruthy();
    expect(values.EVERGREEN_ADMIN_TOKEN!.length).toBeGreaterThanOrEqual(16);
    expect(run.out + run.err).not.toContain(values.EVERGREEN_ADMIN_TOKEN);

    // Run again (every `docker compose up`): nothing changes, so the key still decrypts what was stored.
    const again = await evergreen(['secrets', 'init', '--file', file], env);
    expect(again.code, again.err).toBe(0);
    expect(JSON.parse(again.out)).toMatchObject({ wrote: [] });
    expect(parseEnv(readFileSync(file, 'utf8'))).toEqual(values);
  });

  it('leaves out what the environment already sets: those win over the file anyway', async () => {
    const file = join(dir, 'mine.env');
    const run = await evergreen(['secrets', 'init', '--file', file], {
      ...env,
      EVERGREEN_ENCRYPTION_KEYS: Keyring.generateEntry('mine'),
    });
    expect(run.code, run.err).toBe(0);
    expect(Object.keys(parseEnv(readFileSync(file, 'utf8')))).toEqual(['EVERGREEN_ADMIN_TOKEN']);
  });

  it('without --file, writes the env file the other commands load (EVERGREEN_ENV_FILE)', async () => {
    const file = join(dir, 'default.env');
    const run = await evergreen(['secrets', 'init'], { ...env, EVERGREEN_ENV_FILE: file });
    expect(run.code, run.err).toBe(0);
    expect(JSON.parse(run.out)).toMatchObject({ file });
    expect(Object.keys(parseEnv(readFileSync(file, 'utf8'))).sort()).toEqual([
      'EVERGREEN_ADMIN_TOKEN',
      'EVERGREEN_ENCRYPTION_KEYS',
    ]);
  });
});
