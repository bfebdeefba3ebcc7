export {
  RefreshEngine,
  type EngineLock,
  type EnginePauses,
  type EngineSendSlots,
  type EngineStore,
  type EngineTokens,
  type RefreshEngineDeps,
  type RunOptions,
} from './refresh-engine.ts';
export { engineFromConfig } from './engine-from-config.ts';
// Decided in core; re-exported because the SDK and the workers know the decision as the engine's answer.
export type { DelayReason, DoneReason, RefreshDecision, StopDecision } from '@evergreen/core';
export { RefreshWorkers, type RefreshWorkersOptions } from './refresh-workers.ts';
export { Reconciler, type ReconcilerOptions, type ReconcileReport } from './reconciler.ts';
export { timingPolicyFor } from './timing-policy.ts';
export { NO_OBSERVER, type RefreshObserver } from './refresh-observer.ts';
export { BreakerGuard, type GuardBreakers, type OutageEvents, type SendPermit } from './breaker-guard.ts';
export { OutageRecovery, type OutageCatchUp } from './outage-recovery.ts';
export { WaitOrder } from './wait-order.ts';
export { BacklogOrder, MIN_BACKLOG, type BacklogOrderOptions } from './backlog-order.ts';
