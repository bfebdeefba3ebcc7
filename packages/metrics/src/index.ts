export { RefreshMetrics, reasonLabel, DURATION_BUCKETS_SECONDS, LATENESS_BUCKETS_SECONDS } from './refresh-metrics.ts';
export {
  registerStateCollectors,
  QUEUE_STATES,
  type StateCollectors,
  type StateCollectorsOptions,
} from './state-collectors.ts';
export {
  startOpsServer,
  createRegistry,
  readinessChecks,
  boundedChecks,
  READINESS_TIMEOUT_MS,
  type OpsServer,
  type OpsServerOptions,
  type Readiness,
} from './ops-server.ts';
