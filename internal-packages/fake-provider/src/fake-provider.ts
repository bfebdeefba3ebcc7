import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authenticateClient, sameText } from './client-auth.ts';
import { CredentialEndpoints, type GrantAnswer, type Reply } from './credential-endpoints.ts';
import type { ClientAuthResult, ClientCredentials } from './client-auth.ts';
import { FaultSchedule, faultAction } from './faults.ts';
import type { Fault, FaultAction, FaultShare } from './faults.ts';
import { GrantStore } from './grant-store.ts';
import type { GrantSnapshot, IssueResult } from './grant-store.ts';
import { mintLoginJwt } from './login-jwt.ts';
import { checkLifetime, resolveOptions } from './options.ts';
import type { FakeProviderOptions, ResolvedOptions } from './options.ts';
import { PrivateKeyJwtVerifier } from './private-key-jwt.ts';
import { readTokenRequest } from './token-request.ts';
import type { TokenRequestBody } from './token-request.ts';
import type { RevocationRecord } from './revocation-record.ts';
import type { TokenRequestOutcome, TokenRequestRecord } from './token-request-record.ts';
import { acceptsJson, invalidClient, invalidGrant, renderFields, successFields } from './token-response.ts';
import type { Fields, IssuedTokens } from './token-response.ts';

export type { FakeProviderOptions } from './options.ts';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
  outcome: TokenRequestOutcome;
  grantId: string | null;
}

const HOST = '127.0.0.1';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JSON_TYPE = 'application/json; charset=utf-8';
// RFC 6749 §5.1: token responses, errors included, must never be cached by anything in between.
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

type Endpoint = 'token' | 'login';

/**
 * An OAuth 2.0 authorization server's token endpoint (RFC 6749 §6, the refresh grant) on 127.0.0.1, for tests,
 * chaos runs, benchmarks and the demo, with options for the documented quirks of real providers. Never for
 * production: it keeps every token in memory and in `requests`.
 */
export class FakeProvider {
  readonly url: string;
  readonly tokenUrl: string;
  /** RFC 7009 revocation endpoint: revokes the grant of the refresh or access token presented. */
  readonly revocationUrl: string;

  readonly #server: Server;
  readonly #store: GrantStore;
  readonly #faults = new FaultSchedule();
  readonly #requests: TokenRequestRecord[] = [];
  readonly #revocations: RevocationRecord[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #credentials: ClientCredentials;
  readonly #options: ResolvedOptions;
  readonly #assertions: PrivateKeyJwtVerifier | null;
  /** JWT bearer and token exchange grants, GitHub App installation tokens, the API-key check; records of each. */
  readonly credentialEndpoints: CredentialEndpoints;
  #accessTokenLifetime: number;
  #closing: Promise<void> | null = null;

