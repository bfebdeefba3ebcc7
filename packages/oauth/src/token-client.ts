import { randomUUID } from 'node:crypto';
import type { CredentialCheck, ProviderDefinition, TokenEndpointReply } from '@evergreen/core';
import { buildCheckRequest } from './check-request.ts';
import { signAppJwt, signGrantAssertion } from './grant-assertion.ts';
import { importPKCS8, SignJWT, type CryptoKey } from 'jose';
import { Agent, request, type Dispatcher } from 'undici';
import { buildCodeRequest, type CodeRequestContext } from './code-request.ts';
import { buildRevocationRequest, type RevocationContext } from './revocation-request.ts';
import { classifyRevocation, type RevocationOutcome } from './revocation-outcome.ts';
import { buildTokenRequest, type TokenRequestContext } from './token-request.ts';

export interface TokenClientOptions {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** The whole exchange; must stay below the refresh lock's TTL. */
  deadlineMs: number;
  maxResponseBytes: number;
  /** Tests may route through a MockAgent; production builds its own pooled Agent. */
  dispatcher?: Dispatcher;
}

export interface Exchange {
  reply: TokenEndpointReply;
  /** When the request started: expiry is counted from here, so time spent in flight is not credited to the token. */
  startedAt: number;
  durationMs: number;
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * Sends token requests and reports what came back as plain data. It never throws for anything the network or the
 * provider does, and never puts a token or a body into an error: the caller classifies.
 */
export class TokenClient {
  readonly #options: TokenClientOptions;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;

