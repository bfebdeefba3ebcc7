import { randomUUID } from 'node:crypto';
import type { FakeProvider } from '@evergreen/fake-provider';
import type { EnqueueConnectionInput, Evergreen } from '@evergreen/sdk';

/** The provider id every benchmark registers its fake provider under. */
export const BENCH_PROVIDER = 'bench';

export interface Grant {
  connectionId: string;
  grantId: string;
  accessToken: string;
  refreshToken: string;
}

/**
 * `count` connections as a user's consent would have made them: a grant at the fake provider for each (so refreshes
 * are real, rotating ones). Their ids are UUIDs, like the ones enqueueConnection makes when the producer gives none:
 * an id is in every job's key, hash and sorted-set entry, so its length shows in the memory figures.
 */
export function issueGrants(provider: FakeProvider, count: number): Grant[] {
  return Array.from({ length: count }, () => {
    const g = provider.issue();
    return {
      connectionId: randomUUID(),
      grantId: g.grantId,
      accessToken: g.accessToken,
      refreshToken: g.refreshToken,
    };
  });
}

export function inputFor(grant: Grant, expiresAt: Date | undefined, expiresIn?: number): EnqueueConnectionInput {
  return {
    connectionId: grant.connectionId,
    ownerId: `owner-${grant.connectionId}`,
    provider: BENCH_PROVIDER,
    accessToken: grant.accessToken,
    refreshToken: grant.refreshToken,
    ...(expiresAt !== undefined && { expiresAt }),
    ...(expiresIn !== undefined && { expiresIn }),
    scopes: ['read'],
  };
}

/**
 * A backlog of connections that are all due within about a second: throughput scenarios start workers on it and
 * count refreshes over a steady window. Tokens live 2 s, so the clamped buffer puts each refresh 1 s from now.
 */
export async function seedDueBacklog(evergreen: Evergreen, provider: FakeProvider, count: number): Promise<void> {
  const grants = issueGrants(provider, count);
  const result = await evergreen.enqueueConnections(grants.map((g) => inputFor(g, undefined, 2)));
  if (result.failed > 0) throw new Error(`seeding: ${result.failed} of ${count} connections failed`);
}
