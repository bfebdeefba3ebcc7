import { EvergreenError } from '@evergreen/core';
import {
  commandHelp,
  findCommand,
  parseCommandLine,
  synopsisOf,
  usageOf,
  UsageError,
  type Command,
} from './command.ts';
import { apiKeysCreate, apiKeysList, apiKeysRevoke } from './commands/api-keys.ts';
import { connect, connectionsReconnect } from './commands/connect.ts';
import { connectionsDisconnect, connectionsList, connectionsRefresh, connectionsShow } from './commands/connections.ts';
import { dbMigrate } from './commands/db.ts';
import { connectionsExport } from './commands/export.ts';
import { connectionsImport } from './commands/import.ts';
import { keysRotate } from './commands/keys.ts';
import { roleCommands } from './commands/roles.ts';
import { secretsInit } from './commands/secrets.ts';

const COMMANDS: readonly Command[] = [
  ...roleCommands,
  dbMigrate,
  secretsInit,
  keysRotate,
  connectionsList,
  connectionsShow,
  connectionsRefresh,
  connectionsDisconnect,
  connectionsReconnect,
  connect,
  connectionsImport,
  connectionsExport,
  apiKeysCreate,
  apiKeysList,
  apiKeysRevoke,
];

/** Exit codes: 0 done, 1 a typed error, 2 bad usage, 3 run again (key rotation); -1 keeps running (a role). */
async function main(argv: string[]): Promise<number> {
  const first = argv[0];
  if (first === undefined) return usageError(usageOf(COMMANDS), 'a command is required');
  if (first === '--help' || first === '-h' || first === 'help') {
    process.stdout.write(usageOf(COMMANDS));
    return 0;
  }
  const found = findCommand(COMMANDS, argv);
  if (found === null) {
    // `evergreen api-keys`, `evergreen connections --help`: a group's commands.
    if (COMMANDS.some((c) => c.words[0] === first && c.words.length > 1)) {
      const group = usageOf(COMMANDS, first);
      const sub = argv[1];
      if (sub === '--help' || sub === '-h') {
        process.stdout.write(group);
        return 0;
      }
      const subs = COMMANDS.filter((c) => c.words[0] === first).map((c) => c.words[1]);
      return usageError(
        group,
        sub === undefined || sub.startsWith('-')
          ? `${first}: a subcommand is required (${subs.join(', ')})`
          : `${first}: unknown subcommand '${sub}' (${subs.join(', ')})`,
      );
    }
    return usageError(usageOf(COMMANDS), `unknown command '${first}'`);
  }
  const { command, rest } = found;
  try {
    const line = parseCommandLine(command, rest);
    if (line.help) {
      process.stdout.write(commandHelp(command));
      return 0;
    }
    const { loadDotEnv } = await import('@evergreen/runtime');
    loadDotEnv();
    return await command.run({ args: line.args, values: line.values });
  } catch (error) {
    if (error instanceof UsageError) {
      return usageError(
        `usage: ${synopsisOf(command)}\n(evergreen ${command.words.join(' ')} --help for more)\n`,
        error.message,
      );
    }
    throw error;
  }
}

/** The error on the first line (what a script greps), then the usage that shows the way. */
function usageError(usage: string, message: string): number {
  process.stderr.write(`${message}\n${usage}`);
  return 2;
}

// Commands import what they run when they run (dynamic imports): `--help` and a usage error answer in well under a
// second instead of loading every package first.
try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (error) {
  // Typed errors carry a message a person can act on (and never a secret); anything else is a bug worth a stack.
  if (error instanceof EvergreenError) {
    process.stderr.write(`${error.code}: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
