import {
  ConfigError,
  EvergreenError,
  type ConnectionCredentials,
  type ConnectionEvent,
  type ConnectionStatus,
  type EventKind,
} from '@evergreen/core';
import { loadConfig, type EvergreenConfig } from '@evergreen/config';
import { createLogger, safeError, type Logger } from '@evergreen/log';
import { refreshJob, type ScheduleItem, type ScheduleManyResult } from '@evergreen/queue';
import { ConnectionDirectory, type ConnectionView } from '@evergreen/store';
import { openEvergreen, type EvergreenParts } from '@evergreen/wiring';
import {
  ConnectionNotFoundError,
  InvalidInputError,
  readMetadata,
  serveCredential,
  type ServedCredential,
  renewalUrlTemplate,
  resolveTokenUrl,
} from '@evergreen/core';
import {
  ConnectFlow,
  type CallbackAnswer,
  type CallbackQuery,
  type ConnectSessionInput,
  type ConnectSessionStarted,
} from '@evergreen/connect';
import { IdTokenVerifier, OidcDiscovery } from '@evergreen/oauth';
import { ConnectSessions } from '@evergreen/store';
import { refName, type ConnectionRef } from './connection-ref.ts';
import { AmbiguousConnectionError } from './errors.ts';
import { isUnauthorized } from './fresh-token.ts';
import { OnDemandTokens, type TokenOptions } from './on-demand.ts';
import { prepareConnection, type PreparedConnection } from './prepare-connection.ts';
import { createRemoteEvergreen, remoteOptionsFromEnv, type RemoteOptions } from './remote/remote-evergreen.ts';
import { revokeGrant, type Revocation } from './revoke-grant.ts';
import { whileLocked } from './while-locked.ts';

export interface EvergreenOptions {
  /**
   * The remote mode: the api role's address (with `apiKey`). The client then talks HTTP only and opens no Postgres
   * pool or Redis client. Without `url`, `apiKey`, `config` and `parts`, EVERGREEN_API_URL + EVERGREEN_API_KEY in the
   * environment select it; the direct mode is the default when they are absent.
   */
  url?: string;
  /** The remote mode's API key (`evg_…`). */
  apiKey?: string;
  /** The remote mode's bound on one HTTP call when the call sets none (default 30 s). */
  timeoutMs?: number;
  /** A parsed configuration; by default it is read from the environment (DATABASE_URL, REDIS_URL, EVERGREEN_*). */
  config?: EvergreenConfig;
  /** Where the client logs; a root logger at EVERGREEN_LOG_LEVEL otherwise. */
  logger?: Logger;
  /**
   * The parts a process already opened (`openEvergreen`, the roles, the board): the client then uses them, opens
   * nothing of its own, and its `close()` leaves them to their owner. `config` and `logger` are theirs.
   */
  parts?: EvergreenParts;
}

/** What a producer hands over: see DESIGN.md's contract. */
export interface EnqueueConnectionInput {
  connectionId?: string;
  ownerId: string;
  provider: string;
  /**
   * Required, except for grants that log in on their own (client credentials, password, jwt_bearer, GitHub App
   * installations, token exchange); never given for an API key or Basic login, which come in `credentials`.
   */
  accessToken?: string;
  refreshToken?: string;
  /** When the access token dies: a Date or an ISO-8601 string. */
  expiresAt?: Date | string;
  /** Seconds from now until the access token dies (a token response's expires_in). */
  expiresIn?: number;
  /** Seconds until the refresh token itself lapses, when the provider said (`refresh_token_expires_in`). */
  refreshTokenExpiresIn?: number;
  /**
   * Stored encrypted. Credential grants: a login (`username`, `password`) or a client of the connection's own; an
   * `apiKey`, or a Basic `username` and `password`; a `privateKey` and its claims (jwt_bearer, GitHub Apps); a
   * `subjectToken` (token exchange). docs/credentials.md.
   */
  credentials?: ConnectionCredentials;
  scopes?: string[];
  /** Free-form; also fills provider token-URL placeholders (`instance_url`, `subdomain`, `tenant`). */
  metadata?: Record<string, unknown>;
}

export interface EnqueueConnectionResult {
  connectionId: string;
  status: ConnectionStatus;
  /** null when nobody knows (no expiry given, none in the token, no provider default). */
  expiresAt: Date | null;
  /** When Evergreen will refresh it; null when it never needs to (no refresh token, or no known expiry). */
  refreshAt: Date | null;
  /**
   * `scheduled`: the refresh job is in Redis. `pending`: Redis did not answer; the row is stored and the scheduler
   * will create the job. `not_needed`: nothing to refresh.
   */
  scheduling: 'scheduled' | 'pending' | 'not_needed';
  /** True when this call stored a new connection, false when it replaced the tokens of an existing one. */
  created: boolean;
}