  constructor(options: TokenClientOptions) {
    this.#options = options;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connect: { timeout: options.connectTimeoutMs },
        headersTimeout: options.headersTimeoutMs,
        bodyTimeout: options.bodyTimeoutMs,
        keepAliveTimeout: 10_000,
      });
  }

  readonly #signingKeys = new Map<string, Promise<CryptoKey>>();

  /**
   * One token request for one connection: `url` is the provider's token URL with the connection's metadata filled
   * in (`resolveTokenUrl`), `context` its refresh token or credentials.
   */
  async request(
    provider: ProviderDefinition,
    url: string,
    context: Omit<TokenRequestContext, 'clientAssertion' | 'grantAssertion'> & GrantContext,
    signal?: AbortSignal,
  ): Promise<Exchange> {
    const grant = await grantAssertion(provider, url, context);
    if (grant === null) return unsigned('ERR_GRANT_ASSERTION');
    return this.#authenticatedPost(provider, url, signal, (assertion) =>
      buildTokenRequest(provider, { ...context, ...grant, ...assertion }),
    );
  }

  /**
   * One check of a static credential (`provider.check`) at `url` (the check URL filled in): same timeouts, size cap
   * and never-throw rule as a token request. The caller classifies (`classifyCheck`).
   */
  async check(
    provider: ProviderDefinition & { check: CredentialCheck },
    url: string,
    credential: string,
    signal?: AbortSignal,
  ): Promise<Exchange> {
    const built = buildCheckRequest(provider, url, credential);
    return this.#send(built.method, built.url, built.headers, undefined, signal);
  }

  /**
   * One authorization code exchange (RFC 6749 §4.1.3) at `url`, the provider's token URL: the same client
   * authentication, timeouts, size cap and never-throw rule as a refresh. The caller classifies the reply.
   */
  async exchangeCode(
    provider: ProviderDefinition,
    url: string,
    context: Omit<CodeRequestContext, 'clientAssertion'>,
    signal?: AbortSignal,
  ): Promise<Exchange> {
    return this.#authenticatedPost(provider, url, signal, (assertion) =>
      buildCodeRequest(provider, { ...context, ...assertion }),
    );
  }

  /**
   * The client authentication step both token requests share, then the request `build` makes with it: a
   * private_key_jwt assertion that cannot be signed is an answer (ERR_CLIENT_ASSERTION), never a throw.
   */
  async #authenticatedPost(
    provider: ProviderDefinition,
    url: string,
    signal: AbortSignal | undefined,
    build: (assertion: { clientAssertion?: string }) => {
      headers: Record<string, string>;
      body: string;
    },
  ): Promise<Exchange> {
    const assertion = await this.#clientAssertion(provider, url);
    if (!assertion) return unsigned('ERR_CLIENT_ASSERTION');
    const { headers, body } = build(assertion);
    return this.#post(url, headers, body, signal);
  }

  /**
   * One RFC 7009 revocation request to `url` (the provider's revocation URL filled in, `resolveRevocationUrl`), with
   * the same client authentication, timeouts and size cap as a token request. Never throws; the outcome is a value.
   */
  async revoke(
    provider: ProviderDefinition,
    url: string,
    context: Omit<RevocationContext, 'clientAssertion'>,
    signal?: AbortSignal,
  ): Promise<RevocationOutcome> {
    const assertion = await this.#clientAssertion(provider, url);
    if (!assertion) return { revoked: false, retryable: false, status: null, code: 'ERR_CLIENT_ASSERTION' };
    const { headers, body } = buildRevocationRequest(provider, { ...context, ...assertion });
    const exchange = await this.#post(url, headers, body, signal);
    return classifyRevocation(exchange.reply);
  }

  /**
   * The client assertion a request to `url` carries: none unless `provider` authenticates with private_key_jwt, and
   * `null` when signing fails. Configuration checks the key at start; should signing still fail, the caller reports it
   * as data, never throws.
   */
  async #clientAssertion(provider: ProviderDefinition, url: string): Promise<{ clientAssertion?: string } | null> {
    if (provider.clientAuth !== 'private_key_jwt') return {};
    try {
      return { clientAssertion: await this.#assertion(provider, url) };
    } catch {
      this.#signingKeys.delete(provider.id);
      return null;
    }
  }

  /** RFC 7523 §3: a short-lived, single-use assertion signed with the provider's private key (jose). */
  async #assertion(provider: ProviderDefinition, url: string): Promise<string> {
    let key = this.#signingKeys.get(provider.id);
    if (!key) {
      key = importPKCS8(provider.privateKey ?? '', provider.privateKeyAlgorithm);
      this.#signingKeys.set(provider.id, key);
    }
    const clientId = provider.clientId ?? '';
    return new SignJWT({})
      .setProtectedHeader({
        alg: provider.privateKeyAlgorithm,
        typ: 'JWT',
        ...(provider.keyId && { kid: provider.keyId }),
      })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(provider.assertionAudience ?? url)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(await key);
  }

  #post(url: string, headers: Record<string, string>, body: string, signal?: AbortSignal): Promise<Exchange> {
    return this.#send('POST', url, headers, body, signal);
  }

  async #send(
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    signal?: AbortSignal,
  ): Promise<Exchange> {
    const startedAt = Date.now();
    const deadline = AbortSignal.timeout(this.#options.deadlineMs);
    const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
    const done = (reply: TokenEndpointReply): Exchange => ({ reply, startedAt, durationMs: Date.now() - startedAt });
    try {
      const response = await request(url, {
        method,
        headers,
        ...(body !== undefined && { body }),
        signal: combined,
        dispatcher: this.#dispatcher,
        headersTimeout: this.#options.headersTimeoutMs,
        bodyTimeout: this.#options.bodyTimeoutMs,
      });
      const { text, truncated } = await readCapped(response.body, this.#options.maxResponseBytes);
      return done({
        kind: 'response',
        status: response.statusCode,
        headers: flattenHeaders(response.headers),
        body: text,
        truncated,
      });
    } catch (error) {
      return done(networkReply(error, deadline.aborted));
    }
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }
}

/** What a grant's own signature needs beyond the request context: the assertion's audience, filled in. */
export interface GrantContext {
  /** jwt_bearer: `aud`, from the connection's metadata and the provider's template; the token URL when absent. */
  assertionAudience?: string;
}

/**
 * The grant's signed JWT, for the grants that need one (jwt_bearer, github_app_installation); `{}` for the others and
 * null when it cannot be signed (a key that reads but cannot sign with the algorithm asked for).
 */
async function grantAssertion(
  provider: ProviderDefinition,
  url: string,
  context: Pick<TokenRequestContext, 'credentials' | 'scopes'> & GrantContext,
): Promise<{ grantAssertion?: string } | null> {
  const credentials = context.credentials ?? {};
  try {
    if (provider.grant === 'github_app_installation') {
      return { grantAssertion: await signAppJwt(provider, credentials, Date.now()) };
    }
    if (provider.grant !== 'jwt_bearer') return {};
    const audience = credentials.audience ?? context.assertionAudience ?? url;
    const scope =
      provider.assertionScope === 'claim' && context.scopes.length > 0 ? context.scopes.join(' ') : undefined;
    return {
      grantAssertion: await signGrantAssertion(
        provider,
        credentials,
        { audience, ...(scope !== undefined && { scope }) },
        Date.now(),
      ),
    };
  } catch {
    return null;
  }
}

/** A request never sent because its JWT could not be signed: an answer, never a throw. */
function unsigned(code: string): Exchange {
  return { reply: { kind: 'network', timeout: false, code }, startedAt: Date.now(), durationMs: 0 };
}

async function readCapped(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) {
      chunks.push(buffer.subarray(0, buffer.length - (size - maxBytes)));
      // Stop reading: a provider (or an attacker between us) must not make us buffer an unbounded body.
      body.destroy();
      return { text: Buffer.concat(chunks).toString('utf8'), truncated: true };
    }
    chunks.push(buffer);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: false };
}

function flattenHeaders(headers: Dispatcher.ResponseData['headers']): Record<string, string | undefined> {
  const flat: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(headers)) {
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function networkReply(error: unknown, deadlinePassed: boolean): TokenEndpointReply {
  const e = error as { code?: unknown; name?: unknown; cause?: { code?: unknown } };
  const code = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : null;
  const timeout = deadlinePassed || e.name === 'TimeoutError' || (code !== null && TIMEOUT_CODES.has(code));
  return { kind: 'network', timeout, code };
}
