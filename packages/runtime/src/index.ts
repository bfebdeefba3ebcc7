export {
  startRoles,
  runRolesMain,
  startAndDrainOnSignals,
  type Role,
  type RunningRoles,
  type StartOptions,
} from './start-roles.ts';
export { loadDotEnv } from './dotenv.ts';
