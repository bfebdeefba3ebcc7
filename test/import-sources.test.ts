import { createCipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEvergreenCli } from '@evergreen/test-support/processes';
import { startProviderStack, type ProviderStack } from '@evergreen/test-support/provider-stack';
import { Sandbox } from '@evergreen/test-support/sandbox';

/** The two database sources, each from a table built the way its own system builds it, in a schema of its own. */
describe('evergreen connections import --from (the reference schema, Nango)', () => {
  const sandbox = new Sandbox();
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-import-db-'));
  const source = `src_${sandbox.id}`;
  let f: ProviderStack;

  beforeAll(async () => {
    f = await startProviderStack(sandbox);
    await sandbox.sql.unsafe(`create schema ${source}`);
  });

  afterAll(async () => {
    await sandbox.sql.unsafe(`drop schema if exists ${source} cascade`);
    await f?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // The report and the checkpoint go to the current directory for a database source: name them.
  const evergreen = (args: string[]) =>
    runEvergreenCli([...args, '--report', join(dir, `${args[3]}.errors.jsonl`)], sandbox.env());
  const imported = async (owner: string) => {
    const [row] = await sandbox.sql`select id from connections where owner_id = ${owner}`;
    return row ? f.stack.read(row.id as string) : null;
  };
  const reportOf = (from: string) =>
    readFileSync(join(dir, `${from}.errors.jsonl`), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { line: number; id: string; field: string; kind: string; reason: string });

  it('platform_connections (reference 004): decrypts, maps statuses and expiries, reports what it leaves out', async () => {
    // Reference 004's DDL, as written there (its users table is the foreign key's target).
    await sandbox.sql.unsafe(`
      set search_path to ${source};
      create table users (id uuid primary key default gen_random_uuid());
      CREATE TABLE platform_connections (
        id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
        user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        platform TEXT NOT NULL,
        access_token TEXT,
        refresh_token TEXT,
        token_expires_at TIMESTAMP,
        status TEXT DEFAULT 'connected'
          CHECK (status IN ('connected', 'token_expired', 'needs_reauth', 'disconnected', 'error')),
        last_sync_status TEXT DEFAULT 'pending',
        last_sync_error TEXT,
        connected_at TIMESTAMP DEFAULT NOW(),
        updated_at TIMESTAMP DEFAULT NOW(),
        UNIQUE(user_id, platform)
      );
      CREATE INDEX idx_platform_connections_status ON platform_connections(status)
        WHERE status IN ('connected', 'token_expired');
      CREATE INDEX idx_platform_connections_expiry ON platform_connections(token_expires_at)
        WHERE token_expires_at IS NOT NULL;
      reset search_path;`);
    const key = randomBytes(32);
    // The reference's encryptToken: AES-256-GCM, iv:authTag:ciphertext, all hex.
    const seal = (plain: string, k = key) => {
      const iv = randomBytes(16);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [iv, cipher.getAuthTag(), data].map((b) => b.toString('hex')).join(':');
    };
    const rows = [
      { tag: 'connected', status: 'connected', access: 'at-P1', refresh: 'rt-P1', expires: '2031-05-06 07:08:09.5' },
      { tag: 'no-refresh', status: 'connected', access: 'at-P2', refresh: null, expires: '2031-05-06 07:08:09' },
      { tag: 'expired', status: 'token_expired', access: 'at-P3', refresh: 'rt-P3', expires: '2020-01-01 00:00:00' },
      { tag: 'reauth', status: 'needs_reauth', access: 'at-P4', refresh: 'rt-P4', expires: null },
      { tag: 'error', status: 'error', access: 'at-P5', refresh: 'rt-P5', expires: null },
      { tag: 'gone', status: 'disconnected', access: null, refresh: null, expires: null },
      { tag: 'undecryptable', status: 'connected', access: 'at-P7', refresh: 'rt-P7', expires: null, otherKey: true },
      {
        tag: 'unknown-platform',
        status: 'connected',
        access: 'at-P8',
        refresh: 'rt-P8',
        expires: null,
        platform: 'myspace',
      },
    ];
    const ids = new Map<string, { id: string; user: string }>();
    for (const r of rows) {
      const [user] = await sandbox.sql`insert into ${sandbox.sql(source)}.users default values returning id`;
      const k = r.otherKey ? randomBytes(32) : key;
      const [row] = await sandbox.sql`
        insert into ${sandbox.sql(source)}.platform_connections
          (user_id, platform, access_token, refresh_token, token_expires_at, status)
        values (${user!.id as string}, ${r.platform ?? 'acme'}, ${r.access && seal(r.access, k)},
          ${r.refresh && seal(r.refresh, k)}, ${r.expires}, ${r.status})
        returning id`;
      ids.set(r.tag, { id: row!.id as string, user: user!.id as string });
    }
    const args = [
      'connections',
      'import',
      '--from',
      'platform-connections',
      '--database-url',
      sandbox.databaseUrl,
      '--key',
      key.toString('hex'),
      '--table',
      `${source}.platform_connections`,
      '--checkpoint',
      join(dir, 'platform.checkpoint.json'),
    ];
    const run = await evergreen(args);
    expect(run.code, run.err).toBe(4);
    expect(JSON.parse(run.out)).toMatchObject({ records: 8, created: 3, skipped: 3, failed: 2 });

    const connected = await imported(ids.get('connected')!.user);
    expect(connected).toMatchObject({ provider: 'acme', accessToken: 'at-P1', refreshToken: 'rt-P1' });
    expect(connected!.expiresAt).toEqual(new Date('2031-05-06T07:08:09.500Z')); // the timestamp read as UTC
    const noRefresh = await imported(ids.get('no-refresh')!.user);
    expect(noRefresh).toMatchObject({ accessToken: 'at-P2', refreshToken: null, refreshAt: null });
    const expired = await imported(ids.get('expired')!.user);
    expect(expired!.refreshAt!.getTime()).toBeLessThanOrEqual(Date.now()); // due now: refreshed on the next pass
    for (const tag of ['reauth', 'error', 'gone', 'undecryptable', 'unknown-platform']) {
      expect(await imported(ids.get(tag)!.user), tag).toBeNull();
    }

    const report = reportOf('platform-connections');
    const entry = (tag: string) => report.filter((e) => e.id === ids.get(tag)!.id);
    expect(entry('reauth')).toMatchObject([
      { kind: 'skipped', field: 'status', reason: expect.stringMatching(/^needs_reauth/) },
    ]);
    expect(entry('error')).toMatchObject([{ kind: 'skipped', field: 'status' }]);
    expect(entry('gone')).toMatchObject([{ kind: 'skipped', field: 'status' }]);
    expect(entry('undecryptable')).toMatchObject([
      { kind: 'error', field: 'access_token', reason: expect.stringContaining('does not decrypt') },
      { kind: 'error', field: 'refresh_token' },
    ]);
    expect(entry('unknown-platform')).toMatchObject([{ kind: 'error', field: 'provider' }]);
    const all = JSON.stringify(report) + run.out + run.err;
    expect(all).not.toMatch(/[ar]t-P\d/);
    expect(all).not.toContain(key.toString('hex'));

    // Rerun (the cut-over's second pass): nothing changed, so nothing is written.
    const again = await evergreen(args);
    expect(JSON.parse(again.out)).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    expect(Number((await sandbox.sql`select max(version) as v from connections`)[0]!.v)).toBe(1);
  });

  it("Nango's _nango_connections: decrypts its credentials, maps provider config keys, reports the rest", async () => {
    // The columns Nango's knex migrations leave on _nango_connections (packages/database/lib/migrations, from
    // create_connection through connect_sessions_add_tags); the foreign keys to its other tables are left out.
    await sandbox.sql.unsafe(`
      create table ${source}._nango_connections (
        id serial primary key,
        created_at timestamptz not null default current_timestamp,
        updated_at timestamptz not null default current_timestamp,
        provider_config_key varchar(255) not null,
        connection_id varchar(255) not null,
        credentials json not null,
        connection_config jsonb,
        metadata jsonb,
        credentials_iv varchar(255),
        credentials_tag varchar(255),
        environment_id integer,
        deleted boolean default false,
        deleted_at timestamptz,
        last_fetched_at timestamptz,
        config_id integer,
        end_user_id integer,
        credentials_expires_at timestamptz,
        last_refresh_success timestamptz,
        last_refresh_failure timestamptz,
        refresh_attempts smallint,
        refresh_exhausted boolean,
        last_execution_at timestamptz,
        tags jsonb not null default '{}',
        constraint _nango_connections_provider_config_key_connection_id_environmen
          unique nulls not distinct (provider_config_key, connection_id, environment_id, deleted_at)
      )`);
    const key = randomBytes(32);
    // Nango's encryptSync: AES-256-GCM with a 12-byte IV, every part base64, the credentials JSON as the plaintext.
    const seal = (credentials: object, k = key) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', k, iv);
      const data = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()]);
      return {
        credentials: { encrypted_credentials: data.toString('base64') },
        iv: iv.toString('base64'),
        tag: cipher.getAuthTag().toString('base64'),
      };
    };
    const oauth2 = (n: number) => ({
      type: 'OAUTH2',
      access_token: `at-N${n}`,
      refresh_token: `rt-N${n}`,
      expires_at: '2031-01-02T03:04:05.000Z',
      raw: { scope: 'read write', access_token: `at-N${n}` },
    });
    const rows: {
      conn: string;
      key: string;
      creds: object;
      otherKey?: boolean;
      deleted?: boolean;
      exhausted?: boolean;
      config?: Record<string, string>;
    }[] = [
      { conn: 'n-direct', key: 'acme', creds: oauth2(1), config: { subdomain: 'team1' } },
      { conn: 'n-mapped', key: 'acme-eu', creds: oauth2(2) },
      { conn: 'n-unmapped', key: 'hubspot', creds: oauth2(3) },
      { conn: 'n-apikey', key: 'acme', creds: { type: 'API_KEY', apiKey: 'k-N4' } },
      { conn: 'n-exhausted', key: 'acme', creds: oauth2(5), exhausted: true },
      { conn: 'n-deleted', key: 'acme', creds: oauth2(6), deleted: true },
      { conn: 'n-badkey', key: 'acme', creds: oauth2(7), otherKey: true },
    ];
    for (const r of rows) {
      const sealed = seal(r.creds, r.otherKey ? randomBytes(32) : key);
      await sandbox.sql`
        insert into ${sandbox.sql(source)}._nango_connections (provider_config_key, connection_id, credentials,
          credentials_iv, credentials_tag, connection_config, environment_id, deleted, refresh_exhausted)
        values (${r.key}, ${r.conn}, ${sandbox.sql.json(sealed.credentials)}, ${sealed.iv}, ${sealed.tag},
          ${sandbox.sql.json(r.config ?? {})}, 1, ${r.deleted ?? false}, ${r.exhausted ?? false})`;
    }
    const run = await evergreen([
      'connections',
      'import',
      '--from',
      'nango',
      '--database-url',
      sandbox.databaseUrl,
      '--key',
      key.toString('base64'),
      '--table',
      `${source}._nango_connections`,
      '--provider-map',
      'acme-eu=acme',
      '--checkpoint',
      join(dir, 'nango.checkpoint.json'),
    ]);
    expect(run.code, run.err).toBe(4);
    expect(JSON.parse(run.out)).toMatchObject({ records: 6, created: 2, skipped: 2, failed: 2 });
    expect(await imported('n-direct')).toMatchObject({
      provider: 'acme',
      accessToken: 'at-N1',
      refreshToken: 'rt-N1',
      scopes: ['read', 'write'],
      metadata: { subdomain: 'team1' },
      expiresAt: new Date('2031-01-02T03:04:05.000Z'),
    });
    expect(await imported('n-mapped')).toMatchObject({ provider: 'acme', accessToken: 'at-N2' });
    for (const owner of ['n-unmapped', 'n-apikey', 'n-exhausted', 'n-deleted', 'n-badkey']) {
      expect(await imported(owner), owner).toBeNull();
    }
    const report = reportOf('nango');
    expect(report.map((e) => [e.kind, e.field])).toEqual([
      ['error', 'provider_config_key'],
      ['skipped', 'credentials.type'],
      ['skipped', 'refresh_exhausted'],
      ['error', 'credentials'],
    ]);
    expect(report[0]!.reason).toContain("'hubspot' matches no configured provider");
    expect(report[3]!.reason).toContain('does not decrypt');
    expect(JSON.stringify(report) + run.out + run.err).not.toMatch(/[ar]t-N\d|k-N4/);
  });

  it('Nango with several environments asks which one', async () => {
    await sandbox.sql`
      insert into ${sandbox.sql(source)}._nango_connections (provider_config_key, connection_id, credentials, environment_id)
      values ('acme', 'n-env2', ${sandbox.sql.json({ type: 'OAUTH2', access_token: 'x' })}, 2)`;
    const args = ['connections', 'import', '--from', 'nango', '--database-url', sandbox.databaseUrl];
    const run = await evergreen([...args, '--table', `${source}._nango_connections`]);
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^ERR_IMPORT_SOURCE: .*environments 1, 2: import one at a time with --environment-id/);
    const env2 = await evergreen([...args, '--table', `${source}._nango_connections`, '--environment-id', '2']);
    expect(env2.code, env2.err).toBe(0);
    expect(await imported('n-env2')).toMatchObject({ accessToken: 'x' }); // stored in the clear: Nango without a key
  });

  it('connections export: importable JSON Lines, tokens only with --include-secrets (and a warning), round trip exact', async () => {
    const env = sandbox.env();
    const plain = await runEvergreenCli(['connections', 'export'], env);
    expect(plain.code, plain.err).toBe(0);
    const lines = plain.out
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const total = Number((await sandbox.sql`select count(*) as n from connections`)[0]!.n);
    expect(lines).toHaveLength(total);
    expect(lines.find((l) => l.ownerId === 'n-direct')).toEqual({
      connectionId: expect.any(String),
      ownerId: 'n-direct',
      provider: 'acme',
      status: 'connected',
      expiresAt: '2031-01-02T03:04:05.000Z',
      scopes: ['read', 'write'],
      metadata: { subdomain: 'team1' },
    });
    expect(plain.out + plain.err).not.toMatch(/[ar]t-[NP]\d/);
    expect(plain.err).not.toContain('warning');

    const file = join(dir, 'export.jsonl');
    const withSecrets = await runEvergreenCli(['connections', 'export', '--include-secrets', '--output', file], env);
    expect(withSecrets.code, withSecrets.err).toBe(0);
    expect(withSecrets.err).toMatch(
      /^warning: --include-secrets: the export holds access and refresh tokens in the clear/,
    );
    expect(withSecrets.out).toBe('');
    expect((statSync(file).mode & 0o777).toString(8)).toBe('600');
    const exported = readFileSync(file, 'utf8');
    expect(exported).toContain('"accessToken":"at-N1","refreshToken":"rt-N1"');

    // The export imports back as it is: every connection already holds those tokens, so nothing is written.
    const back = await runEvergreenCli(['connections', 'import', file], env);
    expect(back.code, back.err).toBe(0);
    expect(JSON.parse(back.out)).toMatchObject({ records: total, unchanged: total, created: 0, updated: 0 });

    const bad = await runEvergreenCli(['connections', 'export', '--status', 'asleep'], env);
    expect(bad.code).toBe(2);
    expect(bad.err.split('\n')[0]).toMatch(/^--status: must be one of connected, /);
  });
});
