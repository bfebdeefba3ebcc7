export { createLogger, ownerHasher, type LoggerConfig, type Logger, type DestinationStream } from './logger.ts';
export { safeError } from './safe-error.ts';
export { redactSecrets, isSecretKey } from './redact.ts';
