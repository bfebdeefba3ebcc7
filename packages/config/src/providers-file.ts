import { resolveProviderEntries, type InputIssue, type ProviderDefinition } from '@evergreen/core';
import { BUILTIN_PROVIDERS } from '@evergreen/providers';
import { readConfigDocument, substituteEnv } from './config-document.ts';

/**
 * Reads the providers file named by EVERGREEN_PROVIDERS: a list of entries (or `{ providers: [...] }`), YAML or JSON,
 * with `${VAR}` replaced from the environment so secrets stay out of the file. Issues name the entry and the field.
 */
export function readProvidersFile(
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): { providers: ProviderDefinition[]; issues: InputIssue[] } {
  const read = readConfigDocument(path, 'EVERGREEN_PROVIDERS');
  if ('issue' in read) return { providers: [], issues: [read.issue] };
  return parseProviders(read.document, env, path);
}

export function parseProviders(
  document: unknown,
  env: Readonly<Record<string, string | undefined>>,
  source = 'providers',
): { providers: ProviderDefinition[]; issues: InputIssue[] } {
  const list = Array.isArray(document)
    ? document
    : typeof document === 'object' &&
        document !== null &&
        Array.isArray((document as { providers?: unknown }).providers)
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
    const id =
      typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'string'
        ? (raw as { id: string }).id
        : null;
    return substituteEnv(raw, env, `${source}[${index}]${id ? ` (${id})` : ''}`, issues);
  });
  const resolved = resolveProviderEntries(BUILTIN_PROVIDERS, substituted, source);
  return { providers: resolved.providers, issues: [...issues, ...resolved.issues] };
}
