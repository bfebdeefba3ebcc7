import type { ConnectionEvent, ConnectionEventPayload } from '@evergreen/core';
import { Keyring } from '@evergreen/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeUpsert } from '@evergreen/test-support/seed-rows';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { until } from '@evergreen/test-support/until';
import { ConnectionStore, eventsChannel } from '../src/index.ts';

describe("the store's events: upsertMany and subscribe", () => {
  const fixture = new StoreFixture();
  const { sandbox } = fixture;
  const channel = eventsChannel(sandbox.schema);
  let writer: ConnectionStore;
  let reader: ConnectionStore;

  beforeAll(async () => {
    const keyring = Keyring.parse(sandbox.encryptionKeys);
    // Two pools, as two processes would have: events cross from one to the other.
    writer = new ConnectionStore(await fixture.open(), keyring, 'writer', channel);
    reader = new ConnectionStore(await fixture.open(), keyring, 'reader', channel);
  });

  afterAll(() => fixture.close());

  const item = (ownerId: string, connectionId?: string) =>
    acmeUpsert(ownerId, { ownerId, ...(connectionId !== undefined && { connectionId }) });

  it('writes many in one call with per-item results, and subscribers elsewhere hear each new connection', async () => {
    const heard: ConnectionEvent[] = [];
    const stop = await reader.subscribe((event) => heard.push(event));
    try {
      const results = await writer.upsertMany([item('o1'), item('o2', 'fixed-id'), item('o1')]);
      expect(results).toEqual([
        { index: 0, ok: true, connectionId: expect.any(String), version: 1, created: true },
        { index: 1, ok: true, connectionId: 'fixed-id', version: 1, created: true },
        { index: 2, ok: false, field: 'ownerId', reason: 'the same connection as item 0' },
      ]);
      await until(() => heard.length === 4, { what: 'both connections created and connected' });
      expect(heard.map((e) => [e.kind, (e.data as ConnectionEventPayload).ownerId])).toEqual([
        ['connection.created', 'o1'],
        ['connection.created', 'o2'],
        ['connection.connected', 'o1'],
        ['connection.connected', 'o2'],
      ]);
      expect(heard.map((e) => e.id)).toEqual([...heard.map((e) => e.id)].sort((a, b) => a - b));
      expect(JSON.stringify(heard)).not.toMatch(/at-|rt-/);

      // A disconnect is announced once committed.
      await writer.disconnect('fixed-id');
      await until(() => heard.length === 5, { what: 'the disconnect event' });
      expect(heard[4]).toMatchObject({ kind: 'connection.disconnected', data: { connectionId: 'fixed-id' } });
    } finally {
      await stop();
    }
  });

  it('reports a connection written again as not created, and announces nothing when it stays connected', async () => {
    const heard: ConnectionEvent[] = [];
    const stop = await reader.subscribe((event) => heard.push(event));
    try {
      const [first] = await writer.upsertMany([item('o5')]);
      expect(first).toMatchObject({ ok: true, created: true, version: 1 });
      await until(() => heard.length === 2, { what: 'the first connection.created and connection.connected' });
      const [again] = await writer.upsertMany([item('o5')]);
      expect(again).toMatchObject({ ok: true, created: false, version: 2 });
      // A witness written after it: once heard, anything the second write announced would have arrived before it.
      await writer.upsertMany([item('o6')]);
      await until(() => heard.length >= 4, { what: "the witness's events" });
      expect(heard.map((e) => [e.kind, (e.data as ConnectionEventPayload).ownerId])).toEqual([
        ['connection.created', 'o5'],
        ['connection.connected', 'o5'],
        ['connection.created', 'o6'],
        ['connection.connected', 'o6'],
      ]);
    } finally {
      await stop();
    }
  });

  it('stops hearing once unsubscribed', async () => {
    const heard: ConnectionEvent[] = [];
    const stop = await reader.subscribe((event) => heard.push(event));
    await writer.upsert(item('o3'));
    await until(() => heard.length === 2, { what: 'the first events (created, connected)' });
    await stop();
    const still: ConnectionEvent[] = [];
    const witness = await reader.subscribe((event) => still.push(event));
    try {
      await writer.upsert(item('o4'));
      await until(() => still.length === 2, { what: 'the witness to hear the next events' });
      expect(heard).toHaveLength(2);
    } finally {
      await witness();
    }
  });
});
