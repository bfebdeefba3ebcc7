import { randomUUID } from 'node:crypto';
import type { ConnectionView } from '@evergreen/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorApp } from './operator-app.ts';

const EXPIRES_AT = new Date('2030-01-02T03:04:05.678Z');

const view = (connectionId: string, status: ConnectionView['status'] = 'connected'): ConnectionView => ({
  connectionId,
  ownerId: 'owner-1',
  provider: 'acme',
  status,
  scopes: ['read'],
  metadata: { team: 'a' },
  expiresAt: EXPIRES_AT,
  refreshAt: EXPIRES_AT,
  refreshTokenExpiresAt: null,
  lastRefreshAt: null,
  lastRefreshOutcome: null,
  lastRefreshReason: null,
  consecutiveFailures: 0,
  version: 1,
  createdAt: EXPIRES_AT,
  updatedAt: EXPIRES_AT,
});

describe('the operator API plugin', () => {
  /** What a handler could carry by mistake: a query that selected token columns, a credential. */
  const leaked = {
    accessToken: `at_${randomUUID()}`,
    refreshToken: `rt_${randomUUID()}`,
    credentials: { password: `pw_${randomUUID()}` },
  };
  const { app, register, close } = operatorApp({
    schema: 'operator_api_unused',
    evergreen: {
      async forceRefresh(id) {
        const row = { ...view(id), ...leaked };
        return row;
      },
      async disconnect(id) {
        // A view that does not fit its schema (a status the API does not know), carrying a token as well.
        const row = { ...view(id), status: 'vanished' as ConnectionView['status'], ...leaked };
        return row;
      },
      createConnectSession: () => Promise.reject(new Error('not used here')),
    },
  });

  beforeAll(register);
  afterAll(close);

  it('answers only the properties its response schema declares, whatever the handler returned', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/connections/conn-1/refresh' });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json<Record<string, unknown>>();
    expect(Object.keys(body).sort()).toEqual(Object.keys(view('conn-1')).sort());
    expect(body).toMatchObject({
      connectionId: 'conn-1',
      expiresAt: EXPIRES_AT.toISOString(),
      refreshTokenExpiresAt: null,
      metadata: { team: 'a' },
    });
    for (const secret of [leaked.accessToken, leaked.refreshToken, leaked.credentials.password]) {
      expect(res.body).not.toContain(secret);
    }
  });

  it('answers a 500 without the object when a response does not fit its schema', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/connections/conn-2/disconnect' });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: 'ERR_INTERNAL', message: 'internal error; see the board logs' });
    expect(res.body).not.toContain(leaked.accessToken);
  });

  it('serves its routes and its OpenAPI document under the prefix it is registered with', async () => {
    expect((await app.inject({ method: 'POST', url: '/connections/conn-1/refresh' })).statusCode).toBe(404);
    const res = await app.inject({ url: '/api/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json<{ paths: Record<string, Record<string, { parameters?: { name: string; in: string }[] }>> }>();
    expect(Object.keys(doc.paths).every((path) => path.startsWith('/api/'))).toBe(true);
    // The query's JSON Schema, from the zod schema through the type provider's transform.
    const limit = doc.paths['/api/connections']!.get!.parameters!.find((p) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 50 } });
  });
});
