import { parseArgs } from 'node:util';

/** One option as node:util's parseArgs takes it. */
export interface ParseArgsOptionDescriptor {
  type: 'string' | 'boolean';
  short?: string;
  multiple?: boolean;
}

export type OptionValues = Record<string, string | boolean | undefined>;

/** One `evergreen` command: the words that name it, what it takes, and what it does. */
export interface Command {
  /** `['connections', 'import']`. */
  words: readonly string[];
  /** The arguments after the words, as the usage shows them: `FILE|- [--dry-run] [--batch-size N]`. */
  synopsis: string;
  /** What it does, a few lines for `--help` and the full usage. */
  summary: string;
  options?: Readonly<Record<string, ParseArgsOptionDescriptor>>;
  /** Positional arguments after the words; a missing required one is a usage error, as is an extra one. */
  args?: readonly { name: string; required: boolean }[];
  run(input: { args: string[]; values: OptionValues }): Promise<number>;
}

/** Bad usage: exit 2 with the message and the command's usage, never a stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

const HELP: ParseArgsOptionDescriptor = { type: 'boolean', short: 'h' };

/** The command named by the leading words of argv, and the rest; null when no command matches. */
export function findCommand(
  commands: readonly Command[],
  argv: readonly string[],
): { command: Command; rest: string[] } | null {
  let best: Command | null = null;
  for (const command of commands) {
    const matches = command.words.every((w, i) => argv[i] === w);
    if (matches && (best === null || command.words.length > best.words.length)) best = command;
  }
  return best === null ? null : { command: best, rest: argv.slice(best.words.length) };
}

/**
 * The command's options and positionals, or a UsageError naming what is wrong (an unknown option, an option without
 * its value, a missing or extra argument). `help` is true for `--help`/`-h`, whatever else is wrong.
 */
export function parseCommandLine(
  command: Command,
  rest: string[],
): { help: true } | { help: false; args: string[]; values: OptionValues } {
  if (rest.includes('--help') || rest.includes('-h')) return { help: true };
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      strict: true,
      options: { ...command.options, help: HELP },
    });
  } catch (error) {
    // node:util's ERR_PARSE_ARGS_* messages name the option; its advice about '--' is noise here.
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, '').replace(/\s+/g, ' '));
  }
  const expected = command.args ?? [];
  const missing = expected.slice(parsed.positionals.length).find((a) => a.required);
  if (missing) throw new UsageError(`${command.words.join(' ')}: ${missing.name} is required`);
  if (parsed.positionals.length > expected.length) {
    throw new UsageError(`${command.words.join(' ')}: unexpected argument '${parsed.positionals[expected.length]}'`);
  }
  return { help: false, args: parsed.positionals, values: parsed.values as OptionValues };
}

export function synopsisOf(command: Command): string {
  return `evergreen ${command.words.join(' ')}${command.synopsis ? ` ${command.synopsis}` : ''}`;
}

/** `--help` for one command. */
export function commandHelp(command: Command): string {
  return `usage: ${synopsisOf(command)}\n\n${indent(command.summary)}\n`;
}

/** The full usage: every command (or those under `group`), each with its summary. */
export function usageOf(commands: readonly Command[], group?: string): string {
  const listed = group === undefined ? commands : commands.filter((c) => c.words[0] === group);
  const lines = ['usage: evergreen <command> [options]     (evergreen <command> --help for one command)', ''];
  for (const c of listed) {
    lines.push(`  ${synopsisOf(c).slice('evergreen '.length)}`);
    lines.push(indent(c.summary, 6));
  }
  lines.push('', "Configured by the environment (and .env): see the README's configuration table.");
  return `${lines.join('\n')}\n`;
}

function indent(text: string, by = 2): string {
  return text
    .split('\n')
    .map((l) => (l ? ' '.repeat(by) + l : l))
    .join('\n');
}

/** A whole number option: its value, the default when absent, or a UsageError naming the option. */
export function integerOption(values: OptionValues, name: string, fallback: number, min = 1): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name}: must be a whole number of at least ${min}`);
  }
  return n;
}

export function stringOption(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
