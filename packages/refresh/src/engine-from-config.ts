import type { EvergreenConfig } from '@evergreen/config';
import { ownerHasher } from '@evergreen/log';
import { RefreshEngine, type RefreshEngineDeps } from './refresh-engine.ts';

/** The engine as a process wires it from its configuration; the store, lock and token client stay injectable. */
export function engineFromConfig(
  config: EvergreenConfig,
  deps: Pick<
    RefreshEngineDeps,
    | 'store'
    | 'lock'
    | 'tokens'
    | 'log'
    | 'observer'
    | 'sendSlots'
    | 'pauses'
    | 'breakers'
    | 'outageEvents'
    | 'outageRecovery'
  >,
): RefreshEngine {
  return new RefreshEngine({
    ...deps,
    providers: new Map(config.providers.map((p) => [p.id, p])),
    config: config.refresh,
    httpDeadlineMs: config.http.deadlineMs,
    hashOwner: ownerHasher(config.keyring.deriveKey('log-owner-hash')),
  });
}
