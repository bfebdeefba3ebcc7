import { randomUUID } from 'node:crypto';
import { Keyring } from '@evergreen/keyring';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectSessions, type NewConnectSession } from '../src/connect-sessions.ts';
import type { Database } from '../src/database.ts';

describe('ConnectSessions', () => {
  const fx = new StoreFixture();
  let db: Database;
  let sessions: ConnectSessions;

  beforeAll(async () => {
    db = await fx.open(8);
    sessions = new ConnectSessions(db, Keyring.parse(fx.sandbox.encryptionKeys));
  });
  afterAll(() => fx.close());

  const session = (overrides: Partial<NewConnectSession> = {}): NewConnectSession => ({
    id: randomUUID(),
    stateHash: randomUUID(),
    ownerId: 'owner-1',
    provider: 'acme',
    connectionId: null,
    scopes: ['openid'],
    metadata: { tenant: 't1' },
    returnTo: 'https://app.example.com/done',
    redirectUri: 'https://evergreen.example.com/v1/connect/callback',
    secrets: { codeVerifier: 'verifier-0123456789', nonce: 'nonce-0123456789' },
    expiresAt: new Date(Date.now() + 600_000),
    ...overrides,
  });

  it('seals the verifier and nonce, and gives them back to the one consumer', async () => {
    const s = session();
    await sessions.create(s);
    const [row] = await fx.sandbox.sql`select secrets from connect_sessions where id = ${s.id}`;
    expect(String(row!.secrets)).not.toContain('verifier-0123456789');
    expect(String(row!.secrets)).not.toContain('nonce-0123456789');
    const consumed = await sessions.consume(s.stateHash);
    expect(consumed).toEqual({ kind: 'consumed', expired: false, session: s });
  });

  it('is single use under a race: of ten callbacks with one state, exactly one gets the session', async () => {
    const s = session();
    await sessions.create(s);
    const results = await Promise.all(Array.from({ length: 10 }, () => sessions.consume(s.stateHash)));
    expect(results.filter((r) => r.kind === 'consumed')).toHaveLength(1);
    expect(results.filter((r) => r.kind === 'replayed')).toHaveLength(9);
  });

  it('tells an expired session and an unknown state apart', async () => {
    const s = session({ expiresAt: new Date(Date.now() - 1_000) });
    await sessions.create(s);
    expect(await sessions.consume(s.stateHash)).toMatchObject({ kind: 'consumed', expired: true });
    expect(await sessions.consume('no-such-state')).toEqual({ kind: 'unknown' });
  });

  it('deletes sessions a day past their expiry when new ones start', async () => {
    const old = session({ expiresAt: new Date(Date.now() - 2 * 24 * 3600_000) });
    await sessions.create(old);
    await sessions.create(session());
    expect(await fx.sandbox.sql`select 1 from connect_sessions where id = ${old.id}`).toHaveLength(0);
  });
});
