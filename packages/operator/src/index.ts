export { operatorApi, type OperatorApiOptions } from './operator-api.ts';
export { listQuery, bulkRefreshBody, connectionParams, type ConnectionFilter } from './inputs.ts';
export { tokenHealth, type TokenHealth } from './queries/token-health.ts';
export { listConnections, findConnection, markDueNow } from './queries/connections.ts';
export { recentRefreshEvents, type RefreshEventRow } from './queries/refresh-events.ts';
export { toIssues } from './validation.ts';
