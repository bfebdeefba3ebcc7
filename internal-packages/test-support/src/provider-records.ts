import type { FakeProvider } from '@evergreen/fake-provider';

/** When the provider answered each successful refresh of one grant, in order: the tests' clock of record. */
export function refreshTimes(provider: FakeProvider, grantId: string): number[] {
  return provider.requests.filter((r) => r.grantId === grantId && r.outcome === 'ok').map((r) => r.at);
}
