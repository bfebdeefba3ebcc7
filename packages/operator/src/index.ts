export { operatorApi, type OperatorApiOptions } from './operator-api.ts';
export { listQuery, bulkRefreshBody, connectionParams, type ConnectionFilter } from './inputs.ts';
export { tokenHealth, type TokenHealth } from './token-health.ts';
export { toIssues } from './validation.ts';
export { connectionViewSchema, connectionPageSchema } from './schemas.ts';
