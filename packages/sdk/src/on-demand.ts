import { ConnectionNotFoundError, isLive, type ProviderDefinition } from '@evergreen/core';
import type { RefreshQueues } from '@evergreen/queue';
import type { RefreshEngine } from '@evergreen/refresh';
import type { AccessRow, ConnectionStore, StoredConnection } from '@evergreen/store';
import { DisconnectedError, NeedsReauthError, RefreshFailedError, TokenTimeoutError } from './errors.ts';

export interface OnDemandDeps {
  store: ConnectionStore;
  engine: RefreshEngine;
  queues: RefreshQueues;
  providers: ReadonlyMap<string, ProviderDefinition>;
}

export interface TokenOptions {
  /** The token must stay valid at least this long; the provider's refresh buffer by default. */
  minValiditySeconds?: number;
  /** The longest this call may wait, its own refresh or one in flight elsewhere included (default 30 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const WAIT_POLL_MS = 100;

/**
 * Valid tokens on demand. Inside a process, concurrent callers for one connection share one refresh (single-flight);
 * across processes they meet at the connection's lock: a caller that finds it taken waits for the refresh in flight
 * there, then finds the row fresh, instead of starting its own.
 */
export class OnDemandTokens {
  readonly #d: OnDemandDeps;
  readonly #inFlight = new Map<string, Promise<StoredConnection>>();

  constructor(deps: OnDemandDeps) {
    this.#d = deps;
  }

  async validToken(connectionId: string, options: TokenOptions = {}): Promise<string> {
    return (await this.validRow(connectionId, options)).accessToken as string;
  }

  /** The row holding a valid access token (never null in the result), refreshed first when it would not last. */
  async validRow(connectionId: string, options: TokenOptions = {}): Promise<AccessRow> {
    const row = await this.#loadAccess(connectionId);
    const minValidityMs = this.#minValidityMs(row, options);
    if (isValid(row, minValidityMs)) return row;
    return this.#singleFlight(connectionId, minValidityMs, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** A refresh now, whatever the token's age; if one is already in flight elsewhere, that one counts. */
  async forceRefresh(connectionId: string, options: Pick<TokenOptions, 'timeoutMs'> = {}): Promise<StoredConnection> {
    await this.#load(connectionId);
    return this.#singleFlight(connectionId, Infinity, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** After a 401 with `staleToken`: refresh unless the stored token has already moved on. */
  async replaceToken(connectionId: string, staleToken: string, options: TokenOptions = {}): Promise<string> {
    const row = await this.#loadAccess(connectionId);
    if (row.accessToken !== null && row.accessToken !== staleToken && isValid(row, this.#minValidityMs(row, options))) {
      return row.accessToken;
    }
    return (await this.forceRefresh(connectionId, options)).accessToken as string;
  }

  #singleFlight(connectionId: string, minValidityMs: number, timeoutMs: number): Promise<StoredConnection> {
    const key = `${connectionId}|${minValidityMs}`;
    let flight = this.#inFlight.get(key);
    if (!flight) {
      flight = this.#refresh(connectionId, minValidityMs, timeoutMs).finally(() => this.#inFlight.delete(key));
      this.#inFlight.set(key, flight);
    }
    return flight;
  }

  async #refresh(connectionId: string, minValidityMs: number, timeoutMs: number): Promise<StoredConnection> {
    const deadline = Date.now() + timeoutMs;
    const forced = minValidityMs === Infinity;
    let seenVersion: number | null = null;
    while (Date.now() < deadline) {
      const decision = await this.#d.engine.run(connectionId, {
        trigger: forced ? 'forced' : 'on_demand',
        force: true,
        ...(!forced && { onlyIfExpiringWithinMs: minValidityMs }),
      });
      switch (decision.kind) {
        case 'delay': {
          const row = await this.#load(connectionId);
          switch (decision.why) {
            case 'scheduled':
              await this.#reschedule(row);
              return row;
            case 'retry':
              await this.#reschedule(row);
              throw new RefreshFailedError(connectionId, row.lastRefreshReason ?? 'transient', true);
            case 'unknown_provider':
              throw new RefreshFailedError(connectionId, 'provider_not_configured', false);
            case 'locked': {
              // Someone else is refreshing: wait for their write (the version moves) or their lock to go.
              seenVersion ??= row.version;
              const moved = await this.#waitForChange(connectionId, seenVersion, deadline);
              if (moved && (forced || isValid(moved, minValidityMs))) return moved;
              continue;
            }
            case 'not_due':
            case 'fenced':
              continue; // look again
            default:
              // A new reason must be handled here: the compiler points at this line until it is.
              return decision satisfies never;
          }
        }
        case 'provider_outage': {
          // The provider's token endpoint is down (its breaker is open): nothing was sent. A stored token that is
          // still valid serves better than an error, even with less time left than asked for.
          const row = await this.#load(connectionId);
          if (!forced && row.accessToken !== null && row.expiresAt !== null && row.expiresAt.getTime() > Date.now()) {
            return row;
          }
          throw new RefreshFailedError(connectionId, 'provider_outage', true, decision.retryAfterMs);
        }
        case 'rate_limited': {
          const row = await this.#load(connectionId);
          await this.#d.queues.rateLimit(row.provider, decision.retryAfterMs).catch(() => {});
          throw new RefreshFailedError(connectionId, 'rate_limited', true, decision.retryAfterMs);
        }
        case 'stop':
          throw decision.status === 'needs_reauth'
            ? new NeedsReauthError(connectionId)
            : new RefreshFailedError(connectionId, decision.reason, false);
        case 'done': {
          const row = await this.#load(connectionId);
          if (
            row.accessToken !== null &&
            (decision.why === 'fresh' || isValid(row, minValidityMs === Infinity ? 0 : minValidityMs))
          ) {
            return row;
          }
          throw new RefreshFailedError(connectionId, decision.why, false);
        }
      }
    }
    throw new TokenTimeoutError(connectionId, timeoutMs);
  }

