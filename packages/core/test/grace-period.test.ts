import { describe, expect, it } from 'vitest';
import { previousRefreshTokenInGrace, type RotationRow } from '../src/grace-period.ts';
import type { ProviderDefinition } from '../src/provider-definition.ts';

const NOW = Date.UTC(2030, 0, 1, 12, 0, 0);
type Provider = Pick<ProviderDefinition, 'grant' | 'rotation'>;

const okta: Provider = { grant: 'refresh_token', rotation: { rotates: 'always', graceSeconds: 30 } };
const rotated: RotationRow = { previousRefreshToken: 'rt-old', refreshTokenRotatedAt: new Date(NOW - 10_000) };

describe('previousRefreshTokenInGrace', () => {
  it('is true while the last rotation is younger than the provider`s grace period, the boundary included', () => {
    expect(previousRefreshTokenInGrace(okta, rotated, NOW)).toBe(true);
    expect(previousRefreshTokenInGrace(okta, { ...rotated, refreshTokenRotatedAt: new Date(NOW - 30_000) }, NOW)).toBe(
      true,
    );
  });

  it('is false once the grace period is over', () => {
    expect(previousRefreshTokenInGrace(okta, { ...rotated, refreshTokenRotatedAt: new Date(NOW - 30_001) }, NOW)).toBe(
      false,
    );
  });

  it.each([
    ['a provider without a grace period', { ...okta, rotation: { rotates: 'always', graceSeconds: 0 } }, rotated],
    ['a credential grant', { ...okta, grant: 'client_credentials' }, rotated],
    ['a row with no previous refresh token', okta, { ...rotated, previousRefreshToken: null }],
    ['a row that never rotated', okta, { ...rotated, refreshTokenRotatedAt: null }],
  ] as const)('is false for %s', (_name, provider, row) => {
    expect(previousRefreshTokenInGrace(provider as Provider, row, NOW)).toBe(false);
  });
});
