import type { ConnectSessionInput, ConnectSessionStarted } from '@evergreen/connect';
import { ConfigError } from '@evergreen/core';
import type { ConnectionView } from '@evergreen/store';
import type { ConnectionRef } from '../connection-ref.ts';
import { refName } from '../connection-ref.ts';
import { TokenTimeoutError } from '../errors.ts';
import type {
  BulkEnqueueOptions,
  BulkEnqueueResult,
  BulkItemResult,
  DisconnectOptions,
  DisconnectResult,
  EnqueueConnectionInput,
  EnqueueConnectionResult,
  Evergreen,
  ValidToken,
} from '../evergreen.ts';
import type { Revocation } from '../revoke-grant.ts';
import { isUnauthorized } from '../fresh-token.ts';
import type { TokenOptions } from '../on-demand.ts';
import { problemError, type CallContext } from './problem-error.ts';
import { ApiError, NotAvailableRemotelyError } from './remote-errors.ts';

/*
 * The remote mode imports nothing of the direct mode at runtime (only types, which vanish): an app that talks to the
 * token service loads no Postgres driver, Redis client or keyring, and holds no secret but its API key.
 */

export interface RemoteOptions {
  /** The api role's address, e.g. `http://127.0.0.1:3100` (a trailing `/v1` is accepted). */
  url: string;
  /** An API key (`evg_…`) with the scopes the calls need. */
  apiKey: string;
  /** The longest one HTTP call may take when the call sets no `timeoutMs` (default 30 s). */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
/** The api role's batch route takes at most this many items. */
const MAX_BATCH = 1_000;

interface Call {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  context: CallContext;
  /**
   * The server is told the call's timeout (`timeoutMs` in the query) and stops waiting for a refresh by then; the
   * client then waits a little longer, so the server's own 503 ERR_TOKEN_TIMEOUT (or its token) arrives first.
   */
  serverBounded?: boolean;
}

/** How much longer than the server's bound the client waits: the answer's way back. */
const SERVER_BOUND_GRACE_MS = 2_000;

/** The same client as the direct mode's, over the api role's /v1 routes (docs/api.md). */
export function createRemoteEvergreen(options: RemoteOptions): Evergreen {
  const base = checkUrl(options.url);
  if (options.apiKey.trim() === '') throw new ConfigError([{ field: 'apiKey', reason: 'must not be empty' }]);
  const authorization = `Bearer ${options.apiKey}`;
  const defaultTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let closed = false;

  /** One HTTP call; a problem answer becomes the direct mode's typed error. Node's fetch keeps connections alive. */
  async function call<T>(c: Call): Promise<{ status: number; body: T }> {
    if (closed) throw new ApiError('ERR_CLIENT_CLOSED', 0, 'the Evergreen client was closed');
    const url = new URL(`${base}/v1${c.path}`);
    for (const [name, value] of Object.entries(c.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { authorization, accept: 'application/json' };
    if (c.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method: c.method,
        headers,
        ...(c.body !== undefined && { body: JSON.stringify(c.body) }),
        signal: AbortSignal.timeout(c.context.timeoutMs + (c.serverBounded ? SERVER_BOUND_GRACE_MS : 0)),
      });
    } catch (error) {
      if (error instanceof Error && error.name === 'TimeoutError') {
        throw new TokenTimeoutError(c.context.connection ?? '(none)', c.context.timeoutMs);
      }
      // The cause's message names the host and the errno, never the key (it travels in a header).
      const why = error instanceof Error && error.cause instanceof Error ? error.cause.message : 'fetch failed';
      throw new ApiError('ERR_API_UNREACHABLE', 0, `the token service at ${base} could not be reached: ${why}`);
    }
    const body = parseJson(await res.text());
    if (!res.ok) {
      throw problemError({ status: res.status, body, retryAfter: res.headers.get('retry-after') }, c.context);
    }
    return { status: res.status, body: body as T };
  }

  const ctx = (operation: string, ref?: ConnectionRef, timeoutMs = defaultTimeoutMs): CallContext => ({
    operation,
    timeoutMs,
    ...(ref !== undefined && { connection: refName(ref) }),
    ...(typeof ref === 'object' && { ownerId: ref.ownerId, provider: ref.provider }),
  });
  const id = (connectionId: string) => `/connections/${encodeURIComponent(connectionId)}`;

  async function getValidToken(ref: ConnectionRef, o: TokenOptions = {}): Promise<ValidToken> {
    const timeoutMs = o.timeoutMs ?? defaultTimeoutMs;
    const minValiditySeconds = o.minValiditySeconds;
    const { body } = await call<WireToken>(
      typeof ref === 'string'
        ? {
            method: 'GET',
            path: `${id(ref)}/token`,
            query: { minValiditySeconds, timeoutMs: serverTimeout(timeoutMs) },
            context: ctx('getValidAccessToken', ref, timeoutMs),
            serverBounded: true,
          }
        : {
            method: 'GET',
            path: '/tokens',
            query: {
              ownerId: ref.ownerId,
              provider: ref.provider,
              minValiditySeconds,
              timeoutMs: serverTimeout(timeoutMs),
            },
            context: ctx('getValidAccessToken', ref, timeoutMs),
            serverBounded: true,
          },
    );
    return { ...body, expiresAt: dateOrNull(body.expiresAt) };
  }

  async function forceRefresh(connectionId: string, o: Pick<TokenOptions, 'timeoutMs'> = {}): Promise<ConnectionView> {
    const timeoutMs = o.timeoutMs ?? defaultTimeoutMs;
    const context = ctx('forceRefresh', connectionId, timeoutMs);
    const path = `${id(connectionId)}/refresh`;
    return view(
      (
        await call<WireView>({
          method: 'POST',
          path,
          query: { timeoutMs: serverTimeout(timeoutMs) },
          context,
          serverBounded: true,
        })
      ).body,
    );
  }

  async function enqueueConnection(input: EnqueueConnectionInput): Promise<EnqueueConnectionResult> {
    const context = ctx('enqueueConnection', input.connectionId);
    const { status, body } = await call<WireEnqueue>({ method: 'POST', path: '/connections', body: input, context });
    // 201 means stored anew, 200 replaced: the same fact as the direct mode's `created`.
    return enqueued({ ...body, created: status === 201 });
  }

  async function enqueueConnections(
    inputs: readonly EnqueueConnectionInput[],
    { batchSize = MAX_BATCH, keepCurrent, notBefore }: BulkEnqueueOptions = {},
  ): Promise<BulkEnqueueResult> {
    // An import's options need the database itself (the stored tokens, the row's schedule).
    if (keepCurrent || notBefore) {
      throw new NotAvailableRemotelyError(
        'enqueueConnections with keepCurrent or notBefore',
        'run the import where the database is (evergreen connections import)',
      );
    }
    const size = Math.max(1, Math.min(batchSize, MAX_BATCH));
    const results: BulkItemResult[] = [];
    for (let start = 0; start < inputs.length; start += size) {
      const items = inputs.slice(start, start + size);
      const { body } = await call<{ results: WireBulkItem[] }>({
        method: 'POST',
        path: '/connections/batch',
        body: { items },
        context: ctx('enqueueConnections'),
      });
      for (const r of body.results) {
        const index = start + r.index;
        results.push(r.ok ? { ...enqueued(r), index, ok: true } : { ...r, index });
      }
    }
    const succeeded = results.filter((r) => r.ok).length;
    return { results, succeeded, failed: results.length - succeeded };
  }

  async function withFreshToken<T>(
    ref: ConnectionRef,
    fn: (token: string) => Promise<T> | T,
    o: TokenOptions = {},
  ): Promise<T> {
    const first = await getValidToken(ref, o);
    try {
      const result = await fn(first.accessToken);
      if (!isUnauthorized(result)) return result;
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
    }
    // The provider's API said 401: the token is dead whatever its expiry says. If another caller already replaced it,
    // that one serves; else one forced refresh (connections:write), then the call once more.
    const again = await getValidToken(ref, o);
    if (again.accessToken !== first.accessToken) return fn(again.accessToken);
    const connectionId = typeof ref === 'string' ? ref : (await findId(ref, o)).connectionId;
    await forceRefresh(connectionId, o);
    return fn((await getValidToken(connectionId, o)).accessToken);
  }

  /** The id behind a pair, through the list route (connections:read). */
  async function findId(ref: { ownerId: string; provider: string }, o: TokenOptions): Promise<ConnectionView> {
    const context = ctx('withFreshToken', ref, o.timeoutMs ?? defaultTimeoutMs);
    const { body } = await call<{ items: WireView[] }>({
      method: 'GET',
      path: '/connections',
      query: { ownerId: ref.ownerId, provider: ref.provider, limit: 2 },
      context,
    });
    if (body.items.length !== 1) {
      throw problemError(
        {
          status: 409,
          body: { code: body.items.length === 0 ? 'ERR_CONNECTION_NOT_FOUND' : 'ERR_AMBIGUOUS_CONNECTION' },
          retryAfter: null,
        },
        context,
      );
    }
    return view(body.items[0]!);
  }

  const viewCall = async (method: Call['method'], connectionId: string, operation: string, body?: unknown) =>
    view(
      (
        await call<WireView>({
          method,
          path: id(connectionId),
          ...(body !== undefined && { body }),
          context: ctx(operation, connectionId),
        })
      ).body,
    );

  /** With `revoke: true` the api revokes the grant first (RFC 7009) and says how that went, as the direct mode does. */
  async function disconnect(connectionId: string, o: DisconnectOptions = {}): Promise<DisconnectResult> {
    if (o.revoke !== true) return viewCall('DELETE', connectionId, 'disconnect');
    const { body } = await call<WireDisconnect>({
      method: 'DELETE',
      path: id(connectionId),
      query: { revoke: 'true' },
      context: ctx('disconnect', connectionId),
    });
    const { revoked, revocationReason, revocationRetryable, ...rest } = body;
    const revocation: Revocation = revoked
      ? { revoked: true }
      : revocationReason === 'provider_error'
        ? { revoked: false, reason: 'provider_error', retryable: revocationRetryable === true }
        : { revoked: false, reason: revocationReason ?? 'no_endpoint' };
    return { ...view(rest), revocation };
  }

  async function createConnectSession(input: ConnectSessionInput): Promise<ConnectSessionStarted> {
    const context = ctx('createConnectSession', input.connectionId);
    const { body } = await call<{ sessionId: string; authorizationUrl: string; expiresAt: string }>({
      method: 'POST',
      path: '/connect/sessions',
      body: input,
      context,
    });
    return { ...body, expiresAt: new Date(body.expiresAt) };
  }

  return {
    enqueueConnection,
    enqueueConnections,
    getValidAccessToken: async (ref, o) => (await getValidToken(ref, o)).accessToken,
    getValidToken,
    withFreshToken,
    forceRefresh,
    disconnect,
    getConnection: (connectionId) => viewCall('GET', connectionId, 'getConnection'),
    updateMetadata: (connectionId, patch) => viewCall('PATCH', connectionId, 'updateMetadata', { metadata: patch }),
    subscribe: () =>
      Promise.reject(
        new NotAvailableRemotelyError(
          'subscribe',
          'events reach remote apps as signed webhooks (docs/events.md); subscribe needs the direct mode',
        ),
      ),
    createConnectSession,
    completeConnectSession: () =>
      Promise.reject(
        new NotAvailableRemotelyError(
          'completeConnectSession',
          'the provider redirects the browser to the api role, which completes the session itself',
        ),
      ),
    close: () => {
      // Nothing to release but the idle keep-alive sockets, which Node's fetch closes on its own.
      closed = true;
      return Promise.resolve();
    },
  };
}

/** The options from the environment: both variables set selects the remote mode (DESIGN.md's contract). */
export function remoteOptionsFromEnv(env: Readonly<Record<string, string | undefined>>): RemoteOptions | null {
  const url = env.EVERGREEN_API_URL?.trim();
  const apiKey = env.EVERGREEN_API_KEY?.trim();
  if (!url && !apiKey) return null;
  const issues = [
    ...(url ? [] : [{ field: 'EVERGREEN_API_URL', reason: 'is required with EVERGREEN_API_KEY' }]),
    ...(apiKey ? [] : [{ field: 'EVERGREEN_API_KEY', reason: 'is required with EVERGREEN_API_URL' }]),
  ];
  if (issues.length > 0) throw new ConfigError(issues);
  return { url: url!, apiKey: apiKey! };
}

function checkUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError([{ field: 'url', reason: 'must be an absolute http(s) URL' }]);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ConfigError([{ field: 'url', reason: 'must be an http(s) URL' }]);
  }
  return parsed.href.replace(/\/+$/, '').replace(/\/v1$/, '');
}

