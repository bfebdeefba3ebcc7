export {
  createLogger,
  ownerHasher,
  REDACT_PATHS,
  type LoggerConfig,
  type Logger,
  type DestinationStream,
} from './logger.ts';
export { safeError } from './safe-error.ts';
