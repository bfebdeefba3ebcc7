import { createHmac } from 'node:crypto';
import {
  pino,
  type Bindings,
  type ChildLoggerOptions,
  type DestinationStream,
  type LogFn,
  type Logger,
  type LoggerOptions,
} from 'pino';
import { redactApiKeys, redactSecrets, redactUrls } from './redact.ts';

export type { DestinationStream };

type ChildFn = (this: Logger, bindings: Bindings, options?: ChildLoggerOptions) => Logger;

export interface LoggerConfig {
  level: string;
  /** Extra bindings on every line: service name, process role. */
  base?: Record<string, unknown>;
  /** Where lines go; stdout (asynchronously) when absent. Tests pass a stream to capture and scan them. */
  destination?: DestinationStream;
}

/**
 * The one root logger of a process (DESIGN.md invariant 8): JSON lines, secrets redacted by key at any depth and
 * connection-string passwords taken out (`redactSecrets`), in what is logged, in child bindings, in errors and in the
 * message. pino's own `redact` takes fixed paths only, and a secret one level deeper than its paths went out whole.
 */
export function createLogger(config: LoggerConfig): Logger {
  const options: LoggerOptions = {
    level: config.level,
    base: { pid: process.pid, ...config.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label) => ({ level: label }),
      bindings: (bindings) => redactSecrets(bindings),
      log: (object) => redactSecrets(object),
    },
    // `redactSecrets` has already turned every error into pino's shape, redacted; serialising it again would
    // overwrite its `type` with "Object".
    serializers: { err: (value: unknown) => value },
    hooks: {
      logMethod(args, method) {
        return method.apply(this, scrubMessage(args as unknown[]) as Parameters<LogFn>);
      },
      // The finished line, last: what serializers produce (Fastify's `req.url`) never passed the formatters above,
      // and a URL is where a client most often puts a key by mistake.
      streamWrite: redactApiKeys,
    },
  };
  const logger = pino(options, config.destination ?? bufferedStdout());
  // pino formats only the root's bindings (`formatters.bindings`); a child's go out as given. Children are created
  // from their parent's prototype chain, so this one override covers every descendant; pino's own `child` is taken
  // unbound on purpose, since each descendant calls it with itself as `this`.
  const child = Reflect.get(logger, 'child') as unknown as ChildFn;
  const redactingChild: ChildFn = function (bindings, childOptions) {
    return child.call(this, redactSecrets(bindings), childOptions);
  };
  logger.child = redactingChild as unknown as Logger['child'];
  return logger;
}

/** How long a line may wait in the buffer before it is written: the delay a reader of the log can see. */
const FLUSH_INTERVAL_MS = 200;

/**
 * stdout written asynchronously in chunks of 4 KiB or every FLUSH_INTERVAL_MS: a line no longer costs a write(2) of
 * its own (the api's audit line per token read cost 7 % of its CPU in writes), and pino flushes what is left when the
 * process exits. What a SIGKILL takes with it is at most the last interval's lines.
 */
function bufferedStdout(): DestinationStream {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 4096 });
  // An error (stdout closed) is the stream's to report; a write in flight makes flush wait for it.
  setInterval(() => stream.flush(() => {}), FLUSH_INTERVAL_MS).unref();
  return stream;
}

/**
 * A log call's arguments with connection-string passwords out of its message. pino takes the message of an error
 * logged alone (`log.error(err)`, `log.error({ err })`) from the error itself, past the formatters: it is handed over
 * scrubbed instead.
 */
function scrubMessage(args: unknown[]): unknown[] {
  const [first, second] = args;
  if (args.length === 1 && typeof first === 'object' && first !== null) {
    const err = first instanceof Error ? first : (first as { err?: unknown }).err;
    if (err instanceof Error && (first as { msg?: unknown }).msg === undefined) return [first, redactUrls(err.message)];
  }
  if (typeof first === 'string') return [redactUrls(first), ...args.slice(1)];
  if (typeof second === 'string') return [first, redactUrls(second), ...args.slice(2)];
  return args;
}

/**
 * Owner ids are personal data: logs carry a keyed hash that correlates lines about one owner without naming them.
 * HMAC rather than a bare hash, so a reader cannot confirm a guessed id.
 */
export function ownerHasher(key: Buffer): (ownerId: string) => string {
  return (ownerId) => createHmac('sha256', key).update(ownerId).digest('base64url').slice(0, 16);
}

export type { Logger };
