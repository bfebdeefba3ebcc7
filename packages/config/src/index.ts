export { loadConfig, loadDatabaseConfig, type EvergreenConfig, type HttpConfig, type RefreshConfig } from './config.ts';
export { VARIABLES, type VariableSpec, type VariableName } from './variables.ts';
export { parseProviders, readProvidersFile } from './providers-file.ts';
