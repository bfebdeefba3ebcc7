export {
  loadConfig,
  loadDatabaseConfig,
  type EvergreenConfig,
  type HttpConfig,
  type LoadOptions,
  type RefreshConfig,
} from './config.ts';
export { boardAuthIssues, type BoardAuth, type BoardConfig } from './board-config.ts';
export { VARIABLES, type VariableSpec, type VariableName } from './variables.ts';
export { parseProviders, readProvidersFile } from './providers-file.ts';
