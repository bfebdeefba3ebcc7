import { describe, expect, it } from 'vitest';
import { can, seesProvider, type ApiKeyPrincipal } from '../src/principal.ts';
import { API_KEY_SCOPES, type ApiKeyScope } from '../src/scopes.ts';

const principal = (scopes: ApiKeyScope[], providers: string[] | null = null): ApiKeyPrincipal => ({
  id: '0123456789abcdef',
  name: 'test',
  scopes,
  providers,
});

describe('authorisation of an API key', () => {
  it.each<[ApiKeyScope[], ApiKeyScope, boolean]>([
    [['tokens:read'], 'tokens:read', true],
    [['tokens:read'], 'connections:read', false],
    [['tokens:read'], 'connections:write', false],
    [['connections:read'], 'tokens:read', false],
    [['connections:write'], 'connections:read', false], // write does not imply read
    [['connections:write'], 'tokens:read', false], // nor tokens
    [['connections:read', 'tokens:read'], 'tokens:read', true],
    [[...API_KEY_SCOPES], 'connections:write', true],
    [[], 'connections:read', false],
  ])('a key with %j may %s: %s', (scopes, scope, allowed) => {
    expect(can(principal(scopes), scope)).toBe(allowed);
  });

  it.each<[string[] | null, string, boolean]>([
    [null, 'acme', true],
    [null, 'anything', true],
    [['acme'], 'acme', true],
    [['acme'], 'beta', false],
    [['acme', 'beta'], 'beta', true],
    [['acme'], 'acme-eu', false], // exact ids, never prefixes
    [[], 'acme', false],
  ])('a key confined to %j sees %s: %s', (providers, provider, sees) => {
    expect(seesProvider(principal(['tokens:read'], providers), provider)).toBe(sees);
  });
});
