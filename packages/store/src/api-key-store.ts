import {
  ApiKeyNotFoundError,
  apiKeyMatches,
  generateApiKey,
  isApiKeyScope,
  parseApiKey,
  parseApiKeyInput,
  type ApiKeyInput,
  type ApiKeyPrincipal,
  type ApiKeyScope,
  type ApiKeySource,
} from '@evergreen/api-keys';
import { and, asc, eq, sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { throwsDatabaseErrors } from './database-error.ts';
import { apiKeys } from './schema.ts';

/** An API key as operators see it: never the key, never its hash. */
export interface ApiKeyView {
  id: string;
  name: string;
  scopes: ApiKeyScope[];
  providers: string[] | null;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A key just created: the only time the key itself exists outside the hands of whoever holds it. */
export interface CreatedApiKey extends ApiKeyView {
  key: string;
}

const viewColumns = {
  id: apiKeys.id,
  name: apiKeys.name,
  scopes: apiKeys.scopes,
  providers: apiKeys.providers,
  createdAt: apiKeys.createdAt,
  lastUsedAt: apiKeys.lastUsedAt,
  revokedAt: apiKeys.revokedAt,
};

/**
 * The `api_keys` table: create (the key is returned once, only its hash is written), list and revoke for operators,
 * and `verify` for the api role (through `ApiKeyVerifier`, which caches its answers for a couple of seconds).
 */
export class ApiKeyStore implements ApiKeySource {
  readonly #db: Database;
  readonly #lastUseEveryMs: number;

  /** `lastUseEveryMs`: how stale `last_used_at` may get before a verification writes it again (default a minute). */
  constructor(db: Database, options: { lastUseEveryMs?: number } = {}) {
    this.#db = db;
    this.#lastUseEveryMs = options.lastUseEveryMs ?? 60_000;
  }

  /** Checks the input (`InvalidInputError` naming `name`, `scopes`, `providers`), then stores a new key's hash. */
  async create(input: ApiKeyInput): Promise<CreatedApiKey> {
    const spec = parseApiKeyInput(input);
    const generated = generateApiKey();
    const [row] = await this.#db
      .insert(apiKeys)
      .values({ id: generated.id, secretHash: generated.secretHash, ...spec })
      .returning(viewColumns);
    return { ...toView(row!), key: generated.key };
  }

  /** Every key, revoked ones included, oldest first. */
  async list(): Promise<ApiKeyView[]> {
    const rows = await this.#db.select(viewColumns).from(apiKeys).orderBy(asc(apiKeys.createdAt), asc(apiKeys.id));
    return rows.map(toView);
  }

  /** Revokes a key; revoking it again changes nothing (the first `revokedAt` stays). Unknown id: `ApiKeyNotFoundError`. */
  async revoke(id: string): Promise<ApiKeyView> {
    const [row] = await this.#db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` })
      .where(eq(apiKeys.id, id))
      .returning(viewColumns);
    if (!row) throw new ApiKeyNotFoundError(id);
    return toView(row);
  }

  /**
   * The principal of a presented key, or null when it is malformed, unknown, revoked or its secret is wrong (one
   * answer for all four: a caller learns nothing about which). One indexed read; `last_used_at` is written only when
   * it is older than `lastUseEveryMs`, and then only if no other process wrote it meanwhile.
   */
  async verify(presentedKey: string): Promise<ApiKeyPrincipal | null> {
    const parsed = parseApiKey(presentedKey);
    if (parsed === null) return null;
    const stale = sql`now() - make_interval(secs => ${this.#lastUseEveryMs / 1000})`;
    const lastUseStale = sql<boolean>`(${apiKeys.lastUsedAt} is null or ${apiKeys.lastUsedAt} < ${stale})`;
    const [row] = await this.#db
      .select({ ...viewColumns, secretHash: apiKeys.secretHash, lastUseStale })
      .from(apiKeys)
      .where(eq(apiKeys.id, parsed.id));
    if (!row || row.revokedAt !== null || !apiKeyMatches(parsed.key, row.secretHash)) return null;
    if (row.lastUseStale) {
      // Conditional, so that of several processes seeing the same stale value, one writes and the others match no row.
      await this.#db
        .update(apiKeys)
        .set({ lastUsedAt: sql`now()` })
        .where(and(eq(apiKeys.id, parsed.id), lastUseStale));
    }
    const view = toView(row);
    return { id: view.id, name: view.name, scopes: view.scopes, providers: view.providers };
  }
}

throwsDatabaseErrors(ApiKeyStore);

function toView(row: Omit<typeof apiKeys.$inferSelect, 'secretHash'>): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    // A scope this version does not know (written by a newer one) grants nothing here.
    scopes: row.scopes.filter(isApiKeyScope),
    providers: row.providers,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}
