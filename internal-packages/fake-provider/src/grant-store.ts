import { randomToken } from './random-token.ts';
import type { RotationPolicy } from './options.ts';

export interface IssueResult {
  grantId: string;
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
}

export interface GrantSnapshot {
  revoked: boolean;
  revokedBecause: 'reuse' | 'manual' | null;
  refreshCount: number;
  currentRefreshToken: string;
  currentAccessToken: string;
}

export interface GrantStoreOptions {
  /** `alternate`: the 2nd, 4th, … refresh of a grant rotates; the others keep the presented token valid. */
  rotation: RotationPolicy;
  revokeOnReuse: boolean;
  /**
   * Seconds during which the refresh token just replaced still works once more (Okta's grace period, Auth0's reuse
   * interval, Xero's 30 minutes): it answers with a new access token and the grant's current refresh token. 0: none.
   */
  reuseGraceSeconds: number;
}

/** What presenting a refresh token did to the store; the HTTP layer turns it into a status and a body. */
export type RefreshResult =
  | {
      kind: 'ok';
      grantId: string;
      accessToken: string;
      refreshToken: string | null;
      expiresIn: number;
      scope: string | null;
    }
  | { kind: 'reused'; grantId: string }
  | { kind: 'revoked'; grantId: string }
  | { kind: 'unknown_token' };

interface Grant {
  id: string;
  scope: string | null;
  revokedBecause: 'reuse' | 'manual' | null;
  refreshCount: number;
  currentRefreshToken: string;
  currentAccessToken: string;
  accessTokenExpiresAt: number;
}

interface RefreshTokenEntry {
  grantId: string;
  used: boolean;
  usedAt: number;
  /** The token that replaced this one, when it was rotated away. */
  successor: string | null;
}

/**
 * The authorization server's memory of grants. Everything here is synchronous on purpose: Node runs one request
 * handler at a time between awaits, so two concurrent refreshes with the same token are decided in arrival order,
 * exactly once, which is what makes reuse detection deterministic under chaos runs.
 */
export class GrantStore {
  readonly #options: GrantStoreOptions;
  readonly #now: () => number;
  readonly #grants = new Map<string, Grant>();
  readonly #refreshTokens = new Map<string, RefreshTokenEntry>();
  // Benchmarks check access tokens against thousands of grants; a scan per check would dominate the run.
  readonly #accessTokens = new Map<string, string>();
  // Access tokens that belong to no grant (client credentials, a password grant without refresh, a login JWT).
  readonly #looseAccessTokens = new Map<string, number>();
  readonly #minted: string[] = [];
  #reuseCount = 0;
  #graceReuseCount = 0;

  constructor(options: GrantStoreOptions, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
  }

