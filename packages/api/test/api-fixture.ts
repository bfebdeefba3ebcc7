import type { FakeProvider } from '@evergreen/fake-provider';
import { startTwoProviderStack } from '@evergreen/test-support/provider-stack';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import type { FastifyInstance } from 'fastify';
import type { ApiKeyVerifier, ApiPrincipal } from '../src/api-key-verifier.ts';
import { buildApi, type BuildApiOptions } from '../src/build-api.ts';

/** The edge double of the api-keys store: a Map from key to principal. */
export class MapVerifier implements ApiKeyVerifier {
  readonly keys = new Map<string, ApiPrincipal>();

  add(key: string, principal: ApiPrincipal): string {
    this.keys.set(key, principal);
    return key;
  }

  async verify(bearerToken: string): Promise<ApiPrincipal | null> {
    return this.keys.get(bearerToken) ?? null;
  }
}

/** Keys of every kind a test needs; the strings look like real keys so a leak scan has something to find. */
export const KEYS = {
  full: 'evg_full_0123456789abcdefghijklmnopqrstuvwxyzABCDEF',
  read: 'evg_read_0123456789abcdefghijklmnopqrstuvwxyzABCDEF',
  tokens: 'evg_tokn_0123456789abcdefghijklmnopqrstuvwxyzABCDEF',
  write: 'evg_writ_0123456789abcdefghijklmnopqrstuvwxyzABCDEF',
  acme: 'evg_acme_0123456789abcdefghijklmnopqrstuvwxyzABCDEF',
} as const;

export function keyVerifier(): MapVerifier {
  const verifier = new MapVerifier();
  const all = ['connections:write', 'connections:read', 'tokens:read'] as const;
  verifier.add(KEYS.full, { id: 'k-full', name: 'full', scopes: all, providers: null });
  verifier.add(KEYS.read, { id: 'k-read', name: 'read', scopes: ['connections:read'], providers: null });
  verifier.add(KEYS.tokens, { id: 'k-tokens', name: 'tokens', scopes: ['tokens:read'], providers: null });
  verifier.add(KEYS.write, { id: 'k-write', name: 'write', scopes: ['connections:write'], providers: null });
  verifier.add(KEYS.acme, { id: 'k-acme', name: 'acme only', scopes: all, providers: ['acme'] });
  return verifier;
}

export const auth = (key: string) => ({ authorization: `Bearer ${key}` });

/**
 * A sandboxed Evergreen (own schema and Redis prefix, migrated) with two fake providers, `acme` (with a revocation
 * endpoint) and `beta` (without), and
 * `api(...)` building api instances over its parts (or over a second set of parts, as a second process would have).
 */
export interface ApiFixture {
  sandbox: Sandbox;
  stack: Stack;
  acme: FakeProvider;
  beta: FakeProvider;
  verifier: MapVerifier;
  api(overrides?: Partial<BuildApiOptions>): FastifyInstance;
  /** Another set of parts on the same schema and prefix: a second api process. */
  secondStack(): Promise<Stack>;
  close(): Promise<void>;
}

export async function apiFixture(): Promise<ApiFixture> {
  // acme revokes (RFC 7009); beta has no revocation endpoint. No worker: refreshes here are on demand or forced.
  const base = await startTwoProviderStack(new Sandbox(), { acmeRevokes: true });
  const { sandbox, stack, acme, beta } = base;
  const verifier = keyVerifier();
  const apps: FastifyInstance[] = [];
  const stacks: Stack[] = [];
  return {
    sandbox,
    stack,
    acme,
    beta,
    verifier,
    api(overrides = {}) {
      const app = buildApi({
        parts: stack.parts,
        verifier,
        logger: stack.parts.log.child({ component: 'api' }),
        ...overrides,
      });
      apps.push(app);
      return app;
    },
    async secondStack() {
      const second = await startStack(sandbox);
      stacks.push(second);
      return second;
    },
    async close() {
      await Promise.all(apps.map((a) => a.close()));
      await Promise.all(stacks.map((s) => s.close()));
      await base.close();
    },
  };
}