  async #waitForChange(connectionId: string, version: number, deadline: number): Promise<StoredConnection | null> {
    while (Date.now() < deadline) {
      const row = await this.#load(connectionId);
      if (row.version !== version) return row;
      const held = await this.#d.engine.lockRemainingMs(connectionId);
      if (held === 0) return null; // the other holder is done (or died): try ourselves
      await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
    }
    return null;
  }

  async #reschedule(row: StoredConnection): Promise<void> {
    if (row.refreshAt === null) return;
    // The job may sit at the old time; moving it is tidier than letting it wake early. Redis down: the job still
    // wakes, re-reads the row and follows it.
    await this.#d.queues.schedule(row.provider, row.id, row.refreshAt.getTime()).catch(() => {});
  }

  async #load(connectionId: string): Promise<StoredConnection> {
    return usable(connectionId, await this.#d.store.find(connectionId));
  }

  /** What a read needs; the whole row (refresh token decrypted) only once a refresh is due. */
  async #loadAccess(connectionId: string): Promise<AccessRow> {
    return usable(connectionId, await this.#d.store.findAccess(connectionId));
  }

  #minValidityMs(row: AccessRow, options: TokenOptions): number {
    if (options.minValiditySeconds !== undefined) return options.minValiditySeconds * 1_000;
    return (this.#d.providers.get(row.provider)?.refreshBufferSeconds ?? 300) * 1_000;
  }
}

/** The row, if a token can be had from it; else the error that says why not. */
function usable<T extends AccessRow>(connectionId: string, row: T | null): T {
  if (!row) throw new ConnectionNotFoundError(connectionId);
  if (row.status === 'needs_reauth') throw new NeedsReauthError(connectionId);
  if (row.status === 'disconnected') throw new DisconnectedError(connectionId);
  if (row.status === 'error') throw new RefreshFailedError(connectionId, row.lastRefreshReason ?? 'error', false);
  if (!isLive(row.status)) throw new RefreshFailedError(connectionId, row.status, false);
  return row;
}

function isValid(row: AccessRow, minValidityMs: number): boolean {
  if (row.accessToken === null) return false;
  return row.expiresAt === null || row.expiresAt.getTime() - Date.now() >= minValidityMs;
}
