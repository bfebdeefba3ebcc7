import { hashApiKey } from '@evergreen/api-keys';
import { createLogger } from '@evergreen/log';
import { ApiKeyStore, type CreatedApiKey } from '@evergreen/store';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorApi } from '../src/operator-api.ts';

describe("the operator API's API-key routes", () => {
  const fixture = new StoreFixture();
  const logs = new LogCapture();
  const app = Fastify({ loggerInstance: createLogger({ level: 'debug', destination: logs }) });
  let store: ApiKeyStore;
  const created: CreatedApiKey[] = [];

  beforeAll(async () => {
    const db = await fixture.open();
    store = new ApiKeyStore(db);
    await app.register(
      operatorApi({
        evergreen: {
          forceRefresh: () => Promise.reject(new Error('not used here')),
          disconnect: () => Promise.reject(new Error('not used here')),
          createConnectSession: () => Promise.reject(new Error('not used here')),
        },
        db,
        queues: { scheduleMany: async () => [] },
        providers: [{ id: 'acme' }],
      }),
      { prefix: '/api' },
    );
    created.push(await store.create({ name: 'reader', scopes: 'tokens:read', providers: 'acme' }));
    created.push(await store.create({ name: 'writer', scopes: 'connections:write,connections:read' }));
  });
  afterAll(async () => {
    await app.close();
    await fixture.close();
  });

  it('GET /api/api-keys lists every key with its attributes, never the key or its hash', async () => {
    const res = await app.inject({ url: '/api/api-keys' });
    expect(res.statusCode, res.body).toBe(200);
    const { items } = res.json<{ items: Record<string, unknown>[] }>();
    expect(items.map((k) => k.name)).toEqual(['reader', 'writer']);
    expect(items[0]).toEqual({
      id: created[0]!.id,
      name: 'reader',
      scopes: ['tokens:read'],
      providers: ['acme'],
      createdAt: created[0]!.createdAt.toISOString(),
      lastUsedAt: null,
      revokedAt: null,
    });
    expect(items[1]).toMatchObject({ providers: null, scopes: ['connections:write', 'connections:read'] });
  });

  it('POST /api/api-keys/:id/revoke revokes (idempotently) and the key stops verifying', async () => {
    const [reader] = created;
    expect(await store.verify(reader!.key)).not.toBeNull();
    const res = await app.inject({ method: 'POST', url: `/api/api-keys/${reader!.id}/revoke` });
    expect(res.statusCode, res.body).toBe(200);
    const revokedAt = res.json<{ revokedAt: string }>().revokedAt;
    expect(new Date(revokedAt).getTime()).not.toBeNaN();
    expect(await store.verify(reader!.key)).toBeNull();
    const again = await app.inject({ method: 'POST', url: `/api/api-keys/${reader!.id}/revoke` });
    expect(again.json()).toMatchObject({ id: reader!.id, revokedAt });
  });

  it('answers 404 for an unknown id and 400 naming the field for a malformed one', async () => {
    const missing = await app.inject({ method: 'POST', url: '/api/api-keys/ffffffffffffffff/revoke' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'ERR_API_KEY_NOT_FOUND' });
    const bad = await app.inject({ method: 'POST', url: '/api/api-keys/not-an-id/revoke' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: 'ERR_INVALID_INPUT', issues: [{ field: 'id' }] });
  });

  it('documents both routes in the OpenAPI document, with no key or hash property', async () => {
    const doc = (await app.inject({ url: '/api/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/api-keys', '/api/api-keys/{id}/revoke']));
    const text = JSON.stringify(doc.paths['/api/api-keys']);
    expect(text).toContain('lastUsedAt');
    expect(text).not.toMatch(/"(key|secretHash)"/);
  });

  it('puts no key and no key hash in any log line', async () => {
    // A request that carries a key where an operator route does not expect one, as a mistaken client would send it.
    const writer = created[1]!;
    await app.inject({ url: '/api/api-keys', headers: { authorization: `Bearer ${writer.key}` } });
    await app.inject({ method: 'POST', url: `/api/api-keys/${encodeURIComponent(writer.key)}/revoke` });
    app.log.info({ note: `pasted ${writer.key}`, secretHash: hashApiKey(writer.key) }, 'a careless line');
    expect(logs.lines.length).toBeGreaterThan(0);
    for (const k of created) {
      expect(logs.text).not.toContain(k.key);
      expect(logs.text).not.toContain(hashApiKey(k.key));
      expect(logs.text).not.toContain(k.key.slice(-43));
    }
  });
});
