import { parseArgs } from 'node:util';

export interface DemoOptions {
  port: number;
  host: string;
  schema: string;
  prefix: string;
  logLevel: string;
}

/** A command line the demo refuses; `main` prints it with the usage line and exits 2. */
export class DemoUsageError extends Error {
  readonly code = 'ERR_DEMO_USAGE';
  override readonly name = 'DemoUsageError';
}

export const DEMO_USAGE = 'usage: pnpm demo [-- --port N --host H --schema S --prefix P --log-level L]';

/** The demo's command line: --port N (0: any free port), --host H, --schema S, --prefix P, --log-level L. */
export function parseDemoOptions(args: string[]): DemoOptions {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: '3001' },
      host: { type: 'string', default: '127.0.0.1' },
      schema: { type: 'string', default: 'evergreen_demo' },
      prefix: { type: 'string', default: 'evergreen-demo' },
      'log-level': { type: 'string', default: 'warn' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new DemoUsageError(`--port: must be a port number, 0-65535`);
  // The demo wipes its schema and prefix at start: refuse names that could be someone's real data.
  if (!/^[a-z_][a-z0-9_]*$/.test(values.schema) || !values.schema.includes('demo'))
    throw new DemoUsageError(
      '--schema: must be a lower-case SQL identifier and contain "demo" (it is dropped at start)',
    );
  if (!/^[A-Za-z0-9_-]+$/.test(values.prefix) || !values.prefix.includes('demo'))
    throw new DemoUsageError(
      '--prefix: must be letters, digits, "_" or "-" and contain "demo" (its keys are deleted at start)',
    );
  return { port, host: values.host, schema: values.schema, prefix: values.prefix, logLevel: values['log-level'] };
}