type Wire<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };
type WireToken = Wire<ValidToken>;
type WireView = Wire<ConnectionView>;
type WireDisconnect = WireView & {
  revoked: boolean;
  revocationReason?: 'no_endpoint' | 'no_token' | 'invalid_url' | 'provider_error';
  revocationRetryable?: boolean;
};
type WireEnqueue = Wire<Omit<EnqueueConnectionResult, 'created'>> & { created?: boolean };
type WireBulkItem = ({ index: number; ok: true } & WireEnqueue) | Extract<BulkItemResult, { ok: false }>;

/** A body that is not JSON (a proxy's page) becomes null: the error then says so without echoing it. */
function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const dateOrNull = (value: string | null): Date | null => (value === null ? null : new Date(value));

function enqueued(r: WireEnqueue): EnqueueConnectionResult {
  return {
    connectionId: r.connectionId,
    status: r.status,
    expiresAt: dateOrNull(r.expiresAt),
    refreshAt: dateOrNull(r.refreshAt),
    scheduling: r.scheduling,
    created: r.created ?? false,
  };
}

function view(v: WireView): ConnectionView {
  return {
    ...v,
    expiresAt: dateOrNull(v.expiresAt),
    refreshAt: dateOrNull(v.refreshAt),
    refreshTokenExpiresAt: dateOrNull(v.refreshTokenExpiresAt),
    lastRefreshAt: dateOrNull(v.lastRefreshAt),
    createdAt: new Date(v.createdAt),
    updatedAt: new Date(v.updatedAt),
  };
}

/** The api's bound on `timeoutMs` (its MAX_TIMEOUT_MS): a longer client timeout still waits, the server no longer. */
function serverTimeout(timeoutMs: number): number {
  return Math.min(Math.max(1, Math.round(timeoutMs)), 120_000);
}
