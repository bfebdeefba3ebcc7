import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticateClient } from './client-auth.ts';
import type { ClientAuthMethod, ClientCredentials } from './client-auth.ts';
import { FaultSchedule, faultAction } from './faults.ts';
import type { Fault } from './faults.ts';
import { GrantStore } from './grant-store.ts';
import type { GrantSnapshot, IssueResult } from './grant-store.ts';
import { readTokenRequest } from './token-request.ts';
import type { TokenRequestBody } from './token-request.ts';
import type { TokenRequestOutcome, TokenRequestRecord } from './token-request-record.ts';

export interface FakeProviderOptions {
  /** 0 (the default) lets the OS pick a free port, so parallel test files never collide. */
  port?: number;
  clientId?: string;
  clientSecret?: string;
  clientAuth?: ClientAuthMethod;
  accessTokenLifetimeSeconds?: number;
  rotateRefreshTokens?: boolean;
  revokeOnReuse?: boolean;
  /** The just-replaced refresh token still works this many seconds (default 0: strictly single use). */
  reuseGraceSeconds?: number;
  latencyMs?: number;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  outcome: TokenRequestOutcome;
  grantId: string | null;
}

const HOST = '127.0.0.1';
const JSON_TYPE = 'application/json; charset=utf-8';
// RFC 6749 §5.1: token responses, errors included, must never be cached by anything in between.
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * An OAuth 2.0 authorization server's token endpoint (RFC 6749 §6, the refresh grant) on 127.0.0.1, for tests,
 * chaos runs, benchmarks and the demo. Never for production: it keeps every token in memory and in `requests`.
 */
export class FakeProvider {
  readonly url: string;
  readonly tokenUrl: string;

  readonly #server: Server;
  readonly #store: GrantStore;
  readonly #faults = new FaultSchedule();
  readonly #requests: TokenRequestRecord[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #credentials: ClientCredentials;
  readonly #latencyMs: number;
  #accessTokenLifetime: number;
  #closing: Promise<void> | null = null;

