import { readFileSync } from 'node:fs';
import type { InputIssue } from '@evergreen/core';
import { parse as parseYaml } from 'yaml';

/** A YAML or JSON file named by a variable, parsed; an unreadable or unparseable file is one issue naming it. */
export function readConfigDocument(path: string, variable: string): { document: unknown } | { issue: InputIssue } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { issue: { field: variable, reason: `cannot read ${path} (${code})` } };
  }
  try {
    return { document: path.endsWith('.json') ? JSON.parse(text) : parseYaml(text) };
  } catch (error) {
    // The parsers quote the offending text, which may be a secret: say only where the problem is.
    return { issue: { field: variable, reason: `${path} does not parse (${parseErrorWhere(error, text)})` } };
  }
}

function parseErrorWhere(error: unknown, text: string): string {
  let linePos = (error as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  if (!linePos) {
    // JSON.parse says where only by quoting; YAML is a superset of JSON, so its parser can locate the same mistake.
    try {
      parseYaml(text);
    } catch (yamlError) {
      linePos = (yamlError as { linePos?: { line: number; col: number }[] }).linePos?.[0];
    }
  }
  return linePos ? `syntax error at line ${linePos.line}, column ${linePos.col}` : 'syntax error';
}

const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

export function substituteEnv(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  where: string,
  issues: InputIssue[],
): unknown {
  if (typeof value === 'string') {
    return value.replace(PLACEHOLDER, (_match, name: string) => {
      const found = env[name];
      if (found === undefined) {
        issues.push({ field: where, reason: `\${${name}} is not set in the environment` });
        return '';
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((v) => substituteEnv(v, env, where, issues));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, `${where}.${k}`, issues)]),
    );
  }
  return value;
}