  issue(expiresIn: number, scope: string | null): IssueResult {
    const id = randomToken('grant_', 9);
    const accessToken = this.#mint('at_');
    const refreshToken = this.#mint('rt_');
    this.#grants.set(id, {
      id,
      scope,
      revokedBecause: null,
      refreshCount: 0,
      currentRefreshToken: refreshToken,
      currentAccessToken: accessToken,
      accessTokenExpiresAt: this.#now() + expiresIn * 1000,
    });
    this.#refreshTokens.set(refreshToken, { grantId: id, used: false, usedAt: 0, successor: null });
    this.#accessTokens.set(accessToken, id);
    return { grantId: id, accessToken, refreshToken, expiresIn };
  }

  refresh(presented: string, expiresIn: number): RefreshResult {
    const entry = this.#refreshTokens.get(presented);
    if (entry === undefined) return { kind: 'unknown_token' };
    const grant = this.#grants.get(entry.grantId);
    if (grant === undefined) return { kind: 'unknown_token' };

    // Reuse is judged before revocation so that every stale presentation is counted, even against a grant that an
    // earlier reuse already killed: reuseCount() is the number tests assert to be zero.
    if (entry.used && this.#withinGrace(entry, grant)) {
      this.#graceReuseCount += 1;
      grant.currentAccessToken = this.#mint('at_');
      this.#accessTokens.set(grant.currentAccessToken, grant.id);
      grant.accessTokenExpiresAt = this.#now() + expiresIn * 1000;
      return {
        kind: 'ok',
        grantId: grant.id,
        accessToken: grant.currentAccessToken,
        refreshToken: grant.currentRefreshToken,
        expiresIn,
        scope: grant.scope,
      };
    }
    if (entry.used) {
      this.#reuseCount += 1;
      if (this.#options.revokeOnReuse && grant.revokedBecause === null) grant.revokedBecause = 'reuse';
      return { kind: 'reused', grantId: grant.id };
    }
    if (grant.revokedBecause !== null) return { kind: 'revoked', grantId: grant.id };

    grant.refreshCount += 1;
    grant.currentAccessToken = this.#mint('at_');
    this.#accessTokens.set(grant.currentAccessToken, grant.id);
    grant.accessTokenExpiresAt = this.#now() + expiresIn * 1000;
    let refreshToken: string | null = null;
    const rotate =
      this.#options.rotation === 'always' || (this.#options.rotation === 'alternate' && grant.refreshCount % 2 === 0);
    if (rotate) {
      refreshToken = this.#mint('rt_');
      entry.used = true;
      entry.usedAt = this.#now();
      entry.successor = refreshToken;
      grant.currentRefreshToken = refreshToken;
      this.#refreshTokens.set(refreshToken, { grantId: grant.id, used: false, usedAt: 0, successor: null });
    }
    return {
      kind: 'ok',
      grantId: grant.id,
      accessToken: grant.currentAccessToken,
      refreshToken,
      expiresIn,
      scope: grant.scope,
    };
  }

  /** An access token outside any grant: valid until it expires, never refreshed, never revoked. */
  issueAccessToken(expiresIn: number): string {
    const token = this.#mint('at_');
    this.#looseAccessTokens.set(token, this.#now() + expiresIn * 1000);
    return token;
  }

  /** Remembers a token minted elsewhere (the login JWT) so `isAccessTokenValid` and `allIssuedTokens` know it. */
  recordAccessToken(token: string, expiresAtMs: number): void {
    this.#minted.push(token);
    this.#looseAccessTokens.set(token, expiresAtMs);
  }

  forgetRefreshToken(token: string): void {
    const entry = this.#refreshTokens.get(token);
    if (entry === undefined) throw new Error('fake-provider: no such refresh token');
    this.#refreshTokens.delete(token);
    const grant = this.#grants.get(entry.grantId);
    if (grant?.currentRefreshToken !== token) return;
    // The rotation that issued it never happened: the token it replaced is current (and unused) again.
    for (const [previous, candidate] of this.#refreshTokens) {
      if (candidate.successor === token) {
        candidate.used = false;
        candidate.successor = null;
        grant.currentRefreshToken = previous;
        return;
      }
    }
  }

  revoke(grantId: string): void {
    const grant = this.#grants.get(grantId);
    // A typo'd id in a test would otherwise pass silently and test nothing.
    if (grant === undefined) throw new Error(`fake-provider: no grant with id ${grantId}`);
    if (grant.revokedBecause === null) grant.revokedBecause = 'manual';
  }

  grant(grantId: string): GrantSnapshot | undefined {
    const grant = this.#grants.get(grantId);
    if (grant === undefined) return undefined;
    return {
      revoked: grant.revokedBecause !== null,
      revokedBecause: grant.revokedBecause,
      refreshCount: grant.refreshCount,
      currentRefreshToken: grant.currentRefreshToken,
      currentAccessToken: grant.currentAccessToken,
    };
  }

  /** The grant a refresh token or an access token belongs to. */
  grantIdForToken(token: string): string | undefined {
    return this.#refreshTokens.get(token)?.grantId ?? this.#accessTokens.get(token);
  }

  grantIdForRefreshToken(token: string): string | undefined {
    return this.#refreshTokens.get(token)?.grantId;
  }

  isAccessTokenValid(token: string): boolean {
    const looseExpiry = this.#looseAccessTokens.get(token);
    if (looseExpiry !== undefined) return this.#now() < looseExpiry;
    const grantId = this.#accessTokens.get(token);
    const grant = grantId === undefined ? undefined : this.#grants.get(grantId);
    if (grant === undefined || grant.currentAccessToken !== token) return false;
    return grant.revokedBecause === null && this.#now() < grant.accessTokenExpiresAt;
  }

  allIssuedTokens(): string[] {
    return [...this.#minted];
  }

  reuseCount(): number {
    return this.#reuseCount;
  }

  /** Presentations of a just-replaced token that the grace period forgave. */
  graceReuseCount(): number {
    return this.#graceReuseCount;
  }

  /** Only the token replaced last, only while its successor is unused, only inside the grace period. */
  #withinGrace(entry: RefreshTokenEntry, grant: Grant): boolean {
    return (
      this.#options.reuseGraceSeconds > 0 &&
      grant.revokedBecause === null &&
      entry.successor === grant.currentRefreshToken &&
      this.#now() - entry.usedAt <= this.#options.reuseGraceSeconds * 1000
    );
  }

  #mint(prefix: 'at_' | 'rt_'): string {
    const token = randomToken(prefix);
    this.#minted.push(token);
    return token;
  }
}