  private constructor(server: Server, options: ResolvedOptions) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://${HOST}:${port}`;
    this.tokenUrl = `${this.url}/token`;
    this.revocationUrl = `${this.url}/revoke`;
    this.#server = server;
    this.#options = options;
    this.#credentials = { clientId: options.clientId, clientSecret: options.clientSecret, accepts: options.clientAuth };
    this.#assertions =
      options.privateKeyJwt === null
        ? null
        : new PrivateKeyJwtVerifier(
            options.privateKeyJwt.publicKey,
            options.clientId,
            options.privateKeyJwt.audience ?? this.tokenUrl,
          );
    this.#accessTokenLifetime = options.accessTokenLifetime;
    this.#store = new GrantStore({
      rotation: options.rotation,
      revokeOnReuse: options.revokeOnReuse,
      reuseGraceSeconds: options.reuseGraceSeconds,
    });
    this.credentialEndpoints = new CredentialEndpoints(this.#store, options.credentialOptions);
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#route(req, res));
  }

  /** Throws a RangeError, before listening, for any option that could only be a mistake. */
  static async start(options: FakeProviderOptions = {}): Promise<FakeProvider> {
    const resolved = resolveOptions(options);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(resolved.port, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new FakeProvider(server, resolved);
  }

  /** Mints a grant as if a user had just completed the authorization code flow. */
  issue(options: { expiresIn?: number; scope?: string } = {}): IssueResult {
    const expiresIn = options.expiresIn ?? this.#accessTokenLifetime;
    checkLifetime(expiresIn);
    return this.#store.issue(expiresIn, options.scope ?? null);
  }

  /**
   * Makes the server forget one refresh token, as if it never committed the rotation that issued it: presenting it
   * gets invalid_grant, and the token it replaced is current and unused again.
   */
  forgetRefreshToken(token: string): void {
    this.#store.forgetRefreshToken(token);
  }

  revoke(grantId: string): void {
    this.#store.revoke(grantId);
  }

  injectFaults(faults: Fault[]): void {
    this.#faults.inject(faults);
  }

  /** Every request from now on gets `fault` (null: none), or a random `share.fraction` of them. */
  setFaultForAll(fault: Fault | null, share?: FaultShare): void {
    this.#faults.setForAll(fault, share);
  }

  /** Applies to tokens minted from now on; tokens already out keep the expiry they were given. */
  setAccessTokenLifetime(seconds: number): void {
    checkLifetime(seconds);
    this.#accessTokenLifetime = seconds;
  }

  get requests(): readonly TokenRequestRecord[] {
    return this.#requests;
  }

  /** Requests to /revoke, in order. */
  get revocations(): readonly RevocationRecord[] {
    return this.#revocations;
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
    const endpoint: Endpoint | null =
      path === '/token' || path.endsWith('/token')
        ? 'token'
        : path === this.#options.loginEndpoint?.path
          ? 'login'
          : null;
    if (endpoint !== null) {
      this.#handle(req, res, endpoint).catch(() => res.destroy());
      return;
    }
    if (path === '/revoke') {
      this.#handleRevocation(req, res).catch(() => res.destroy());
      return;
    }
    const installation = /^\/app\/installations\/([^/]+)\/access_tokens$/.exec(path);
    if (installation) {
      const id = decodeURIComponent(installation[1] ?? '');
      this.#handleCredential(req, res, () =>
        this.credentialEndpoints.installationToken(req.method, req.headers.authorization, id),
      );
      return;
    }
    if (path === '/check' && this.credentialEndpoints.checkEnabled) {
      const url = new URL(req.url ?? '/', this.url);
      this.#handleCredential(req, res, () => this.credentialEndpoints.check(url, req.headers));
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

  /** The request's body; null when the client went away mid-body: there is nobody to answer and nothing was asked. */
  async #readBody(req: IncomingMessage): Promise<TokenRequestBody | null> {
    try {
      return await readTokenRequest(req);
    } catch {
      return null;
    }
  }

  async #handle(req: IncomingMessage, res: ServerResponse, endpoint: Endpoint): Promise<void> {
    const at = Date.now();
    const body = await this.#readBody(req);
    if (!body) return;
    const params = endpoint === 'token' && body.kind === 'params' ? body.params : new Map<string, string>();
    const presented = params.get(this.#options.request.refreshToken) ?? null;
    const grantTypeField = this.#options.request.grantType;
    const grantType = grantTypeField === null ? null : (params.get(grantTypeField) ?? null);
    const scope = params.get('scope') ?? null;
    // Looked up without touching grant state, so fault records still say whose token was in flight.
    const knownGrant = presented === null ? null : (this.#store.grantIdForRefreshToken(presented) ?? null);
    const record = (status: number, outcome: TokenRequestOutcome, grantId: string | null, fault: Fault | null) => {
      this.#requests.push({
        at,
        grantId,
        refreshTokenPresented: presented,
        grantType,
        scope,
        mediaType: (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase() || null,
        status,
        outcome,
        fault: fault?.kind ?? null,
      });
    };

    const fault = this.#faults.next();
    let faultDelayMs = 0;
    if (fault !== null) {
      const action = this.#faultAction(req, fault, endpoint);
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
          this.#answerLater(res, action.status, action.headers, action.body, this.#options.latencyMs);
          return;
        case 'delay':
          faultDelayMs = action.ms;
          break;
      }
    }

    // State changes now and only the answer waits, as on a real server: a client that times out during a delay
    // has still caused a rotation and lost the new refresh token, which is the case chaos runs need to provoke.
    const answer = endpoint === 'token' ? this.#process(req, body) : this.#processLogin(req, body);
    record(answer.status, answer.outcome, answer.grantId ?? knownGrant, fault);
    this.#answerLater(res, answer.status, answer.headers, answer.body, this.#options.latencyMs + faultDelayMs);
  }

  /**
   * RFC 7009 §2: the client authenticates as at /token; a known token's grant is revoked (a later refresh with its
   * refresh token gets invalid_grant); an unknown token gets 200 too (§2.2). Faults come from the same schedule as
   * /token's, since a provider that is down is down for both; `invalid-grant` does not apply here and is ignored.
   */
  async #handleRevocation(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const body = await this.#readBody(req);
    if (!body) return;
    const params = body.kind === 'params' ? body.params : new Map<string, string>();
    const token = params.get('token') ?? null;
    const grantId = token === null ? null : (this.#store.grantIdForToken(token) ?? null);
    const record = (status: number, outcome: RevocationRecord['outcome']): void => {
      this.#revocations.push({
        at,
        tokenPresented: token,
        tokenTypeHint: params.get('token_type_hint') ?? null,
        grantId,
        status,
        outcome,
      });
    };
    const fault = this.#faults.next();
    if (fault !== null && fault.kind !== 'invalid-grant') {
      const action = faultAction(fault);
      if (action.kind === 'hang') return record(0, 'fault');
      if (action.kind === 'reset') {
        record(0, 'fault');
        req.socket.destroy();
        return;
      }
      if (action.kind === 'reply') {
        record(action.status, 'fault');
        this.#answerLater(res, action.status, action.headers, action.body, this.#options.latencyMs);
        return;
      }
    }
    const answer = (status: number, outcome: RevocationRecord['outcome'], fields: Fields | null) => {
      record(status, outcome);
      const rendered =
        fields === null ? { status, headers: { ...NO_STORE }, body: '' } : this.#render(req, status, fields);
      this.#answerLater(res, rendered.status, rendered.headers, rendered.body, this.#options.latencyMs);
    };
    if (req.method !== 'POST' || body.kind === 'malformed' || token === null) {
      return answer(400, 'bad_request', { error: 'invalid_request' });
    }
    const auth = this.#authenticate(req, params);
    if (auth.kind === 'invalid_request') return answer(400, 'bad_request', { error: 'invalid_request' });
    if (auth.kind === 'invalid_client') return answer(401, 'bad_client', { error: 'invalid_client' });
    if (grantId === null) return answer(200, 'unknown_token', null);
    this.#store.revoke(grantId);
    answer(200, 'revoked', null);
  }

  /**
   * The GitHub installation endpoint and the credential check: JSON answers, with the same fault schedule as /token
   * (a provider that is down is down for these too; `invalid-grant` does not apply and is ignored).
   */
  #handleCredential(req: IncomingMessage, res: ServerResponse, answer: () => Reply): void {
    req.resume();
    req.once('end', () => {
      const fault = this.#faults.next();
      if (fault !== null && fault.kind !== 'invalid-grant') {
        const action = faultAction(fault);
        if (action.kind === 'hang') return;
        if (action.kind === 'reset') {
          req.socket.destroy();
          return;
        }
        if (action.kind === 'reply') {
          this.#answerLater(res, action.status, action.headers, action.body, this.#options.latencyMs);
          return;
        }
      }
      const { status, body } = answer();
      this.#answerLater(res, status, errorHeaders(), JSON.stringify(body), this.#options.latencyMs);
    });
  }

  /** `invalid-grant` imitates the endpoint's own "that credential is no good" answer, quirks included. */
  #faultAction(req: IncomingMessage, fault: Fault, endpoint: Endpoint): FaultAction {
    if (fault.kind !== 'invalid-grant') return faultAction(fault);
    const answer = endpoint === 'token' ? this.#invalidGrant(req, 'fault', null) : loginRefused();
    return { kind: 'reply', status: answer.status, headers: answer.headers, body: answer.body };
  }

  #process(req: IncomingMessage, body: TokenRequestBody): Answer {
    if (req.method !== 'POST') {
      const answer = this.#oauthError(req, 405, 'invalid_request', 'bad_request');
      answer.headers.allow = 'POST';
      return answer;
    }
    if (body.kind === 'malformed') return this.#oauthError(req, 400, 'invalid_request', 'bad_request');
    const { params } = body;

    const auth = this.#authenticate(req, params);
    if (auth.kind === 'invalid_request') return this.#oauthError(req, 400, 'invalid_request', 'bad_request');
    if (auth.kind === 'invalid_client') return this.#invalidClient(req, auth.challenge);

    const grantTypeField = this.#options.request.grantType;
    // A custom endpoint without a grant type only ever refreshes.
    const grantType = grantTypeField === null ? 'refresh_token' : params.get(grantTypeField);
    if (grantType === undefined) return this.#oauthError(req, 400, 'invalid_request', 'bad_request');
    if (grantType === 'refresh_token') return this.#refresh(req, params);
    if (grantType === 'client_credentials' && this.#options.clientCredentials)
      return this.#clientCredentials(req, params);
    if (grantType === 'password' && this.#options.passwordUsers !== null) return this.#password(req, params);
    const credentials = this.credentialEndpoints;
    if (grantType === JWT_BEARER_GRANT && credentials.jwtBearerEnabled) {
      const tokenUrl = new URL(req.url ?? '/token', this.url);
      return this.#granted(
        req,
        credentials.jwtBearerGrant(params, `${this.url}${tokenUrl.pathname}`, this.#accessTokenLifetime),
      );
    }
    if (grantType === TOKEN_EXCHANGE_GRANT && credentials.tokenExchangeEnabled) {
      return this.#granted(req, credentials.tokenExchange(params, this.#accessTokenLifetime));
    }
    return this.#oauthError(req, 400, 'unsupported_grant_type', 'bad_request');
  }

  /** `privateKeyJwt`, when configured, replaces every other method. */
  #authenticate(req: IncomingMessage, params: ReadonlyMap<string, string>): ClientAuthResult {
    const { authorization } = req.headers;
    if (this.#assertions === null) return authenticateClient(authorization, params, this.#credentials);
    if (this.#assertions.authenticate(authorization, params).kind === 'ok') return { kind: 'ok' };
    return { kind: 'invalid_client', challenge: authorization !== undefined };
  }

  #refresh(req: IncomingMessage, params: ReadonlyMap<string, string>): Answer {
    const presented = params.get(this.#options.request.refreshToken);
    if (presented === undefined) return this.#oauthError(req, 400, 'invalid_request', 'bad_request');
    if (this.#options.requireScope && !params.has('scope')) {
      return this.#oauthError(req, 400, 'invalid_request', 'bad_request');
    }
    for (const [key, value] of Object.entries(this.#options.requiredParams)) {
      if (params.get(key) !== value) return this.#oauthError(req, 400, 'invalid_request', 'bad_request');
    }

    const result = this.#store.refresh(presented, this.#accessTokenLifetime);
    if (result.kind !== 'ok') {
      return this.#invalidGrant(req, result.kind, result.kind === 'unknown_token' ? null : result.grantId);
    }
    // Without rotation the field is omitted, as Google does (the client must keep the refresh token it has), unless
    // the provider repeats the unchanged token, as HubSpot and Zendesk do.
    const refreshToken = result.refreshToken ?? (this.#options.echoRefreshToken ? presented : null);
    return this.#success(req, { ...result, refreshToken }, result.grantId);
  }

  /** A grant that answers an access token alone (RFC 7523, RFC 8693), or invalid_grant. */
  #granted(req: IncomingMessage, answer: GrantAnswer): Answer {
    if (answer.kind === 'invalid_grant') return this.#invalidGrant(req, 'bad_grant', null);
    const { accessToken, expiresIn, scope } = answer;
    return this.#success(req, { accessToken, refreshToken: null, expiresIn, scope }, null);
  }

  #clientCredentials(req: IncomingMessage, params: ReadonlyMap<string, string>): Answer {
    const expiresIn = this.#accessTokenLifetime;
    const accessToken = this.#store.issueAccessToken(expiresIn);
    return this.#success(req, { accessToken, refreshToken: null, expiresIn, scope: params.get('scope') ?? null }, null);
  }

  #password(req: IncomingMessage, params: ReadonlyMap<string, string>): Answer {
    const username = params.get('username');
    const password = params.get('password');
    if (username === undefined || password === undefined) {
      return this.#oauthError(req, 400, 'invalid_request', 'bad_request');
    }
    if (!this.#passwordMatches(username, password)) return this.#invalidGrant(req, 'bad_client', null);

    const expiresIn = this.#accessTokenLifetime;
    const scope = params.get('scope') ?? null;
    if (this.#options.passwordGrantIssuesRefreshToken) {
      const grant = this.#store.issue(expiresIn, scope);
      return this.#success(req, { ...grant, scope }, grant.grantId);
    }
    const accessToken = this.#store.issueAccessToken(expiresIn);
    return this.#success(req, { accessToken, refreshToken: null, expiresIn, scope }, null);
  }

  /** The non-OAuth JSON login: `{ [usernameField], [passwordField] }` in, `{ [tokenField]: <JWT> }` out. */
  #processLogin(req: IncomingMessage, body: TokenRequestBody): Answer {
    const login = this.#options.loginEndpoint;
    if (login === null) throw new Error('fake-provider: no login endpoint configured');
    if (req.method !== 'POST') {
      return {
        ...loginMessage(405, 'method not allowed', 'bad_request'),
        headers: { ...errorHeaders(), allow: 'POST' },
      };
    }
    if (body.kind === 'malformed') return loginMessage(400, 'invalid request', 'bad_request');
    const username = body.params.get(login.usernameField);
    const password = body.params.get(login.passwordField);
    if (username === undefined || password === undefined) return loginMessage(400, 'invalid request', 'bad_request');
    if (!this.#passwordMatches(username, password)) return loginRefused();

    const exp = Math.floor(Date.now() / 1000) + this.#accessTokenLifetime;
    const token = mintLoginJwt(username, exp);
    this.#store.recordAccessToken(token, exp * 1000);
    return {
      status: 200,
      headers: { 'content-type': JSON_TYPE, ...NO_STORE },
      body: JSON.stringify({ [login.tokenField]: token }),
      outcome: 'ok',
      grantId: null,
    };
  }

  #passwordMatches(username: string, password: string): boolean {
    const expected = this.#options.passwordUsers?.get(username);
    // Compared even for an unknown user, so the answer takes as long either way.
    const same = sameText(password, expected ?? '');
    return expected !== undefined && same;
  }

  #success(req: IncomingMessage, tokens: IssuedTokens, grantId: string | null): Answer {
    return { ...this.#render(req, 200, successFields(this.#options, tokens, Date.now())), outcome: 'ok', grantId };
  }

  #oauthError(req: IncomingMessage, status: number, error: string, outcome: TokenRequestOutcome): Answer {
    return { ...this.#render(req, status, { error }), outcome, grantId: null };
  }

  #invalidGrant(req: IncomingMessage, outcome: TokenRequestOutcome, grantId: string | null): Answer {
    const { status, fields } = invalidGrant(this.#options.errorStyle, this.#options.invalidGrantStatus);
    return { ...this.#render(req, status, fields), outcome, grantId };
  }

  #invalidClient(req: IncomingMessage, challenge: boolean): Answer {
    const { status, fields } = invalidClient(this.#options.errorStyle);
    const answer: Answer = { ...this.#render(req, status, fields), outcome: 'bad_client', grantId: null };
    if (challenge && status === 401) answer.headers['www-authenticate'] = 'Basic';
    return answer;
  }

  /** JSON, or a form when `responseFormat: 'form'` and the client did not ask for JSON (GitHub's default). */
  #render(req: IncomingMessage, status: number, fields: Fields): Pick<Answer, 'status' | 'headers' | 'body'> {
    const format = this.#options.responseFormat === 'form' && !acceptsJson(req.headers.accept) ? 'form' : 'json';
    const { contentType, body } = renderFields(fields, format);
    return { status, headers: { 'content-type': contentType, ...NO_STORE }, body };
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

function loginMessage(status: number, message: string, outcome: TokenRequestOutcome): Answer {
  return { status, headers: errorHeaders(), body: JSON.stringify({ message }), outcome, grantId: null };
}

function loginRefused(): Answer {
  return loginMessage(401, 'invalid credentials', 'bad_client');
}