/**
 * A valid credential and how a caller sends it (docs/credentials.md). `type` says what it is: `bearer` (an access
 * token of any OAuth grant, RFC 6750), `api_key` (also in `apiKey`), `basic` (also as `username` and `password`;
 * `accessToken` is then the RFC 7617 Basic token). `send` is the one header or query parameter that carries it, ready
 * to use.
 */
export type ValidToken = {
  /** The bearer token, the API key, or the Basic token (base64 of `username:password`). */
  accessToken: string;
  /** null when nobody knows (no expiry given, none in the token, no provider default); always null for static keys. */
  expiresAt: Date | null;
  scopes: string[];
  provider: string;
} & ServedCredential;

export type BulkItemResult =
  /**
   * `unchanged` (only with `keepCurrent`): the connection already held these tokens; nothing was written or moved, and
   * the result shows what is stored.
   */
  | ({ index: number; ok: true; unchanged?: true } & EnqueueConnectionResult)
  | { index: number; ok: false; error: { code: string; message: string; issues: { field: string; reason: string }[] } };

export interface BulkEnqueueOptions {
  /** Items per Postgres statement and Redis round trip (default 1000). */
  batchSize?: number;
  /**
   * An import's rule, so that rerunning it is harmless: a connection that already holds the item's exact tokens is
   * left as it is (no write, no version bump, its job not moved: `unchanged: true`), and one Evergreen has
   * refreshed since it was stored is not overwritten with the item's older tokens (an error result says so).
   */
  keepCurrent?: boolean;
  /**
   * A cut-over time: no refresh is scheduled before it (spread over the refresh jitter after it), so the system the
   * connections come from can still refresh them until then without the two refreshing one rotating token.
   */
  notBefore?: Date;
}

export interface BulkEnqueueResult {
  results: BulkItemResult[];
  succeeded: number;
  failed: number;
}

export interface DisconnectOptions {
  /** Also revoke the grant at the provider (RFC 7009) when it has a revocation endpoint. A failure never blocks. */
  revoke?: boolean;
}

/** The disconnected connection; with `revoke: true`, what came of the revocation. */
export type DisconnectResult = ConnectionView & { revocation?: Revocation };

export type EventHandler = (event: ConnectionEvent) => void | Promise<void>;

export interface Evergreen {
  enqueueConnection(input: EnqueueConnectionInput): Promise<EnqueueConnectionResult>;
  /** Bulk import: validated item by item, written in batches (one Postgres and one Redis round trip per batch). */
  enqueueConnections(
    inputs: readonly EnqueueConnectionInput[],
    options?: BulkEnqueueOptions,
  ): Promise<BulkEnqueueResult>;
  /** A decrypted access token valid for at least `minValiditySeconds` (the provider's buffer by default). */
  /**
   * By connection id, or by `{ ownerId, provider }` for a connection enqueued without one (AmbiguousConnectionError
   * when several match).
   */
  getValidAccessToken(connection: ConnectionRef, options?: TokenOptions): Promise<string>;
  /** As getValidAccessToken (same single flight), with the token's expiry, scopes and provider. */
  getValidToken(connection: ConnectionRef, options?: TokenOptions): Promise<ValidToken>;
  /** Calls `fn(token)`; if it reports a 401, refreshes once and calls it again with the new token. */
  withFreshToken<T>(
    connection: ConnectionRef,
    fn: (token: string) => Promise<T> | T,
    options?: TokenOptions,
  ): Promise<T>;
  forceRefresh(connectionId: string, options?: Pick<TokenOptions, 'timeoutMs'>): Promise<ConnectionView>;
  /**
   * Removes its job, wipes its tokens and credentials, marks it `disconnected`; its history stays. With
   * `{ revoke: true }` the grant is first revoked at the provider; the disconnect happens whatever that gives.
   */
  disconnect(connectionId: string, options?: DisconnectOptions): Promise<DisconnectResult>;
  /** Everything about a connection but its secrets. */
  getConnection(connectionId: string): Promise<ConnectionView>;
  /**
   * Merges `patch` into the connection's metadata (RFC 7396 at the top level: a null value removes its key). The
   * result must meet enqueueConnection's rules, and still fill the provider's token URL.
   */
  updateMetadata(connectionId: string, patch: Readonly<Record<string, unknown>>): Promise<ConnectionView>;
  /**
   * In-process events (from every Evergreen process on this database); returns the unsubscribe function. The remote
   * mode throws NotAvailableRemotelyError: its apps receive events as signed webhooks.
   */
  subscribe(handler: EventHandler, options?: { kinds?: readonly EventKind[] }): Promise<() => Promise<void>>;
  /**
   * Starts the connect flow (docs/connect.md): a single-use session of 10 minutes and the provider's authorization URL
   * to send the user's browser to. With the `connectionId` of a connection that needs a person (needs_reauth, error,
   * disconnected), the callback replaces its tokens in place. Nothing is stored until the provider redirects back.
   */
  createConnectSession(input: ConnectSessionInput): Promise<ConnectSessionStarted>;
  /**
   * The callback's work, as the api role serves it at `/v1/connect/callback`: apps do not call this. The remote mode
   * throws NotAvailableRemotelyError.
   */
  completeConnectSession(query: CallbackQuery): Promise<CallbackAnswer>;
  close(): Promise<void>;
}

