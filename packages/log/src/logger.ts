import { createHmac } from 'node:crypto';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { DestinationStream };

/** Keys that may hold a secret anywhere in a log object; pino replaces their values before serialising. */
const SECRET_KEYS = [
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'id_token',
  'idToken',
  'token',
  'clientSecret',
  'client_secret',
  'assertion',
  'client_assertion',
  'password',
  'authorization',
  'Authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'code_verifier',
  'encryptionKeys',
  'EVERGREEN_ENCRYPTION_KEYS',
];

/** Top level, one and two levels down, and inside request headers: where tokens have been seen to wander. */
export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'headers.authorization',
];

export interface LoggerConfig {
  level: string;
  /** Extra bindings on every line: service name, process role. */
  base?: Record<string, unknown>;
  /** Where lines go; stdout when absent. Tests pass a stream to capture and scan them. */
  destination?: DestinationStream;
}

/** The one root logger of a process (DESIGN.md invariant 8): JSON lines, secrets redacted. */
export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { pid: process.pid, ...config.base },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return config.destination ? pino(options, config.destination) : pino(options);
}

/**
 * Owner ids are personal data: logs carry a keyed hash that correlates lines about one owner without naming them.
 * HMAC rather than a bare hash, so a reader cannot confirm a guessed id.
 */
export function ownerHasher(key: Buffer): (ownerId: string) => string {
  return (ownerId) => createHmac('sha256', key).update(ownerId).digest('base64url').slice(0, 16);
}

export type { Logger };
