import { ApiKeyNotFoundError, ApiKeyVerifier, generateApiKey, hashApiKey } from '@evergreen/api-keys';
import { InvalidInputError } from '@evergreen/core';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { until } from '@evergreen/test-support/until';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyStore, closeDatabase, DatabaseError, openDatabase, type Database } from '../src/index.ts';

describe('API keys in Postgres', () => {
  const fixture = new StoreFixture();
  let db: Database;
  let store: ApiKeyStore;

  beforeAll(async () => {
    db = await fixture.open(3);
    store = new ApiKeyStore(db);
  });
  afterAll(() => fixture.close());

  const storedRow = async (id: string) => (await fixture.sandbox.sql`select * from api_keys where id = ${id}`)[0];

  it('creates a key, returns it once and stores only its hash', async () => {
    const created = await store.create({ name: 'billing', scopes: 'tokens:read,connections:read', providers: 'acme' });
    expect(created).toMatchObject({
      name: 'billing',
      scopes: ['tokens:read', 'connections:read'],
      providers: ['acme'],
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(created.key).toMatch(new RegExp(`^evg_${created.id}_`));
    const row = await storedRow(created.id);
    expect(row).toMatchObject({ secret_hash: hashApiKey(created.key), providers: ['acme'] });
    expect(JSON.stringify(row)).not.toContain(created.key.slice(-43));
  });

  it('refuses bad input before writing anything, naming the field', async () => {
    const before = await store.list();
    await expect(store.create({ name: 'x', scopes: 'tokens:write' })).rejects.toMatchObject({
      constructor: InvalidInputError,
      field: 'scopes',
    });
    expect(await store.list()).toHaveLength(before.length);
  });

  it('lists keys, oldest first, without the key or its hash', async () => {
    const a = await store.create({ name: 'list-a', scopes: 'tokens:read' });
    const b = await store.create({ name: 'list-b', scopes: 'connections:write' });
    const listed = await store.list();
    const ids = listed.map((k) => k.id);
    expect(ids.indexOf(a.id)).toBeLessThan(ids.indexOf(b.id));
    for (const k of listed) {
      expect(Object.keys(k).sort()).toEqual(
        ['createdAt', 'id', 'lastUsedAt', 'name', 'providers', 'revokedAt', 'scopes'].sort(),
      );
    }
    const text = JSON.stringify(listed);
    for (const secret of [a.key, b.key, hashApiKey(a.key), hashApiKey(b.key)]) expect(text).not.toContain(secret);
    expect(listed.find((k) => k.id === a.id)).toMatchObject({ providers: null, scopes: ['tokens:read'] });
  });

  it('verifies a key to its principal; unknown, malformed, wrong-secret and revoked keys are all just null', async () => {
    const created = await store.create({ name: 'verify', scopes: 'tokens:read', providers: 'acme,beta' });
    expect(await store.verify(created.key)).toEqual({
      id: created.id,
      name: 'verify',
      scopes: ['tokens:read'],
      providers: ['acme', 'beta'],
    });
    const otherSecret = generateApiKey().key.slice(`evg_0000000000000000_`.length);
    for (const presented of [
      generateApiKey().key, // unknown id
      `evg_${created.id}_${otherSecret}`, // right id, wrong secret
      created.key.slice(0, -1), // malformed
      '',
      `${created.key} `,
    ]) {
      expect(await store.verify(presented), presented.slice(0, 24)).toBeNull();
    }
    await store.revoke(created.id);
    expect(await store.verify(created.key)).toBeNull();
  });

  it('records the last use, writing it at most once per interval', async () => {
    const created = await store.create({ name: 'last-use', scopes: 'tokens:read' });
    const throttled = new ApiKeyStore(db, { lastUseEveryMs: 60_000 });
    await throttled.verify(created.key);
    const first = (await storedRow(created.id))!.last_used_at as Date;
    expect(first).toBeInstanceOf(Date);
    await throttled.verify(created.key);
    await throttled.verify(created.key);
    expect(((await storedRow(created.id))!.last_used_at as Date).getTime()).toBe(first.getTime());
    expect((await store.list()).find((k) => k.id === created.id)!.lastUsedAt).toEqual(first);

    // With an interval of zero every verification writes: the value moves on.
    const eager = new ApiKeyStore(db, { lastUseEveryMs: 0 });
    await until(
      async () => {
        await eager.verify(created.key);
        return ((await storedRow(created.id))!.last_used_at as Date).getTime() > first.getTime();
      },
      { what: 'last_used_at to move on', timeoutMs: 5_000 },
    );
  });

  it('revokes idempotently: the first revocation time stays; an unknown id is ApiKeyNotFoundError', async () => {
    const created = await store.create({ name: 'revoke', scopes: 'tokens:read' });
    const first = await store.revoke(created.id);
    expect(first.revokedAt).toBeInstanceOf(Date);
    const again = await store.revoke(created.id);
    expect(again.revokedAt).toEqual(first.revokedAt);
    expect((await store.list()).find((k) => k.id === created.id)!.revokedAt).toEqual(first.revokedAt);
    const missing = store.revoke('0000000000000000');
    await expect(missing).rejects.toBeInstanceOf(ApiKeyNotFoundError);
    await expect(missing).rejects.toMatchObject({ code: 'ERR_API_KEY_NOT_FOUND', keyId: '0000000000000000' });
  });

  it('wraps a failed query in DatabaseError, whose message names neither the key nor its hash', async () => {
    const created = await store.create({ name: 'db-error', scopes: 'tokens:read' });
    // A pool on a schema without the table: the query fails in Postgres (undefined_table).
    const broken = openDatabase({
      url: fixture.sandbox.databaseUrl,
      schema: `${fixture.sandbox.schema}_missing`,
      max: 1,
    });
    try {
      const error = await new ApiKeyStore(broken).verify(created.key).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DatabaseError);
      expect(error).toMatchObject({ code: 'ERR_DATABASE', condition: 'undefined_table' });
      const text = `${String(error)} ${JSON.stringify(error)} ${(error as Error).stack ?? ''}`;
      expect(text).not.toContain(created.key);
      expect(text).not.toContain(created.id);
      expect(text).not.toContain(hashApiKey(created.key));
    } finally {
      await closeDatabase(broken);
    }
  });

  it('a revocation through one pool stops the cached verifier of another within its 2 s bound', async () => {
    // Two processes: each its own pool, store and verifier.
    const other = await fixture.open(2);
    const verifier = new ApiKeyVerifier(new ApiKeyStore(other), { ttlMs: 2_000 });
    const created = await store.create({ name: 'cross-process', scopes: 'tokens:read' });
    expect(await verifier.verify(created.key)).toMatchObject({ id: created.id });

    await store.revoke(created.id);
    const revokedAt = Date.now();
    await until(async () => (await verifier.verify(created.key)) === null, {
      what: 'the other process to refuse the revoked key',
      timeoutMs: 2_500,
      intervalMs: 20,
    });
    expect(Date.now() - revokedAt).toBeLessThanOrEqual(2_500);
  });
});