const BEARER = { grant: 'refresh_token', apiKey: { in: 'header', name: 'Authorization', prefix: 'Bearer ' } } as const;

/** The lock a revoke holds lives as long as a refresh's; it waits at most that long for one in flight. */
function revokeLockTiming(config: EvergreenConfig): { ttlMs: number; waitMs: number } {
  return { ttlMs: config.refresh.lockTtlMs, waitMs: config.refresh.lockTtlMs };
}

/**
 * The producer's client. Options default from the environment; the database schema is migrated on first use (once,
 * and safely alongside other processes) unless EVERGREEN_MIGRATE_ON_START=false.
 */
export function createEvergreen(options: EvergreenOptions = {}): Evergreen {
  const remote = remoteOptions(options);
  if (remote) return createRemoteEvergreen(remote);
  const parts = options.parts ?? openOwnParts(options);
  const { config, store, providers } = parts;
  const log = parts.log.child({ component: 'sdk' });
  // Outages are reported per call ("scheduling pending"): the producer client fails fast instead of waiting.
  const { queues, engine, firstConnection } = parts.producer;
  const onDemand = new OnDemandTokens({ store, engine, queues, providers });
  const directory = new ConnectionDirectory(parts.db);
  // Before the first call is served: the migrations, and Redis's first connection attempt (up or really down).
  const ready = async () => {
    await Promise.all([parts.prepare({ waitForPostgresMs: 0 }), firstConnection]);
  };

  /** Puts the job where the row says; a Redis outage leaves it to the scheduler's reconcile (invariant 1). */
  async function schedule(
    prepared: PreparedConnection,
    connectionId: string,
  ): Promise<EnqueueConnectionResult['scheduling']> {
    const [outcome] = await queues.scheduleMany([jobOf(prepared, connectionId)], { concurrency: 1 });
    return schedulingOf(prepared, connectionId, outcome!);
  }

  const jobOf = (prepared: PreparedConnection, connectionId: string): ScheduleItem => ({
    provider: prepared.provider.id,
    connectionId,
    runAt: prepared.plan.refreshAt,
  });

  function schedulingOf(
    prepared: PreparedConnection,
    connectionId: string,
    outcome: ScheduleManyResult,
  ): EnqueueConnectionResult['scheduling'] {
    if (prepared.plan.refreshAt === null) return 'not_needed';
    if (outcome.status === 'fulfilled') return 'scheduled';
    log.warn(
      { connection: connectionId, provider: prepared.provider.id, err: safeError(outcome.reason) },
      'scheduling deferred to the reconcile',
    );
    return 'pending';
  }

  const result = (
    prepared: PreparedConnection,
    connectionId: string,
    scheduling: EnqueueConnectionResult['scheduling'],
    created: boolean,
  ): EnqueueConnectionResult => ({
    connectionId,
    status: 'connected' as const,
    expiresAt: prepared.row.expiresAt ?? null,
    refreshAt: prepared.row.refreshAt ?? null,
    scheduling,
    created,
  });

  async function enqueueConnection(
    raw: EnqueueConnectionInput,
    { reconnect = false }: { reconnect?: boolean } = {},
  ): Promise<EnqueueConnectionResult> {
    const prepared = prepareConnection(raw, providers, config.refresh, Date.now());
    // The connect flow's write: the same row, encryption, schedule and events, plus connection.reconnected.
    if (reconnect) prepared.row.reconnect = true;
    await ready();
    const stored = await store.upsert(prepared.row);
    return result(prepared, stored.connectionId, await schedule(prepared, stored.connectionId), stored.created);
  }

  async function enqueueConnections(
    inputs: readonly EnqueueConnectionInput[],
    { batchSize = 1_000, keepCurrent = false, notBefore }: BulkEnqueueOptions = {},
  ): Promise<BulkEnqueueResult> {
    await ready();
    const results: BulkItemResult[] = [];
    // Batch k's jobs go to Redis while batch k+1 is validated, encrypted and written to Postgres: the two stores work
    // side by side instead of in turn. At most one batch is scheduling at a time, so memory stays bounded.
    let scheduling: Promise<void> = Promise.resolve();
    for (let start = 0; start < inputs.length; start += batchSize) {
      const batch: PreparedItem[] = [];
      const now = Date.now();
      inputs.slice(start, start + batchSize).forEach((raw, offset) => {
        const index = start + offset;
        try {
          const prepared = prepareConnection(raw, providers, config.refresh, now, `enqueueConnections[${index}]`);
          batch.push({ index, prepared: notBefore ? holdUntil(prepared, notBefore.getTime()) : prepared });
        } catch (error) {
          results.push({ index, ok: false, error: describe(error) });
        }
      });
      const written = await store.upsertMany(
        batch.map((b) => b.prepared.row),
        { keepCurrent },
      );
      const fresh: WrittenItem[] = [];
      const existing: WrittenItem[] = [];
      for (const w of written) {
        const item = batch[w.index]!;
        if (!w.ok) {
          results.push({
            index: item.index,
            ok: false,
            error: {
              code: 'ERR_INVALID_INPUT',
              message: `${w.field}: ${w.reason}`,
              issues: [{ field: w.field, reason: w.reason }],
            },
          });
        } else if ('unchanged' in w) {
          results.push({
            index: item.index,
            ok: true,
            connectionId: w.connectionId,
            status: w.status as ConnectionStatus,
            expiresAt: w.expiresAt,
            refreshAt: w.refreshAt,
            scheduling: w.refreshAt === null ? 'not_needed' : 'scheduled',
            created: false,
            unchanged: true,
          });
        } else (w.created ? fresh : existing).push({ item, connectionId: w.connectionId });
      }
      await scheduling;
      scheduling = scheduleBatch(fresh, existing, results);
      scheduling.catch(() => {}); // surfaces at the next await; never an unhandled rejection meanwhile
    }
    await scheduling;
    results.sort((a, b) => a.index - b.index);
    const succeeded = results.filter((r) => r.ok).length;
    return { results, succeeded, failed: results.length - succeeded };
  }

  /** No refresh before `notBefore`: those due earlier are spread over the jitter after it, not all at one instant. */
  function holdUntil(prepared: PreparedConnection, notBefore: number): PreparedConnection {
    const at = prepared.plan.refreshAt;
    if (at === null || at >= notBefore) return prepared;
    const held = notBefore + Math.floor(Math.random() * config.refresh.jitterMs);
    return {
      ...prepared,
      plan: { ...prepared.plan, refreshAt: held },
      row: { ...prepared.row, refreshAt: new Date(held) },
    };
  }

  type PreparedItem = { index: number; prepared: PreparedConnection };
  type WrittenItem = { item: PreparedItem; connectionId: string };

  /** New connections: one addBulk per provider queue. Existing ones may have a job in any state: move each. */
  async function scheduleBatch(
    fresh: readonly WrittenItem[],
    existing: readonly WrittenItem[],
    results: BulkItemResult[],
  ): Promise<void> {
    let redisUp = true;
    const byProvider = new Map<string, WrittenItem[]>();
    for (const f of fresh) {
      if (f.item.prepared.plan.refreshAt === null) continue;
      const group = byProvider.get(f.item.prepared.provider.id);
      if (group) group.push(f);
      else byProvider.set(f.item.prepared.provider.id, [f]);
    }
    for (const [provider, group] of byProvider) {
      try {
        const now = Date.now();
        await queues.addBulk(
          provider,
          group.map((g) => refreshJob(g.connectionId, g.item.prepared.plan.refreshAt as number, now)),
        );
      } catch (error) {
        redisUp = false;
        log.warn({ provider, count: group.length, err: safeError(error) }, 'bulk scheduling deferred to the reconcile');
      }
    }
    for (const f of fresh) {
      const refreshAt = f.item.prepared.plan.refreshAt;
      const scheduling = refreshAt === null ? 'not_needed' : redisUp ? 'scheduled' : 'pending';
      results.push({ index: f.item.index, ok: true, ...result(f.item.prepared, f.connectionId, scheduling, true) });
    }
    const moved = await queues.scheduleMany(
      existing.map((e) => jobOf(e.item.prepared, e.connectionId)),
      { concurrency: 50 },
    );
    existing.forEach((e, i) => {
      const scheduling = schedulingOf(e.item.prepared, e.connectionId, moved[i]!);
      results.push({ index: e.item.index, ok: true, ...result(e.item.prepared, e.connectionId, scheduling, false) });
    });
  }

  /** The id of a connection named by id or by the pair it was enqueued for. */
  async function idOf(ref: ConnectionRef): Promise<string> {
    if (typeof ref === 'string') return ref;
    const page = await directory.list({ ownerId: ref.ownerId, provider: ref.provider }, { limit: 2 });
    if (page.items.length === 0) throw new ConnectionNotFoundError(refName(ref));
    if (page.items.length > 1) throw new AmbiguousConnectionError(ref.ownerId, ref.provider);
    return page.items[0]!.connectionId;
  }

  async function withFreshToken<T>(
    connectionId: string,
    fn: (token: string) => Promise<T> | T,
    tokenOptions?: TokenOptions,
  ): Promise<T> {
    const token = await onDemand.validToken(connectionId, tokenOptions);
    try {
      const first = await fn(token);
      if (!isUnauthorized(first)) return first;
    } catch (error) {
      if (!isUnauthorized(error)) throw error;
    }
    // The provider's API said 401: the token is dead whatever its expiry says (reference 002's reactive path). Once.
    return fn(await onDemand.replaceToken(connectionId, token, tokenOptions));
  }

  async function disconnect(
    connectionId: string,
    disconnectOptions: DisconnectOptions = {},
  ): Promise<DisconnectResult> {
    await ready();
    let revocation: Revocation | undefined;
    let view: ConnectionView | null;
    if (disconnectOptions.revoke === true) {
      // Under the refresh lock: a refresh in flight would otherwise rotate the refresh token being revoked, and the
      // new one would outlive the disconnect at the provider. Read before the wipe: afterwards nothing is left.
      view = await whileLocked(parts.producer.lock, connectionId, revokeLockTiming(config), async (locked) => {
        const row = await store.find(connectionId);
        if (!row) throw new ConnectionNotFoundError(connectionId);
        if (!locked) log.warn({ connection: connectionId }, 'revoking without the connection lock');
        revocation = await revokeGrant({ tokens: parts.tokens, log }, providers.get(row.provider), row);
        return store.disconnect(connectionId);
      });
    } else {
      view = await store.disconnect(connectionId);
    }
    if (!view) throw new ConnectionNotFoundError(connectionId);
    await queues.unschedule(view.provider, connectionId).catch((error: unknown) => {
      // A job left behind finds the row disconnected and ends itself.
      log.warn({ connection: connectionId, err: safeError(error) }, 'job removal deferred');
    });
    return revocation === undefined ? view : { ...view, revocation };
  }

  async function getConnection(connectionId: string): Promise<ConnectionView> {
    await ready();
    const view = await store.view(connectionId);
    if (!view) throw new ConnectionNotFoundError(connectionId);
    return view;
  }

  async function updateMetadata(
    connectionId: string,
    patch: Readonly<Record<string, unknown>>,
  ): Promise<ConnectionView> {
    await ready();
    const view = await store.view(connectionId);
    if (!view) throw new ConnectionNotFoundError(connectionId);
    const set: Record<string, unknown> = {};
    const remove: string[] = [];
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) remove.push(key);
      else set[key] = value;
    }
    const merged: Record<string, unknown> = { ...view.metadata, ...set };
    for (const key of remove) delete merged[key];
    const checked = readMetadata(merged);
    if (!checked.ok) throw new InvalidInputError('updateMetadata', [{ field: 'metadata', reason: checked.reason }]);
    const provider = providers.get(view.provider);
    const template = provider ? renewalUrlTemplate(provider) : null;
    if (provider && template !== null) {
      const target = resolveTokenUrl({ ...provider, tokenUrl: template }, checked.value);
      if (!target.ok) {
        const field = target.field === 'tokenUrl' ? 'metadata' : target.field;
        throw new InvalidInputError('updateMetadata', [{ field, reason: target.reason }]);
      }
    }
    const updated = await store.updateMetadata(connectionId, set, remove);
    if (!updated) throw new ConnectionNotFoundError(connectionId);
    return updated;
  }

  async function forceRefresh(
    connectionId: string,
    refreshOptions?: Pick<TokenOptions, 'timeoutMs'>,
  ): Promise<ConnectionView> {
    await ready();
    await onDemand.forceRefresh(connectionId, refreshOptions);
    return getConnection(connectionId);
  }

  async function subscribe(
    handler: EventHandler,
    subscribeOptions: { kinds?: readonly EventKind[] } = {},
  ): Promise<() => Promise<void>> {
    await ready();
    const kinds = subscribeOptions.kinds ? new Set<string>(subscribeOptions.kinds) : null;
    return store.subscribe((event) => {
      if (kinds && !kinds.has(event.kind)) return;
      Promise.resolve(handler(event)).catch((error: unknown) =>
        log.error({ err: safeError(error), event: event.id }, 'event handler failed'),
      );
    });
  }

  let connectFlow: ConnectFlow | undefined;
  /** Built on first use: most clients never connect anyone, and discovery and JWKS caches live as long as it does. */
  function connect(): ConnectFlow {
    const timeouts = { timeoutMs: config.http.deadlineMs };
    return (connectFlow ??= new ConnectFlow({
      sessions: new ConnectSessions(parts.db, config.keyring),
      providers,
      tokens: parts.tokens,
      discovery: new OidcDiscovery(timeouts),
      idTokens: new IdTokenVerifier(timeouts),
      config: config.connect,
      classifyPolicy: config.refresh.classify,
      findConnection: (id) => store.view(id),
      store: (input, storeOptions) => enqueueConnection(input, storeOptions),
      log: parts.log.child({ component: 'connect' }),
    }));
  }

  async function close(): Promise<void> {
    if (options.parts === undefined) await parts.close();
  }

  return {
    enqueueConnection: (input) => enqueueConnection(input),
    enqueueConnections,
    getValidAccessToken: async (ref, o) => {
      await ready();
      return (await onDemand.validRow(await idOf(ref), o)).accessToken as string;
    },
    getValidToken: async (ref, o) => {
      await ready();
      const row = await onDemand.validRow(await idOf(ref), o);
      const accessToken = row.accessToken as string;
      return {
        accessToken,
        expiresAt: row.expiresAt,
        scopes: row.scopes,
        provider: row.provider,
        // A row whose provider left the configuration was stored by an OAuth grant or a static one; only the
        // configuration can say which, and without it the token is all there is: serve it as a bearer token.
        ...serveCredential(providers.get(row.provider) ?? BEARER, accessToken),
      };
    },
    withFreshToken: async (ref, fn, o) => (await ready(), withFreshToken(await idOf(ref), fn, o)),
    forceRefresh,
    disconnect,
    getConnection,
    updateMetadata,
    subscribe,
    createConnectSession: async (input) => (await ready(), connect().start(input)),
    completeConnectSession: async (query) => (await ready(), connect().callback(query)),
    close,
  };
}

