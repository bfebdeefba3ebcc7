import { describe, expect, it } from 'vitest';
import { generateApiKey } from '../src/api-key-format.ts';
import { ApiKeyVerifier, type ApiKeySource } from '../src/api-key-verifier.ts';
import type { ApiKeyPrincipal } from '../src/principal.ts';

/** A store in memory that counts its lookups; `revoked` keys answer null, as the real one does. */
function memorySource() {
  const keys = new Map<string, ApiKeyPrincipal>();
  const revoked = new Set<string>();
  let failing: Error | null = null;
  const source = {
    lookups: 0,
    add(scopes: ApiKeyPrincipal['scopes'] = ['tokens:read']) {
      const { id, key } = generateApiKey();
      keys.set(key, { id, name: `key-${id}`, scopes, providers: null });
      return key;
    },
    revoke(key: string) {
      revoked.add(key);
    },
    fail(error: Error | null) {
      failing = error;
    },
    async verify(presented: string) {
      source.lookups++;
      await Promise.resolve();
      if (failing) throw failing;
      return revoked.has(presented) ? null : (keys.get(presented) ?? null);
    },
  } satisfies ApiKeySource & Record<string, unknown>;
  return source;
}

describe('the cached API key verifier', () => {
  it('answers from memory within the TTL and asks the store again after it, so a revocation lands within the TTL', async () => {
    let now = 1_000_000;
    const source = memorySource();
    const verifier = new ApiKeyVerifier(source, { ttlMs: 2_000, now: () => now });
    const key = source.add();
    expect(await verifier.verify(key)).toMatchObject({ scopes: ['tokens:read'] });
    for (let i = 0; i < 100; i++) await verifier.verify(key);
    expect(source.lookups).toBe(1);

    source.revoke(key);
    now += 1_999;
    expect(await verifier.verify(key)).not.toBeNull(); // still inside the bound
    now += 1;
    expect(await verifier.verify(key)).toBeNull(); // the bound: 2 s after the last lookup at most
    expect(source.lookups).toBe(2);
  });

  it('refuses a malformed key without a lookup', async () => {
    const source = memorySource();
    const verifier = new ApiKeyVerifier(source);
    for (const text of ['', 'evg_', 'Bearer x', 'a'.repeat(10_000)]) expect(await verifier.verify(text)).toBeNull();
    expect(source.lookups).toBe(0);
  });

  it('caches a refusal too, so retrying a wrong key does not cost a lookup per request', async () => {
    const source = memorySource();
    const verifier = new ApiKeyVerifier(source);
    const unknown = generateApiKey().key;
    for (let i = 0; i < 10; i++) expect(await verifier.verify(unknown)).toBeNull();
    expect(source.lookups).toBe(1);
  });

  it('shares one lookup between concurrent checks of the same key', async () => {
    const source = memorySource();
    const verifier = new ApiKeyVerifier(source);
    const key = source.add();
    const answers = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(key)));
    expect(answers.every((a) => a?.name.startsWith('key-'))).toBe(true);
    expect(source.lookups).toBe(1);
  });

  it('does not cache a failed lookup: the caller gets the error, the next request asks again', async () => {
    const source = memorySource();
    const verifier = new ApiKeyVerifier(source);
    const key = source.add();
    source.fail(new Error('database down'));
    await expect(verifier.verify(key)).rejects.toThrow('database down');
    source.fail(null);
    expect(await verifier.verify(key)).not.toBeNull();
    expect(source.lookups).toBe(2);
  });

  it('keeps at most maxEntries answers, dropping the oldest', async () => {
    const source = memorySource();
    const verifier = new ApiKeyVerifier(source, { maxEntries: 3 });
    const keys = [source.add(), source.add(), source.add(), source.add()];
    for (const k of keys) await verifier.verify(k);
    expect(source.lookups).toBe(4);
    await verifier.verify(keys[3]!); // still cached
    await verifier.verify(keys[1]!); // still cached
    expect(source.lookups).toBe(4);
    await verifier.verify(keys[0]!); // dropped: asked again
    expect(source.lookups).toBe(5);
  });

  it('forgets every answer on clear()', async () => {
    const source = memorySource();
    const verifier = new ApiKeyVerifier(source);
    const key = source.add();
    await verifier.verify(key);
    source.revoke(key);
    verifier.clear();
    expect(await verifier.verify(key)).toBeNull();
  });
});
