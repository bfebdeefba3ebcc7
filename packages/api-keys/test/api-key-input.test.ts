import { InvalidInputError } from '@evergreen/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseApiKeyInput, type ApiKeyInput } from '../src/api-key-input.ts';
import { API_KEY_SCOPES, isApiKeyScope } from '../src/scopes.ts';

const issuesOf = (input: ApiKeyInput) => {
  try {
    parseApiKeyInput(input);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).issues;
  }
  throw new Error('expected an InvalidInputError');
};

describe('parsing a new API key’s name, --scopes and --providers', () => {
  it.each<[ApiKeyInput, ReturnType<typeof parseApiKeyInput>]>([
    [
      { name: 'billing', scopes: 'tokens:read' },
      { name: 'billing', scopes: ['tokens:read'], providers: null },
    ],
    [
      { name: ' billing ', scopes: 'tokens:read, connections:read,tokens:read', providers: 'acme,beta, acme' },
      { name: 'billing', scopes: ['tokens:read', 'connections:read'], providers: ['acme', 'beta'] },
    ],
    [
      { name: 'all', scopes: [...API_KEY_SCOPES], providers: null },
      { name: 'all', scopes: [...API_KEY_SCOPES], providers: null },
    ],
    [
      { name: 'list', scopes: ['connections:write'], providers: ['acme'] },
      { name: 'list', scopes: ['connections:write'], providers: ['acme'] },
    ],
  ])('accepts %j', (input, expected) => {
    expect(parseApiKeyInput(input)).toEqual(expected);
  });

  it.each<[string, ApiKeyInput, string, RegExp]>([
    ['no name', { name: undefined, scopes: 'tokens:read' }, 'name', /required/],
    ['a blank name', { name: '  ', scopes: 'tokens:read' }, 'name', /required/],
    ['a long name', { name: 'x'.repeat(101), scopes: 'tokens:read' }, 'name', /at most 100/],
    ['a name with a newline', { name: 'a\nb', scopes: 'tokens:read' }, 'name', /control/],
    ['no scopes', { name: 'n', scopes: undefined }, 'scopes', /required.*connections:write/],
    ['empty scopes', { name: 'n', scopes: ' , ' }, 'scopes', /at least one/],
    ['an unknown scope', { name: 'n', scopes: 'tokens:read,tokens:write' }, 'scopes', /"tokens:write"/],
    ['a scope in another case', { name: 'n', scopes: 'Tokens:Read' }, 'scopes', /unknown scope "Tokens:Read"/],
    ['scopes that are not text', { name: 'n', scopes: 42 }, 'scopes', /required/],
    ['empty providers', { name: 'n', scopes: 'tokens:read', providers: '' }, 'providers', /at least one/],
    ['a bad provider id', { name: 'n', scopes: 'tokens:read', providers: 'acme,Beta!' }, 'providers', /"Beta!"/],
    ['providers that are not text', { name: 'n', scopes: 'tokens:read', providers: [1] }, 'providers', /list/],
  ])('refuses %s, naming the field', (_what, input, field, reason) => {
    const issues = issuesOf(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.field).toBe(field);
    expect(issues[0]!.reason).toMatch(reason);
  });

  it('lists the valid scopes when it refuses one', () => {
    const [issue] = issuesOf({ name: 'n', scopes: 'admin' });
    for (const scope of API_KEY_SCOPES) expect(issue!.reason).toContain(scope);
  });

  it('names every bad field at once', () => {
    const issues = issuesOf({ name: '', scopes: 'nope', providers: '!' });
    expect(issues.map((i) => i.field)).toEqual(['name', 'scopes', 'providers']);
  });

  it('for any input, returns known scopes and valid provider ids, or throws InvalidInputError and nothing else', () => {
    const list = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.array(fc.oneof(fc.constantFrom(...API_KEY_SCOPES), fc.string({ maxLength: 20 })), { maxLength: 5 }),
      fc.array(fc.constantFrom(...API_KEY_SCOPES, 'acme', 'beta')).map((a) => a.join(',')),
      fc.anything(),
    );
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 120 }), fc.anything()),
        list,
        fc.option(list),
        (name, scopes, providers) => {
          let spec;
          try {
            spec = parseApiKeyInput({ name, scopes, providers });
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidInputError);
            for (const issue of (error as InvalidInputError).issues) {
              expect(['name', 'scopes', 'providers']).toContain(issue.field);
            }
            return;
          }
          expect(spec.name.length).toBeGreaterThan(0);
          expect(spec.name.length).toBeLessThanOrEqual(100);
          expect(spec.scopes.length).toBeGreaterThan(0);
          expect(spec.scopes.every(isApiKeyScope)).toBe(true);
          expect(new Set(spec.scopes).size).toBe(spec.scopes.length);
          if (spec.providers !== null) {
            expect(spec.providers.length).toBeGreaterThan(0);
            for (const p of spec.providers) expect(p).toMatch(/^[a-z0-9][a-z0-9_-]{0,63}$/);
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });
});
