export { RefreshEngine, type RefreshEngineDeps, type RunOptions } from './refresh-engine.ts';
export { engineFromConfig } from './engine-from-config.ts';
export type { RefreshDecision } from './refresh-decision.ts';
export { RefreshWorkers, type RefreshWorkersOptions } from './refresh-workers.ts';
export { Reconciler, type ReconcilerOptions, type ReconcileReport } from './reconciler.ts';
export { timingPolicyFor } from './timing-policy.ts';
export { NO_OBSERVER, type RefreshObserver } from './refresh-observer.ts';
