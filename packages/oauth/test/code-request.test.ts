import { describe, expect, it } from 'vitest';
import { parseProviderEntry, type ProviderDefinition } from '@evergreen/core';
import { buildCodeRequest } from '../src/code-request.ts';
import { CLIENT_ASSERTION_TYPE } from '../src/token-request.ts';

function provider(entry: Record<string, unknown>): ProviderDefinition {
  const parsed = parseProviderEntry({
    id: 'acme',
    tokenUrl: 'https://id.example.com/token',
    clientId: 'c:1',
    ...entry,
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.provider;
}
const context = { code: 'the-code', redirectUri: 'https://e.example.com/v1/connect/callback', codeVerifier: 'V' };
const form = (body: string) => Object.fromEntries(new URLSearchParams(body));

describe('buildCodeRequest (RFC 6749 §4.1.3)', () => {
  it('client_secret_basic: the grant, code, redirect URI and verifier in the form, the client in Basic', () => {
    const built = buildCodeRequest(provider({ clientSecret: 's/2', clientAuth: 'client_secret_basic' }), context);
    expect(form(built.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: context.redirectUri,
      code_verifier: 'V',
    });
    // §2.3.1: form-encoded before base64 (":" and "/" escaped).
    expect(built.headers.authorization).toBe(`Basic ${Buffer.from('c%3A1:s%2F2').toString('base64')}`);
  });

  it('client_secret_post: the client in the form', () => {
    const built = buildCodeRequest(provider({ clientSecret: 's', clientAuth: 'client_secret_post' }), context);
    expect(form(built.body)).toMatchObject({ client_id: 'c:1', client_secret: 's' });
    expect(built.headers.authorization).toBeUndefined();
  });

  it('private_key_jwt: the assertion and its type, no secret', () => {
    const built = buildCodeRequest(provider({ clientAuth: 'none' }), { ...context, clientAssertion: 'A' });
    expect(form(built.body).client_assertion).toBeUndefined();
    const jwt = { ...provider({ clientAuth: 'none' }), clientAuth: 'private_key_jwt' as const };
    expect(form(buildCodeRequest(jwt, { ...context, clientAssertion: 'A' }).body)).toMatchObject({
      client_id: 'c:1',
      client_assertion_type: CLIENT_ASSERTION_TYPE,
      client_assertion: 'A',
    });
  });

  it('none: only the client id; a JSON provider gets a JSON body', () => {
    const built = buildCodeRequest(provider({ clientAuth: 'none', request: { format: 'json' } }), context);
    expect(built.headers['content-type']).toBe('application/json');
    expect(JSON.parse(built.body)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: context.redirectUri,
      code_verifier: 'V',
      client_id: 'c:1',
    });
  });
});
