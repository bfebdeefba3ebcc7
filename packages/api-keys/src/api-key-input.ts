import { InvalidInputError, PROVIDER_ID_PATTERN, type InputIssue } from '@evergreen/core';
import { API_KEY_SCOPES, isApiKeyScope, type ApiKeyScope } from './scopes.ts';

/** What creating a key takes, as a person types it (the CLI's `--name`, `--scopes S1,S2`, `--providers P1,P2`). */
export interface ApiKeyInput {
  name: unknown;
  /** A comma-separated list, or a list. */
  scopes: unknown;
  /** A comma-separated list, or a list; absent (undefined or null): every provider. */
  providers?: unknown;
}

/** A key's attributes, checked: a name, at least one known scope, and the providers it is confined to (null: all). */
export interface ApiKeySpec {
  name: string;
  scopes: ApiKeyScope[];
  providers: string[] | null;
}

const MAX_NAME = 100;
const MAX_PROVIDERS = 100;
// Control characters would garble `api-keys list` and the logs; the name is for people.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Checks a new key's attributes, naming every bad field at once (`name`, `scopes`, `providers`) in an
 * `InvalidInputError`; an unknown scope's reason lists the valid ones. Lists are trimmed, de-duplicated and kept in
 * the order given.
 */
export function parseApiKeyInput(input: ApiKeyInput): ApiKeySpec {
  const issues: InputIssue[] = [];

  let name = '';
  if (typeof input.name !== 'string' || input.name.trim() === '') {
    issues.push({ field: 'name', reason: 'is required: a name that says who or what uses the key' });
  } else if (input.name.trim().length > MAX_NAME) {
    issues.push({ field: 'name', reason: `must be at most ${MAX_NAME} characters` });
  } else if (CONTROL.test(input.name)) {
    issues.push({ field: 'name', reason: 'must not contain control characters' });
  } else {
    name = input.name.trim();
  }

  const valid = `valid scopes: ${API_KEY_SCOPES.join(', ')}`;
  const scopes: ApiKeyScope[] = [];
  const scopeList = toList(input.scopes);
  if (scopeList === null) {
    issues.push({ field: 'scopes', reason: `is required: a comma-separated list (${valid})` });
  } else if (scopeList.length === 0) {
    issues.push({ field: 'scopes', reason: `must name at least one scope (${valid})` });
  } else {
    const unknown = scopeList.filter((s) => !isApiKeyScope(s));
    if (unknown.length > 0) {
      const names = unknown.map((s) => JSON.stringify(s)).join(', ');
      issues.push({ field: 'scopes', reason: `unknown scope${unknown.length > 1 ? 's' : ''} ${names} (${valid})` });
    } else {
      for (const s of scopeList as ApiKeyScope[]) if (!scopes.includes(s)) scopes.push(s);
    }
  }

  let providers: string[] | null = null;
  if (input.providers !== undefined && input.providers !== null) {
    const list = toList(input.providers);
    if (list === null) {
      issues.push({ field: 'providers', reason: 'must be a comma-separated list of provider ids' });
    } else if (list.length === 0) {
      issues.push({ field: 'providers', reason: 'must name at least one provider (leave it out for every provider)' });
    } else if (list.length > MAX_PROVIDERS) {
      issues.push({ field: 'providers', reason: `must name at most ${MAX_PROVIDERS} providers` });
    } else {
      const bad = list.filter((p) => !PROVIDER_ID_PATTERN.test(p));
      if (bad.length > 0) {
        issues.push({
          field: 'providers',
          reason: `${bad.map((p) => JSON.stringify(p)).join(', ')}: a provider id is lower-case letters, digits, "_" or "-"`,
        });
      } else {
        providers = [...new Set(list)];
      }
    }
  }

  if (issues.length > 0) throw new InvalidInputError('api key', issues);
  return { name, scopes, providers };
}

/** `"a, b,,c"` or `['a', 'b']` → the non-empty trimmed items; null when it is neither a string nor a list of them. */
function toList(value: unknown): string[] | null {
  const items = typeof value === 'string' ? value.split(',') : value;
  if (!Array.isArray(items) || !items.every((i): i is string => typeof i === 'string')) return null;
  return items.map((i) => i.trim()).filter((i) => i !== '');
}
