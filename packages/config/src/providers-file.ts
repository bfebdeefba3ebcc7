import { readFileSync } from 'node:fs';
import { resolveProviderEntries, type InputIssue, type ProviderDefinition } from '@evergreen/core';
import { BUILTIN_PROVIDERS } from '@evergreen/providers';
import { parse as parseYaml } from 'yaml';

/**
 * Reads the providers file named by EVERGREEN_PROVIDERS: a list of entries (or `{ providers: [...] }`), YAML or JSON,
 * with `${VAR}` replaced from the environment so secrets stay out of the file. Issues name the entry and the field.
 */
export function readProvidersFile(
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): { providers: ProviderDefinition[]; issues: InputIssue[] } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    return { providers: [], issues: [{ field: 'EVERGREEN_PROVIDERS', reason: `cannot read ${path} (${code})` }] };
  }
  let document: unknown;
  try {
    document = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    // The parsers quote the offending text, which may be a secret: say only where the problem is.
    return {
      providers: [],
      issues: [{ field: 'EVERGREEN_PROVIDERS', reason: `${path} does not parse (${parseErrorWhere(error, text)})` }],
    };
  }
  return parseProviders(document, env, path);
}

export function parseProviders(
  document: unknown,
  env: Readonly<Record<string, string | undefined>>,
  source = 'providers',
): { providers: ProviderDefinition[]; issues: InputIssue[] } {
  const list = Array.isArray(document)
    ? document
    : typeof document === 'object' && document !== null && Array.isArray((document as { providers?: unknown }).providers)
      ? (document as { providers: unknown[] }).providers
      : null;
  if (list === null) {
    return {
      providers: [],
      issues: [{ field: source, reason: 'must be a list of provider entries (or { providers: [...] })' }],
    };
  }
  const issues: InputIssue[] = [];
  const substituted = list.map((raw, index) => {
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : null;
    return substitute(raw, env, `${source}[${index}]${id ? ` (${id})` : ''}`, issues);
  });
  const resolved = resolveProviderEntries(BUILTIN_PROVIDERS, substituted, source);
  return { providers: resolved.providers, issues: [...issues, ...resolved.issues] };
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

function substitute(
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
  if (Array.isArray(value)) return value.map((v) => substitute(v, env, where, issues));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, env, `${where}.${k}`, issues)]));
  }
  return value;
}
