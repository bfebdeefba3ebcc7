import { Keyring } from '@evergreen/keyring';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acmeConnection } from '@evergreen/test-support/seed-rows';
import { StoreFixture } from '@evergreen/test-support/store-fixture';
import { until } from '@evergreen/test-support/until';
import {
  closeDatabase,
  ConnectionStore,
  DatabaseError,
  KeyUsage,
  openDatabase,
  rotateKeys,
  type Database,
  type KeyUsageFlush,
} from '../src/index.ts';
import { KeyUsageRecorder } from '../src/key-usage.ts';

describe('key usage: encryptions counted per key id, across processes', () => {
  const fixture = new StoreFixture();
  let db: Database;
  let usage: KeyUsage;
  const entry = Keyring.generateEntry('count1');

  beforeAll(async () => {
    db = await fixture.open(3);
    usage = new KeyUsage(db);
  });

  afterAll(() => fixture.close());

  it('adds up what every store seals, each flushing its own count', async () => {
    // Two processes with the same key: two keyrings, two stores, one table.
    const a = new ConnectionStore(db, Keyring.parse(entry), 'a');
    const b = new ConnectionStore(db, Keyring.parse(entry), 'b');
    await a.upsertMany([acmeConnection('a1'), acmeConnection('a2'), acmeConnection('a3')]);
    await b.upsert(acmeConnection('b1'));
    expect(await a.flushKeyUsage()).toEqual({ keyId: 'count1', encryptions: 6, added: 6 });
    expect(await b.flushKeyUsage()).toEqual({ keyId: 'count1', encryptions: 8, added: 2 });
    expect(await a.flushKeyUsage()).toBeNull(); // nothing new: no query
    expect(await usage.totals()).toEqual([{ keyId: 'count1', encryptions: 8 }]);
  });

  it('flushes in the background at most once per interval after writes, and on demand', async () => {
    const ring = Keyring.parse(Keyring.generateEntry('count2'));
    let now = 1_000_000;
    const flushed: KeyUsageFlush[] = [];
    const recorder = new KeyUsageRecorder(usage, ring, {
      everyMs: 60_000,
      now: () => now,
      onFlush: (f) => flushed.push(f),
    });
    ring.encrypt('x', 'aad');
    now += 59_999;
    recorder.afterWrite(); // too soon: nothing is written
    ring.encrypt('y', 'aad');
    now += 1;
    recorder.afterWrite();
    await until(() => flushed.length === 1, { what: 'the background flush' });
    expect(flushed[0]).toEqual({ keyId: 'count2', encryptions: 2, added: 2 });
    ring.encrypt('z', 'aad');
    recorder.afterWrite(); // the interval starts again from the last flush
    expect(await recorder.flush()).toEqual({ keyId: 'count2', encryptions: 3, added: 1 });
    expect(flushed).toHaveLength(2);
  });

  it('keeps a count it could not write for the next flush, and reports the failure', async () => {
    const closed = openDatabase({ url: fixture.sandbox.databaseUrl, schema: fixture.sandbox.schema, max: 1 });
    await closeDatabase(closed);
    const ring = Keyring.parse(Keyring.generateEntry('count3'));
    const errors: unknown[] = [];
    const recorder = new KeyUsageRecorder(new KeyUsage(closed), ring, { onError: (e) => errors.push(e) });
    ring.encrypt('x', 'aad');
    ring.encrypt('y', 'aad');
    await expect(recorder.flush()).rejects.toBeInstanceOf(DatabaseError);
    expect(errors).toHaveLength(1);
    expect(await new KeyUsageRecorder(usage, ring).flush()).toEqual({ keyId: 'count3', encryptions: 2, added: 2 });
  });

  it('counts the values a key rotation seals against the new key', async () => {
    const ring = Keyring.parse(`${Keyring.generateEntry('count4')},${entry}`);
    const result = await rotateKeys(db, ring);
    expect(result).toEqual({ rotated: 4, raced: 0, remaining: 0 });
    // Four rows, each with an access and a refresh token.
    expect((await usage.totals()).find((t) => t.keyId === 'count4')).toEqual({ keyId: 'count4', encryptions: 8 });
  });
});
