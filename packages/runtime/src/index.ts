export { startRoles, runRolesMain, ALL_ROLES, type Role, type RunningRoles, type StartOptions } from './start-roles.ts';
export { startAndDrainOnSignals } from './drain-on-signals.ts';
export { loadDotEnv } from './dotenv.ts';
