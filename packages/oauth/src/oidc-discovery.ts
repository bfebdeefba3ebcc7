import { tokenUrlProblem } from '@evergreen/core';
import { request } from 'undici';

/** What Evergreen reads from an issuer's `/.well-known/openid-configuration` (OpenID Connect Discovery 1.0 §3). */
export interface OidcConfiguration {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  revocationEndpoint: string | null;
}

export type DiscoveryResult = { ok: true; configuration: OidcConfiguration } | { ok: false; reason: string };

/** A discovery document is small; a larger answer is not one. */
const MAX_DOCUMENT_BYTES = 256 * 1024;

/**
 * Reads issuers' discovery documents, once per issuer while they answer (a failure is forgotten, so the next call
 * asks again). Checks what §4.3 demands: the document names the same issuer; and holds its endpoints to the token URL
 * rule (https, plain http on loopback only). Never throws: a failure is a reason.
 */
export class OidcDiscovery {
  readonly #cache = new Map<string, Promise<DiscoveryResult>>();
  readonly #timeoutMs: number;

  constructor(options: { timeoutMs: number }) {
    this.#timeoutMs = options.timeoutMs;
  }

  discover(issuer: string): Promise<DiscoveryResult> {
    let pending = this.#cache.get(issuer);
    if (!pending) {
      pending = this.#fetch(issuer).then((result) => {
        if (!result.ok) this.#cache.delete(issuer);
        return result;
      });
      this.#cache.set(issuer, pending);
    }
    return pending;
  }

  async #fetch(issuer: string): Promise<DiscoveryResult> {
    // §4: the path is appended to the issuer, keeping any path it has.
    const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    let text: string;
    try {
      const response = await request(url, {
        signal: AbortSignal.timeout(this.#timeoutMs),
        headers: { accept: 'application/json' },
      });
      const body = await response.body.text();
      if (response.statusCode !== 200) return { ok: false, reason: `discovery answered HTTP ${response.statusCode}` };
      if (body.length > MAX_DOCUMENT_BYTES) return { ok: false, reason: 'discovery document too large' };
      text = body;
    } catch {
      return { ok: false, reason: 'discovery document unreachable' };
    }
    return parseDiscoveryDocument(issuer, text);
  }
}

/** Pure: the document's fields Evergreen uses, checked. */
export function parseDiscoveryDocument(issuer: string, text: string): DiscoveryResult {
  let doc: Record<string, unknown>;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    doc = parsed as Record<string, unknown>;
  } catch {
    return { ok: false, reason: 'discovery document is not a JSON object' };
  }
  if (doc.issuer !== issuer) return { ok: false, reason: 'discovery document names another issuer' };
  const endpoint = (name: string, required: boolean): string | null | { problem: string } => {
    const value = doc[name];
    if (value === undefined || value === null)
      return required ? { problem: `discovery document has no ${name}` } : null;
    if (typeof value !== 'string') return { problem: `discovery document's ${name} is not a string` };
    const problem = tokenUrlProblem(value);
    return problem ? { problem: `discovery document's ${name} ${problem}` } : value;
  };
  const fields = {
    authorizationEndpoint: endpoint('authorization_endpoint', true),
    tokenEndpoint: endpoint('token_endpoint', true),
    jwksUri: endpoint('jwks_uri', true),
    revocationEndpoint: endpoint('revocation_endpoint', false),
  };
  for (const value of Object.values(fields)) {
    if (typeof value === 'object' && value !== null) return { ok: false, reason: value.problem };
  }
  return {
    ok: true,
    configuration: {
      issuer,
      authorizationEndpoint: fields.authorizationEndpoint as string,
      tokenEndpoint: fields.tokenEndpoint as string,
      jwksUri: fields.jwksUri as string,
      revocationEndpoint: fields.revocationEndpoint as string | null,
    },
  };
}
