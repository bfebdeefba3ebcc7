export { startRoles, runRolesMain, ALL_ROLES, type Role, type RunningRoles, type StartOptions } from './start-roles.ts';
export { startAndDrainOnSignals } from './drain-on-signals.ts';
export { loadDotEnv } from './dotenv.ts';
export {
  ensureSecretsFile,
  type GeneratedSecret,
  type SecretsFileOptions,
  type SecretsFileResult,
} from './secrets-file.ts';
export { DEFAULT_API_KEY_VERIFIER, type ApiKeyVerifierFactory } from './api-key-verifier.ts';
