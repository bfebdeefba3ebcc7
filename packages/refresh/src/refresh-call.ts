import {
  classify,
  classifyCheck,
  previousRefreshTokenInGrace,
  STATIC_GRANTS,
  type CredentialCheck,
  resolveTokenUrl,
  type ClassifyPolicy,
  type ProviderDefinition,
  type RefreshOutcome,
} from '@evergreen/core';
import type { Logger } from '@evergreen/log';
import type { Exchange, TokenClient } from '@evergreen/oauth';
import type { ConnectionLock, HeldLock, SendSlots } from '@evergreen/queue';
import type { StoredConnection } from '@evergreen/store';
import { setTimeout as sleep } from 'node:timers/promises';
import { missingCredentials } from './missing-credentials.ts';

export interface RefreshCallDeps {
  tokens: Pick<TokenClient, 'request' | 'check'>;
  lock: Pick<ConnectionLock, 'extend'>;
  /** Absent: no provider's declared rate limit is applied. */
  sendSlots?: Pick<SendSlots, 'take'> | undefined;
  log: Logger;
  classify: ClassifyPolicy;
  /** A grace-period replay first extends the lock to this. */
  lockTtlMs: number;
  now: () => number;
}

/** What the call produced: the exchange (or a stand-in for a request never sent), its outcome, the token presented. */
export interface CallResult {
  exchange: Exchange;
  outcome: RefreshOutcome;
  /** The refresh token the request presented (the previous one after a replay): the one the answer replaces. */
  presented: string | undefined;
}

/** How long a grace-period replay may wait for a send slot under the provider's rate limit. */
const REPLAY_SLOT_WAIT_MS = 1_000;

/**
 * The token request of one refresh, classified. Nothing is sent when the connection's own data cannot make a request
 * this provider accepts. A provider with a grace period still honours the refresh token the last rotation replaced:
 * if the current one is refused (a rotation the provider did not keep), the previous one is tried, once, with the
 * lock extended first so it still outlives the second request.
 */
export class RefreshCall {
  readonly #d: RefreshCallDeps;

  constructor(deps: RefreshCallDeps) {
    this.#d = deps;
  }

  /** `now`: when the refresh started, for the stand-in exchange and the grace period. */
  async send(
    provider: ProviderDefinition,
    connection: StoredConnection,
    lock: HeldLock,
    now: number,
  ): Promise<CallResult> {
    if (provider.check !== null && STATIC_GRANTS.has(provider.grant)) {
      return this.#check({ ...provider, check: provider.check }, connection, now);
    }
    const target = resolveTokenUrl(provider, connection.metadata);
    const missing = missingCredentials(provider, connection);
    if (!target.ok || missing) {
      return {
        exchange: { reply: { kind: 'network', timeout: false, code: null }, startedAt: now, durationMs: 0 },
        outcome: { kind: 'fatal', reason: target.ok ? 'missing_credentials' : 'invalid_token_url', status: null },
        presented: connection.refreshToken ?? undefined,
      };
    }
    let presented = connection.refreshToken ?? undefined;
    let exchange = await this.#exchange(provider, target.url, connection, presented);
    let outcome = classify(exchange.reply, this.#d.now(), this.#d.classify, provider);
    const previous = connection.previousRefreshToken;
    if (
      outcome.kind === 'reauth' &&
      previous !== null &&
      previousRefreshTokenInGrace(provider, connection, now) &&
      (await this.#d.lock.extend(lock, this.#d.lockTtlMs).catch(() => false))
    ) {
      if (!(await this.#slotWithin(provider, REPLAY_SLOT_WAIT_MS))) {
        // The replay would break the declared rate: try again shortly, while the grace period still runs.
        const refused = outcome.status ?? 0;
        return {
          exchange,
          outcome: { kind: 'rate_limited', reason: 'rate_limited', retryAfterMs: REPLAY_SLOT_WAIT_MS, status: refused },
          presented,
        };
      }
      presented = previous;
      exchange = await this.#exchange(provider, target.url, connection, presented);
      outcome = classify(exchange.reply, this.#d.now(), this.#d.classify, provider);
      this.#d.log.warn(
        { connection: connection.id, provider: provider.id, outcome: outcome.kind },
        'retried with the previous refresh token',
      );
    }
    return { exchange, outcome, presented };
  }

  #exchange(
    provider: ProviderDefinition,
    url: string,
    connection: StoredConnection,
    refreshToken: string | undefined,
  ): Promise<Exchange> {
    const audience = assertionAudience(provider, connection);
    return this.#d.tokens.request(provider, url, {
      ...(refreshToken !== undefined && { refreshToken }),
      ...(connection.credentials && { credentials: connection.credentials }),
      ...(audience !== null && { assertionAudience: audience }),
      scopes: connection.scopes,
    });
  }

  /**
   * A static credential's check: the stored credential presented at the check URL. A 2xx keeps it (the "new" token is
   * the same one), a status the entry names revoked needs a person, anything else is retried like a 5xx.
   */
  async #check(
    provider: ProviderDefinition & { check: CredentialCheck },
    connection: StoredConnection,
    now: number,
  ): Promise<CallResult> {
    const target = resolveTokenUrl({ ...provider, tokenUrl: provider.check.url }, connection.metadata);
    if (!target.ok || connection.accessToken === null) {
      return {
        exchange: { reply: { kind: 'network', timeout: false, code: null }, startedAt: now, durationMs: 0 },
        outcome: { kind: 'fatal', reason: target.ok ? 'missing_credentials' : 'invalid_token_url', status: null },
        presented: undefined,
      };
    }
    const exchange = await this.#d.tokens.check(provider, target.url, connection.accessToken);
    const outcome = classifyCheck(
      exchange.reply,
      this.#d.now(),
      this.#d.classify,
      provider.check,
      connection.accessToken,
    );
    return { exchange, outcome, presented: undefined };
  }

  /** Takes a send slot for this provider, waiting up to `budgetMs` for one; true when taken (or no limit). */
  async #slotWithin(provider: ProviderDefinition, budgetMs: number): Promise<boolean> {
    if (!provider.rateLimit || !this.#d.sendSlots) return true;
    const giveUpAt = this.#d.now() + budgetMs;
    for (;;) {
      const wait = await this.#d.sendSlots.take(provider.id, provider.rateLimit);
      if (wait === 0) return true;
      if (this.#d.now() + wait > giveUpAt) return false;
      await sleep(wait);
    }
  }
}

/**
 * A jwt_bearer assertion's `aud` from the provider's template (Salesforce's login URL, from metadata); null: the
 * token URL, or the connection's own `credentials.audience`, decides.
 */
function assertionAudience(provider: ProviderDefinition, connection: StoredConnection): string | null {
  if (provider.grant !== 'jwt_bearer' || provider.assertionAudience === null) return null;
  const template = provider.assertionAudience;
  const filled = resolveTokenUrl({ ...provider, tokenUrl: template }, connection.metadata);
  if (!filled.ok) return null;
  // URL parsing adds a "/" to a bare origin; an `aud` is compared as a string ("https://login.salesforce.com").
  return template.endsWith('/') ? filled.url : filled.url.replace(/\/$/, '');
}
