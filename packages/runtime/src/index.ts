export {
  startRoles,
  runRolesMain,
  startOrExit,
  drainOnSignals,
  startAndDrainOnSignals,
  type Role,
  type RunningRoles,
  type StartOptions,
} from './start-roles.ts';
export { loadDotEnv } from './dotenv.ts';
