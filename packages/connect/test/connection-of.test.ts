import { describe, expect, it } from 'vitest';
import type { ConnectSession } from '@evergreen/store';
import { connectionOf } from '../src/connection-of.ts';

const session: ConnectSession = {
  id: 's1',
  stateHash: 'h',
  ownerId: 'owner-1',
  provider: 'acme',
  connectionId: 'conn-1',
  scopes: ['openid', 'files.read'],
  metadata: { team: 'blue' },
  returnTo: 'https://app.example.com/done',
  redirectUri: 'https://e.example.com/v1/connect/callback',
  secrets: { codeVerifier: 'v', nonce: 'n' },
  expiresAt: new Date(0),
};

describe('connectionOf', () => {
  it('stores what the provider granted: its scopes, its metadata, the id_token subject and issuer', () => {
    expect(
      connectionOf(
        session,
        {
          accessToken: 'a',
          refreshToken: 'r',
          expiresInSeconds: 60,
          scope: 'openid files.read,files.write',
          metadata: { instance_url: 'https://x' },
        },
        { sub: 'user-9', iss: 'https://id.example.com', email: 'not kept' },
      ),
    ).toEqual({
      connectionId: 'conn-1',
      ownerId: 'owner-1',
      provider: 'acme',
      accessToken: 'a',
      refreshToken: 'r',
      expiresIn: 60,
      scopes: ['openid', 'files.read', 'files.write'],
      metadata: {
        team: 'blue',
        instance_url: 'https://x',
        idTokenSubject: 'user-9',
        idTokenIssuer: 'https://id.example.com',
      },
    });
  });

  it('keeps the scopes asked for when the answer names none, and an absolute expiry when there is no expires_in', () => {
    const stored = connectionOf(
      { ...session, connectionId: null },
      { accessToken: 'a', expiresAt: 1_900_000_000_000 },
      null,
    );
    expect(stored).toEqual({
      ownerId: 'owner-1',
      provider: 'acme',
      accessToken: 'a',
      expiresAt: new Date(1_900_000_000_000),
      scopes: ['openid', 'files.read'],
      metadata: { team: 'blue' },
    });
  });
});
