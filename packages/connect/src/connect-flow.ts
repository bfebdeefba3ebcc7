import { createHash, randomUUID } from 'node:crypto';
import {
  classify,
  InvalidInputError,
  resolveAuthorizationUrl,
  resolveTokenUrl,
  type ClassifyPolicy,
  type ConnectionStatus,
  type InputIssue,
  type ProviderDefinition,
} from '@evergreen/core';
import { safeError, type Logger } from '@evergreen/log';
import {
  buildAuthorizationUrl,
  pkceChallenge,
  randomSecret,
  readIdToken,
  type IdTokenVerifier,
  type OidcConfiguration,
  type OidcDiscovery,
  type TokenClient,
} from '@evergreen/oauth';
import type { ConnectSession, ConnectSessions } from '@evergreen/store';
import {
  CONNECT_ERROR_TEXT,
  ConnectNotConfiguredError,
  DiscoveryFailedError,
  type ConnectErrorCode,
} from './connect-errors.ts';
import { connectionOf, type ConnectionToStore } from './connection-of.ts';
import { parseConnectInput, type ConnectSessionInput } from './connect-input.ts';
import { returnUrlProblem, withResult } from './return-url.ts';

/** A state lives this long (issue 17): long enough to log in and consent, short enough to be useless when stolen. */
export const SESSION_TTL_MS = 10 * 60 * 1000;
export const CALLBACK_PATH = '/v1/connect/callback';

export interface ConnectConfig {
  /** EVERGREEN_PUBLIC_URL: where browsers reach the api role; the redirect URI is this + CALLBACK_PATH. */
  publicUrl: string | null;
  /** EVERGREEN_CONNECT_RETURN_URLS: the allow-list of `returnTo` prefixes. */
  returnUrls: readonly string[];
}

export interface ConnectFlowDeps {
  sessions: Pick<ConnectSessions, 'create' | 'consume' | 'finish'>;
  providers: ReadonlyMap<string, ProviderDefinition>;
  tokens: Pick<TokenClient, 'exchangeCode'>;
  discovery: Pick<OidcDiscovery, 'discover'>;
  idTokens: Pick<IdTokenVerifier, 'verify'>;
  config: ConnectConfig;
  classifyPolicy: ClassifyPolicy;
  /** The connection as it stands, for a reconnect (null: no such connection). */
  findConnection(id: string): Promise<{
    ownerId: string;
    provider: string;
    status: ConnectionStatus;
    scopes: string[];
    metadata: Record<string, unknown>;
  } | null>;
  /** enqueueConnection's path; `reconnect` marks an in-place replacement for the `connection.reconnected` event. */
  store(input: ConnectionToStore, options: { reconnect: boolean }): Promise<{ connectionId: string; status: string }>;
  log: Logger;
}

export interface ConnectSessionStarted {
  sessionId: string;
  /** Open this in the user's browser. */
  authorizationUrl: string;
  expiresAt: Date;
}

/** The callback's query, as the provider redirected the browser with it. */
export interface CallbackQuery {
  state?: string;
  code?: string;
  error?: string;
}

export type CallbackAnswer =
  /** 303 to the session's returnTo, with `connectionId` and `status`, or `error` and `error_code`. */
  | { kind: 'redirect'; location: string; outcome: 'connected' | ConnectErrorCode }
  /** No session to go back to (no state, an unknown one, a replay): a page saying so; nothing changed. */
  | { kind: 'page'; status: 400; title: string; message: string };

/**
 * The authorization code flow (RFC 6749 §4.1) with PKCE (RFC 7636, S256) and OpenID Connect id_token checks, over a
 * single-use session in Postgres. `start` answers the URL to send the user to; `callback` consumes the state, exchanges
 * the code with the provider's client authentication, verifies the id_token, and stores the connection through
 * enqueueConnection's path (a reconnect replaces the tokens of the same connection in place).
 */
export class ConnectFlow {
  readonly #d: ConnectFlowDeps;

  constructor(deps: ConnectFlowDeps) {
    this.#d = deps;
  }

