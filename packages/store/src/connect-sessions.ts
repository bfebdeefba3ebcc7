import type { Keyring } from '@evergreen/keyring';
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from './database.ts';
import { throwsDatabaseErrors } from './database-error.ts';
import { connectSessions } from './schema.ts';

/** What stays on the server for the callback: never in the authorization URL, never in a log. */
export interface ConnectSecrets {
  /** RFC 7636 code verifier; null when the provider takes no PKCE. */
  codeVerifier: string | null;
  /** OpenID Connect nonce; null for a provider without an issuer. */
  nonce: string | null;
}

export interface NewConnectSession {
  id: string;
  /** SHA-256 of the state, hex: the state itself is never stored. */
  stateHash: string;
  ownerId: string;
  provider: string;
  connectionId: string | null;
  scopes: string[];
  metadata: Record<string, unknown>;
  returnTo: string;
  redirectUri: string;
  secrets: ConnectSecrets;
  expiresAt: Date;
}

export type ConnectSession = NewConnectSession;

export type ConsumeResult =
  /** This call took the state; `expired` when it came too late (the session is spent either way). */
  | { kind: 'consumed'; session: ConnectSession; expired: boolean }
  /** The state was taken before: a replay (or a double click). Nothing changes. */
  | { kind: 'replayed' }
  /** No session has this state. */
  | { kind: 'unknown' };

/** Sessions this long past their expiry are deleted, a few at a time, whenever a new one starts. */
const KEEP_AFTER_EXPIRY_MS = 24 * 3600 * 1000;
const PRUNE_BATCH = 100;

const secretsAad = (sessionId: string): string => `connect_session/${sessionId}/secrets`;

/**
 * The `connect_sessions` table. `consume` is the single use: one UPDATE that sets `consumed_at` where it is still null,
 * so of two callbacks racing with the same state exactly one gets the session.
 */
export class ConnectSessions {
  readonly #db: Database;
  readonly #keyring: Keyring;

  constructor(db: Database, keyring: Keyring) {
    this.#db = db;
    this.#keyring = keyring;
  }

  async create(session: NewConnectSession): Promise<void> {
    await this.#db.insert(connectSessions).values({
      id: session.id,
      stateHash: session.stateHash,
      ownerId: session.ownerId,
      provider: session.provider,
      connectionId: session.connectionId,
      scopes: session.scopes,
      metadata: session.metadata,
      returnTo: session.returnTo,
      redirectUri: session.redirectUri,
      secrets: this.#keyring.encrypt(JSON.stringify(session.secrets), secretsAad(session.id)),
      expiresAt: session.expiresAt,
    });
    await this.#prune();
  }

  async consume(stateHash: string): Promise<ConsumeResult> {
    const [row] = await this.#db
      .update(connectSessions)
      .set({ consumedAt: sql`now()` })
      .where(and(eq(connectSessions.stateHash, stateHash), isNull(connectSessions.consumedAt)))
      .returning({
        id: connectSessions.id,
        stateHash: connectSessions.stateHash,
        ownerId: connectSessions.ownerId,
        provider: connectSessions.provider,
        connectionId: connectSessions.connectionId,
        scopes: connectSessions.scopes,
        metadata: connectSessions.metadata,
        returnTo: connectSessions.returnTo,
        redirectUri: connectSessions.redirectUri,
        secrets: connectSessions.secrets,
        expiresAt: connectSessions.expiresAt,
        expired: sql<boolean>`${connectSessions.expiresAt} <= now()`,
      });
    if (!row) {
      const [spent] = await this.#db
        .select({ id: connectSessions.id })
        .from(connectSessions)
        .where(eq(connectSessions.stateHash, stateHash));
      return spent ? { kind: 'replayed' } : { kind: 'unknown' };
    }
    const { expired, secrets, ...rest } = row;
    return {
      kind: 'consumed',
      expired,
      session: { ...rest, secrets: JSON.parse(this.#keyring.decrypt(secrets, secretsAad(row.id))) as ConnectSecrets },
    };
  }

  /** Records how the callback ended (`connected`, or the error code it answered), for operators reading the table. */
  async finish(id: string, outcome: string): Promise<void> {
    await this.#db.update(connectSessions).set({ outcome }).where(eq(connectSessions.id, id));
  }

  async #prune(): Promise<void> {
    const before = new Date(Date.now() - KEEP_AFTER_EXPIRY_MS);
    await this.#db.execute(sql`delete from connect_sessions where id in (
      select id from connect_sessions where ${lt(connectSessions.expiresAt, before)} limit ${PRUNE_BATCH})`);
  }
}

throwsDatabaseErrors(ConnectSessions);
