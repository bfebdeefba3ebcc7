export { operatorApi, type OperatorApiOptions } from './operator-api.ts';
export { listQuery, bulkRefreshBody, connectionParams, type ConnectionFilter } from './inputs.ts';
export { tokenHealth, type BreakerStates, type OpenBreaker, type TokenHealth } from './token-health.ts';
export { toIssues } from './validation.ts';
export { connectionViewSchema, connectionPageSchema } from './schemas.ts';