  private constructor(server: Server, options: FakeProviderOptions) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://${HOST}:${port}`;
    this.tokenUrl = `${this.url}/token`;
    this.#server = server;
    this.#credentials = {
      clientId: options.clientId ?? 'client-id',
      clientSecret: options.clientSecret ?? 'client-secret',
      accepts: options.clientAuth ?? 'any',
    };
    this.#latencyMs = options.latencyMs ?? 0;
    this.#accessTokenLifetime = options.accessTokenLifetimeSeconds ?? 3600;
    this.#store = new GrantStore({
      rotateRefreshTokens: options.rotateRefreshTokens ?? true,
      revokeOnReuse: options.revokeOnReuse ?? true,
      reuseGraceSeconds: options.reuseGraceSeconds ?? 0,
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#route(req, res));
  }

  static async start(options: FakeProviderOptions = {}): Promise<FakeProvider> {
    const port = options.port ?? 0;
    if (!(Number.isInteger(port) && port >= 0 && port <= 65535))
      throw new RangeError(`fake-provider: bad port ${port}`);
    if (options.accessTokenLifetimeSeconds !== undefined) checkLifetime(options.accessTokenLifetimeSeconds);
    if (options.latencyMs !== undefined && !(Number.isFinite(options.latencyMs) && options.latencyMs >= 0)) {
      throw new RangeError(`fake-provider: latencyMs must be finite and non-negative, got ${options.latencyMs}`);
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FakeProvider(server, options);
  }

  /** Mints a grant as if a user had just completed the authorization code flow. */
  issue(options: { expiresIn?: number; scope?: string } = {}): IssueResult {
    const expiresIn = options.expiresIn ?? this.#accessTokenLifetime;
    checkLifetime(expiresIn);
    return this.#store.issue(expiresIn, options.scope ?? null);
  }

  revoke(grantId: string): void {
    this.#store.revoke(grantId);
  }

  injectFaults(faults: Fault[]): void {
    this.#faults.inject(faults);
  }

  setFaultForAll(fault: Fault | null): void {
    this.#faults.setForAll(fault);
  }

  /** Applies to tokens minted from now on; tokens already out keep the expiry they were given. */
  setAccessTokenLifetime(seconds: number): void {
    checkLifetime(seconds);
    this.#accessTokenLifetime = seconds;
  }

  get requests(): readonly TokenRequestRecord[] {
    return this.#requests;
  }

  grant(grantId: string): GrantSnapshot | undefined {
    return this.#store.grant(grantId);
  }

  grantIdForRefreshToken(token: string): string | undefined {
    return this.#store.grantIdForRefreshToken(token);
  }

  allIssuedTokens(): string[] {
    return this.#store.allIssuedTokens();
  }

  reuseCount(): number {
    return this.#store.reuseCount();
  }

  /** Presentations of a just-replaced refresh token forgiven by `reuseGraceSeconds`. */
  graceReuseCount(): number {
    return this.#store.graceReuseCount();
  }

  isAccessTokenValid(token: string): boolean {
    return this.#store.isAccessTokenValid(token);
  }

  /** Idempotent. Destroys open sockets, so hanging and delayed requests end at once instead of holding the test up. */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve, reject) => {
      for (const timer of this.#timers) clearTimeout(timer);
      this.#timers.clear();
      this.#server.close((error) => (error ? reject(error) : resolve()));
      this.#server.closeAllConnections();
    });
    return this.#closing;
  }

  #route(req: IncomingMessage, res: ServerResponse): void {
    let path: string;
    try {
      path = new URL(req.url ?? '/', this.url).pathname;
    } catch {
      // An unparseable request target must not crash the process that every other test shares.
      req.resume();
      send(res, 400, { 'content-type': JSON_TYPE }, '{"error":"invalid_request"}');
      return;
    }
    if (path === '/token') {
      this.#handleToken(req, res).catch(() => res.destroy());
      return;
    }
    req.resume();
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      send(res, 200, { 'content-type': JSON_TYPE }, '{"ok":true}');
    } else if (path === '/healthz') {
      send(res, 405, { 'content-type': JSON_TYPE, allow: 'GET, HEAD' }, '{"error":"method_not_allowed"}');
    } else {
      send(res, 404, { 'content-type': JSON_TYPE }, '{"error":"not_found"}');
    }
  }

  async #handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    let body: TokenRequestBody;
    try {
      body = await readTokenRequest(req);
    } catch {
      // The client went away mid-body: there is nobody to answer and nothing was asked.
      return;
    }
    const params = body.kind === 'params' ? body.params : new Map<string, string>();
    const presented = params.get('refresh_token') ?? null;
    // Looked up without touching grant state, so fault records still say whose token was in flight.
    const knownGrant = presented === null ? null : (this.#store.grantIdForRefreshToken(presented) ?? null);
    const record = (status: number, outcome: TokenRequestOutcome, grantId: string | null, fault: Fault | null) => {
      this.#requests.push({
        at,
        grantId,
        refreshTokenPresented: presented,
        status,
        outcome,
        fault: fault?.kind ?? null,
      });
    };

    const fault = this.#faults.next();
    let faultDelayMs = 0;
    if (fault !== null) {
      const action = faultAction(fault);
      switch (action.kind) {
        case 'hang':
          // Left open on purpose: only the client giving up or close() ends it.
          record(0, 'fault', knownGrant, fault);
          return;
        case 'reset':
          record(0, 'fault', knownGrant, fault);
          req.socket.destroy();
          return;
        case 'reply':
          record(action.status, 'fault', knownGrant, fault);
          this.#answerLater(res, action.status, action.headers, action.body, this.#latencyMs);
          return;
        case 'delay':
          faultDelayMs = action.ms;
          break;
      }
    }

    // State changes now and only the answer waits, as on a real server: a client that times out during a delay
    // has still caused a rotation and lost the new refresh token, which is the case chaos runs need to provoke.
    const answer = this.#process(req, body);
    record(answer.status, answer.outcome, answer.grantId ?? knownGrant, fault);
    this.#answerLater(res, answer.status, answer.headers, answer.body, this.#latencyMs + faultDelayMs);
  }

  #process(req: IncomingMessage, body: TokenRequestBody): Answer {
    if (req.method !== 'POST') {
      return { ...oauthError(405, 'invalid_request', 'bad_request'), headers: { ...errorHeaders(), allow: 'POST' } };
    }
    if (body.kind === 'malformed') return oauthError(400, 'invalid_request', 'bad_request');
    const { params } = body;

    const auth = authenticateClient(req.headers.authorization, params, this.#credentials);
    if (auth.kind === 'invalid_request') return oauthError(400, 'invalid_request', 'bad_request');
    if (auth.kind === 'invalid_client') {
      const answer = oauthError(401, 'invalid_client', 'bad_client');
      if (auth.challenge) answer.headers['www-authenticate'] = 'Basic';
      return answer;
    }

    const grantType = params.get('grant_type');
    if (grantType === undefined) return oauthError(400, 'invalid_request', 'bad_request');
    if (grantType !== 'refresh_token') return oauthError(400, 'unsupported_grant_type', 'bad_request');
    const presented = params.get('refresh_token');
    if (presented === undefined) return oauthError(400, 'invalid_request', 'bad_request');

    const result = this.#store.refresh(presented, this.#accessTokenLifetime);
    if (result.kind !== 'ok') {
      const grantId = result.kind === 'unknown_token' ? null : result.grantId;
      return { ...oauthError(400, 'invalid_grant', result.kind), grantId };
    }

    const reply: Record<string, string | number> = {
      access_token: result.accessToken,
      token_type: 'Bearer',
      expires_in: result.expiresIn,
    };
    // Without rotation the field is omitted, as Google does: the client must keep the refresh token it has.
    if (result.refreshToken !== null) reply.refresh_token = result.refreshToken;
    if (result.scope !== null) reply.scope = result.scope;
    return {
      status: 200,
      headers: { 'content-type': JSON_TYPE, ...NO_STORE },
      body: JSON.stringify(reply),
      outcome: 'ok',
      grantId: result.grantId,
    };
  }

  #answerLater(
    res: ServerResponse,
    status: number,
    headers: Record<string, string>,
    body: string,
    waitMs: number,
  ): void {
    if (this.#closing !== null) return;
    if (waitMs <= 0) {
      send(res, status, headers, body);
      return;
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      send(res, status, headers, body);
    }, waitMs);
    this.#timers.add(timer);
  }
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  // The client may have hung up during latency or a delay fault; writing then would only raise an error nobody reads.
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function errorHeaders(): Record<string, string> {
  return { 'content-type': JSON_TYPE, ...NO_STORE };
}

function oauthError(status: number, error: string, outcome: TokenRequestOutcome): Answer {
  return { status, headers: errorHeaders(), body: JSON.stringify({ error }), outcome, grantId: null };
}

function checkLifetime(seconds: number): void {
  if (!(Number.isInteger(seconds) && seconds >= 0)) {
    throw new RangeError(
      `fake-provider: an access token lifetime is a non-negative integer of seconds, got ${seconds}`,
    );
  }
}