/**
 * The remote mode's options, or null for the direct mode. The environment is read here, not through the config
 * schema: that schema requires the database and keys the remote mode exists to do without.
 */
function remoteOptions(options: EvergreenOptions): RemoteOptions | null {
  const timeout = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  if (options.url !== undefined || options.apiKey !== undefined) {
    const issues = [
      ...(options.url ? [] : [{ field: 'url', reason: 'is required with apiKey' }]),
      ...(options.apiKey ? [] : [{ field: 'apiKey', reason: 'is required with url' }]),
    ];
    if (issues.length > 0) throw new ConfigError(issues);
    return { url: options.url!, apiKey: options.apiKey!, ...timeout };
  }
  if (options.config !== undefined || options.parts !== undefined) return null;
  const fromEnv = remoteOptionsFromEnv(process.env);
  return fromEnv && { ...fromEnv, ...timeout };
}

/** Called bare, the client opens parts of its own; it closes them in `close()`. */
function openOwnParts(options: EvergreenOptions): EvergreenParts {
  const config = options.config ?? loadConfig();
  return openEvergreen(config, { log: options.logger ?? createLogger({ level: config.logLevel }) });
}

function describe(error: unknown): { code: string; message: string; issues: { field: string; reason: string }[] } {
  if (error instanceof EvergreenError) {
    const issues = (error as { issues?: { field: string; reason: string }[] }).issues ?? [];
    return { code: error.code, message: error.message, issues: [...issues] };
  }
  throw error;
}
