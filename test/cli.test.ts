import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { Keyring } from '@evergreen/keyring';
import { ApiKeyStore, closeDatabase, openDatabase } from '@evergreen/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvergreenCli as evergreen } from '@evergreen/test-support/processes';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';

describe('the evergreen command', () => {
  const sandbox = new Sandbox();
  let f: ProviderStack;

  beforeAll(async () => {
    f = await startProviderStack(sandbox, { revokes: true });
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

  it('connections disconnect --revoke revokes the grant at the provider first', async () => {
    const grant = f.provider.issue();
    const { connectionId } = await f.stack.evergreen.enqueueConnection({
      ownerId: 'cli-revoke',
      provider: 'acme',
      accessToken: grant.accessToken,
      refreshToken: grant.refreshToken,
      expiresIn: 3600,
    });
    const gone = await evergreen(['connections', 'disconnect', connectionId, '--revoke'], sandbox.env());
    expect(gone.code).toBe(0);
    expect(JSON.parse(gone.out)).toMatchObject({ connectionId, status: 'disconnected', revocation: { revoked: true } });
    expect(f.provider.grant(grant.grantId)?.revoked).toBe(true);
    expect(gone.out + gone.err).not.toContain(grant.refreshToken);
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

  it('connect and connections reconnect print a connect session; bad input names the option', async () => {
    sandbox.useProviders([
      { id: 'acme', tokenUrl: f.provider.tokenUrl, authorizationUrl: `${f.provider.url}/authorize` },
    ]);
    const env = sandbox.env({
      EVERGREEN_PUBLIC_URL: 'https://evergreen.example.com',
      EVERGREEN_CONNECT_RETURN_URLS: 'https://app.example.com/done',
    });
    const started = await evergreen(
      [
        'connect',
        '--owner',
        'cli-2',
        '--provider',
        'acme',
        '--return-to',
        'https://app.example.com/done',
        '--scopes',
        'a,b',
      ],
      env,
    );
    expect(started.code, started.err).toBe(0);
    const url = new URL(JSON.parse(started.out).authorizationUrl);
    expect(url.searchParams.get('scope')).toBe('a b');
    expect(url.searchParams.get('redirect_uri')).toBe('https://evergreen.example.com/v1/connect/callback');

    const { connectionId } = await f.stack.connect(f.provider, { ownerId: 'cli-3', provider: 'acme', expiresIn: 3600 });
    const again = await evergreen(['connections', 'reconnect', connectionId], env);
    expect(again.code, again.err).toBe(0);
    const [session] =
      await sandbox.sql`select connection_id, return_to from connect_sessions where id = ${JSON.parse(again.out).sessionId}`;
    expect(session).toEqual({ connection_id: connectionId, return_to: 'https://app.example.com/done' });

    const refused = await evergreen(
      ['connect', '--owner', 'x', '--provider', 'acme', '--return-to', 'https://evil.example.com/'],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('returnTo');
    expect((await evergreen(['connect', '--provider', 'acme'], env)).err).toContain('--owner is required');
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

  it('api-keys create prints the key once (one JSON line with --json), list never shows it, revoke ends it', async () => {
    const env = sandbox.env();
    const created = await evergreen(
      [
        'api-keys',
        'create',
        '--name',
        'billing',
        '--scopes',
        'tokens:read,connections:read',
        '--providers',
        'acme',
        '--json',
      ],
      env,
    );
    expect(created.code, created.err).toBe(0);
    expect(created.out.trimEnd().split('\n')).toHaveLength(1);
    const key = JSON.parse(created.out) as Record<string, unknown>;
    expect(Object.keys(key)).toEqual(['id', 'name', 'key', 'scopes', 'providers']);
    expect(key).toMatchObject({ name: 'billing', scopes: ['tokens:read', 'connections:read'], providers: ['acme'] });
    expect(key.key).toMatch(new RegExp(`^evg_${String(key.id)}_[A-Za-z0-9_-]{43}$`));
    const secret = String(key.key);
    const hash = createHash('sha256').update(secret).digest('hex');

    const db = openDatabase({ url: sandbox.databaseUrl, schema: sandbox.schema, max: 1 });
    try {
      expect(await new ApiKeyStore(db).verify(secret)).toMatchObject({ id: key.id, providers: ['acme'] });
    } finally {
      await closeDatabase(db);
    }

    const human = await evergreen(['api-keys', 'create', '--name', 'ops', '--scopes', 'connections:write'], env);
    expect(human.code, human.err).toBe(0);
    expect(human.out).toMatch(/evg_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/);
    expect(human.out).toContain('shown only this once');
    expect(human.out).toContain('providers: all');

    const listed = await evergreen(['api-keys', 'list', '--json'], env);
    expect(listed.code, listed.err).toBe(0);
    const keys = JSON.parse(listed.out) as Record<string, unknown>[];
    expect(keys.find((k) => k.id === key.id)).toMatchObject({ name: 'billing', lastUsedAt: expect.any(String) });
    const table = await evergreen(['api-keys', 'list'], env);
    expect(table.out).toContain(String(key.id));
    for (const run of [listed, table]) {
      expect(run.out).not.toMatch(/evg_[0-9a-f]{16}_/);
      expect(run.out).not.toContain(hash);
    }

    const revoked = await evergreen(['api-keys', 'revoke', String(key.id)], env);
    expect(revoked.code, revoked.err).toBe(0);
    expect(JSON.parse(revoked.out)).toMatchObject({ id: key.id, revokedAt: expect.any(String) });
    const after = JSON.parse((await evergreen(['api-keys', 'list', '--json'], env)).out) as Record<string, unknown>[];
    expect(after.find((k) => k.id === key.id)!.revokedAt).not.toBeNull();
    for (const run of [created, human, listed, table, revoked]) expect(run.err).not.toContain(secret);
  });

  it('api-keys refuses bad input with exit 2, a first line naming the option, then the usage; no stack', async () => {
    const env = sandbox.env();
    const cases: [string[], RegExp][] = [
      [
        ['api-keys', 'create', '--name', 'x', '--scopes', 'tokens:read,tokens:write'],
        /^--scopes: .*"tokens:write".*connections:write/,
      ],
      [['api-keys', 'create', '--name', 'x'], /^--scopes: is required/],
      [['api-keys', 'create', '--scopes', 'tokens:read'], /^--name: is required/],
      [['api-keys', 'create', '--name', 'x', '--scopes', 'tokens:read', '--providers', 'Not Valid'], /^--providers: /],
      [['api-keys', 'create', '--name', 'x', '--scopes'], /--scopes/], // the option without its value
      [['api-keys', 'revoke'], /id is required/],
      [['api-keys', 'revoke', 'not-an-id'], /^id: /],
      [['api-keys', 'revoke', 'ffffffffffffffff'], /^id: API key 'ffffffffffffffff' does not exist/],
      [['api-keys', 'create', '--name', 'x', '--scopes', 'tokens:read', '--colour'], /--colour/],
    ];
    // Independent processes: run them side by side.
    const runs = await Promise.all(cases.map(([args]) => evergreen(args, env)));
    for (const [i, [args, message]] of cases.entries()) {
      const run = runs[i]!;
      expect(run.code, args.join(' ')).toBe(2);
      const [first, usage] = run.err.split('\n');
      expect(first, args.join(' ')).toMatch(message);
      expect(usage, args.join(' ')).toMatch(/^usage: evergreen api-keys /);
      expect(run.err).not.toMatch(/\n\s+at /);
    }
    const keys = JSON.parse((await evergreen(['api-keys', 'list', '--json'], env)).out) as { name: string }[];
    expect(keys.some((k) => k.name === 'x')).toBe(false);
  });

  it('bad usage anywhere: the error on one line, the usage, exit 2, never a stack; --help on every command', async () => {
    const env = { PATH: process.env.PATH ?? '', EVERGREEN_ENV_FILE: 'none' };
    const bad: [string[], RegExp][] = [
      [[], /^a command is required$/],
      [['api-keys'], /^api-keys: a subcommand is required \(create, list, revoke\)$/],
      [['connections', 'frob'], /^connections: unknown subcommand 'frob'/],
      [['frobnicate'], /^unknown command 'frobnicate'$/],
      [['worker', '--colour'], /^Unknown option '--colour'$/],
      [['connections', 'show'], /^connections show: a connection id is required$/],
      [['connections', 'show', 'a', 'b'], /^connections show: unexpected argument 'b'$/],
      [['connections', 'list', '--limit'], /^Option '--limit <value>' argument missing$/],
      [['keys', 'rotate', '--batch-size', 'x'], /^--batch-size: must be a whole number of at least 1$/],
      [['db', 'migrate', 'now'], /^db migrate: unexpected argument 'now'$/],
    ];
    const runs = await Promise.all(bad.map(([args]) => evergreen(args, env)));
    for (const [i, [args, message]] of bad.entries()) {
      const run = runs[i]!;
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.err.split('\n')[0], args.join(' ')).toMatch(message);
      expect(run.err, args.join(' ')).toContain('usage: evergreen');
      expect(run.err, args.join(' ')).not.toMatch(/\n\s+at |Error:/);
      expect(run.out).toBe('');
    }
    const commands = [
      ['worker'],
      ['scheduler'],
      ['all'],
      ['board'],
      ['api'],
      ['db', 'migrate'],
      ['secrets', 'init'],
      ['keys', 'rotate'],
      ['connections', 'list'],
      ['connections', 'show'],
      ['connections', 'refresh'],
      ['connections', 'disconnect'],
      ['connections', 'import'],
      ['connections', 'export'],
      ['api-keys', 'create'],
      ['api-keys', 'list'],
      ['api-keys', 'revoke'],
    ];
    // --help wins over anything else wrong, and runs nothing (a role would never exit).
    const helps = await Promise.all(commands.map((c) => evergreen([...c, '--help', '--no-such-option'], env)));
    for (const [i, c] of commands.entries()) {
      expect(helps[i]!.code, c.join(' ')).toBe(0);
      expect(helps[i]!.out, c.join(' ')).toMatch(new RegExp(`^usage: evergreen ${c.join(' ')}`));
    }
    const group = await evergreen(['connections', '--help'], env);
    expect(group.code).toBe(0);
    expect(group.out).toContain('connections import');
  });

  it('--help lists the api-keys commands', async () => {
    const help = await evergreen(['--help'], { PATH: process.env.PATH ?? '', EVERGREEN_ENV_FILE: 'none' });
    expect(help.code).toBe(0);
    for (const command of ['api-keys create --name NAME --scopes', 'api-keys list', 'api-keys revoke <id>']) {
      expect(help.out).toContain(command);
    }
    expect(help.out).toContain('connections:write, connections:read, tokens:read');
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