  async start(raw: ConnectSessionInput): Promise<ConnectSessionStarted> {
    const input = parseConnectInput(raw);
    const issues: InputIssue[] = [];
    const redirectUri = this.#redirectUri();
    const provider = this.#d.providers.get(input.provider);
    if (!provider) {
      throw new InvalidInputError('createConnectSession', [
        { field: 'provider', reason: `'${input.provider}' is not configured` },
      ]);
    }
    const existing = input.connectionId === null ? null : await this.#d.findConnection(input.connectionId);
    if (existing && (existing.ownerId !== input.ownerId || existing.provider !== input.provider)) {
      issues.push({ field: 'connectionId', reason: 'names a connection of another owner or provider' });
    }
    // A reconnect keeps what the connection had (its scopes, the metadata its URLs are made from) unless told otherwise.
    const metadata = input.metadata ?? existing?.metadata ?? {};
    const scopes =
      input.scopes ?? (existing && existing.scopes.length > 0 ? existing.scopes : provider.authorization.defaultScopes);
    const returnProblem = returnUrlProblem(input.returnTo, this.#d.config.returnUrls);
    if (returnProblem) issues.push({ field: 'returnTo', reason: returnProblem });
    if (provider.grant !== 'refresh_token') {
      issues.push({
        field: 'provider',
        reason: `'${provider.id}' uses the ${provider.grant} grant: nothing to authorize`,
      });
    }
    if (provider.authorizationUrl === null && provider.issuer === null) {
      issues.push({
        field: 'provider',
        reason: `'${provider.id}' has no authorizationUrl (nor an issuer to discover one from); add it to its entry`,
      });
    }
    if (provider.authorizationUrl !== null) {
      const target = resolveAuthorizationUrl(provider, metadata);
      if (target && !target.ok) issues.push({ field: target.field, reason: target.reason });
    }
    if (provider.tokenUrl !== '') {
      const target = resolveTokenUrl(provider, metadata);
      if (!target.ok)
        issues.push({ field: target.field === 'tokenUrl' ? 'metadata' : target.field, reason: target.reason });
    }
    if (issues.length > 0) throw new InvalidInputError('createConnectSession', issues);

    const oidc = await this.#discover(provider);
    const endpoint = provider.authorizationUrl === null ? oidc?.authorizationEndpoint : undefined;
    const authorizationEndpoint =
      endpoint ?? (resolveAuthorizationUrl(provider, metadata) as { ok: true; url: string }).url;
    const state = randomSecret();
    const codeVerifier = provider.authorization.pkce === 'unsupported' ? null : randomSecret();
    const nonce = provider.issuer === null ? null : randomSecret();
    const sessionId = randomUUID();
    const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
    await this.#d.sessions.create({
      id: sessionId,
      stateHash: hashState(state),
      ownerId: input.ownerId,
      provider: provider.id,
      connectionId: input.connectionId,
      scopes: [...scopes],
      metadata,
      returnTo: input.returnTo,
      redirectUri,
      secrets: { codeVerifier, nonce },
      expiresAt,
    });
    const authorizationUrl = buildAuthorizationUrl(provider, {
      endpoint: authorizationEndpoint,
      redirectUri,
      state,
      scopes,
      ...(codeVerifier !== null && { codeChallenge: pkceChallenge(codeVerifier) }),
      ...(nonce !== null && { nonce }),
    });
    this.#d.log.info(
      { session: sessionId, provider: provider.id, reconnect: input.connectionId !== null },
      'connect session started',
    );
    return { sessionId, authorizationUrl, expiresAt };
  }

  async callback(query: CallbackQuery): Promise<CallbackAnswer> {
    if (!query.state) {
      return page(400, 'No connect session', 'This address was opened without a state parameter.');
    }
    const consumed = await this.#d.sessions.consume(hashState(query.state));
    if (consumed.kind === 'unknown') {
      return page(400, 'Unknown connect session', 'This link does not belong to any connect session. Start again.');
    }
    if (consumed.kind === 'replayed') {
      return page(400, 'Connect session already used', 'This link was used once already; it works only once.');
    }
    const { session } = consumed;
    const fail = async (code: ConnectErrorCode, detail: Record<string, unknown> = {}): Promise<CallbackAnswer> => {
      this.#d.log.warn(
        { session: session.id, provider: session.provider, outcome: code, ...detail },
        'connect callback',
      );
      await this.#d.sessions.finish(session.id, code);
      return {
        kind: 'redirect',
        outcome: code,
        location: withResult(session.returnTo, { error: CONNECT_ERROR_TEXT[code], error_code: code }),
      };
    };
    if (consumed.expired) return fail('state_expired');
    if (query.error !== undefined) return fail(query.error === 'access_denied' ? 'access_denied' : 'provider_error');
    if (!query.code) return fail('missing_code');

    const provider = this.#d.providers.get(session.provider);
    if (!provider) return fail('exchange_failed', { why: 'provider no longer configured' });
    const oidc = provider.issuer === null ? null : await this.#d.discovery.discover(provider.issuer);
    if (oidc && !oidc.ok) return fail('exchange_failed', { why: oidc.reason });
    const tokenUrl =
      provider.tokenUrl === '' && oidc?.ok
        ? { ok: true as const, url: oidc.configuration.tokenEndpoint }
        : resolveTokenUrl(provider, session.metadata);
    if (!tokenUrl.ok) return fail('exchange_failed', { why: 'token URL' });

    const exchange = await this.#d.tokens.exchangeCode(provider, tokenUrl.url, {
      code: query.code,
      redirectUri: session.redirectUri,
      ...(session.secrets.codeVerifier !== null && { codeVerifier: session.secrets.codeVerifier }),
    });
    const outcome = classify(exchange.reply, 0, this.#d.classifyPolicy, provider);
    if (outcome.kind !== 'success') {
      return fail('exchange_failed', { result: outcome.kind, reason: outcome.reason, httpStatus: outcome.status });
    }
    const identity = await this.#checkIdToken(provider, session, exchange.reply, oidc?.ok ? oidc.configuration : null);
    if (!identity.ok) return fail('id_token_invalid', { why: identity.reason });

    const existing = session.connectionId === null ? null : await this.#d.findConnection(session.connectionId);
    let stored: { connectionId: string; status: string };
    try {
      stored = await this.#d.store(connectionOf(session, outcome.tokens, identity.claims), {
        reconnect: existing !== null,
      });
    } catch (error) {
      return fail('store_failed', { err: safeError(error) });
    }
    await this.#d.sessions.finish(session.id, 'connected');
    this.#d.log.info(
      {
        session: session.id,
        provider: provider.id,
        connection: stored.connectionId,
        outcome: 'connected',
        reconnected: existing !== null,
        identity: identity.claims === null ? 'none' : 'verified',
      },
      'connect callback',
    );
    return {
      kind: 'redirect',
      outcome: 'connected',
      location: withResult(session.returnTo, { connectionId: stored.connectionId, status: stored.status }),
    };
  }

  #redirectUri(): string {
    const { publicUrl } = this.#d.config;
    if (publicUrl === null) {
      throw new ConnectNotConfiguredError([
        {
          field: 'EVERGREEN_PUBLIC_URL',
          reason: 'is not set: the provider redirects the browser to EVERGREEN_PUBLIC_URL + /v1/connect/callback',
        },
      ]);
    }
    return `${publicUrl.replace(/\/+$/, '')}${CALLBACK_PATH}`;
  }

  async #discover(provider: ProviderDefinition): Promise<OidcConfiguration | null> {
    if (provider.issuer === null) return null;
    const found = await this.#d.discovery.discover(provider.issuer);
    if (!found.ok) throw new DiscoveryFailedError(provider.id, found.reason);
    return found.configuration;
  }

  /**
   * OpenID Connect Core §3.1.3.7 for a provider with an issuer: an answer to a request with the `openid` scope must
   * carry an id_token, and any id_token that comes must verify. Providers without an issuer: nothing to check.
   */
  async #checkIdToken(
    provider: ProviderDefinition,
    session: ConnectSession,
    reply: { kind: string; body?: string },
    oidc: OidcConfiguration | null,
  ): Promise<{ ok: true; claims: Record<string, unknown> | null } | { ok: false; reason: string }> {
    if (provider.issuer === null || oidc === null) return { ok: true, claims: null };
    const idToken = reply.kind === 'response' && reply.body !== undefined ? readIdToken(reply.body) : null;
    if (idToken === null) {
      return session.scopes.includes('openid') ? { ok: false, reason: 'missing' } : { ok: true, claims: null };
    }
    const checked = await this.#d.idTokens.verify(idToken, {
      issuer: provider.issuer,
      clientId: provider.clientId ?? '',
      nonce: session.secrets.nonce,
      jwksUri: oidc.jwksUri,
    });
    return checked.ok ? { ok: true, claims: checked.claims } : { ok: false, reason: checked.reason };
  }
}

/** SHA-256 of the state: what the table holds and looks up. */
export function hashState(state: string): string {
  return createHash('sha256').update(state).digest('hex');
}

function page(status: 400, title: string, message: string): CallbackAnswer {
  return { kind: 'page', status, title, message };
}
