import { ConnectionNotFoundError } from '@evergreen/core';
import type { Evergreen } from '@evergreen/sdk';
import type { ConnectionView } from '@evergreen/store';
import { seesProvider } from '@evergreen/api-keys';
import type { ApiPrincipal } from './api-key-verifier.ts';

/**
 * What a key may see of connections. A connection of a provider the key is not confined to answers exactly as a
 * missing one: the same ConnectionNotFoundError, so the same 404 body, and it is checked before anything happens to
 * it (no refresh, no write).
 */
export class ConnectionAccess {
  readonly #evergreen: Pick<Evergreen, 'getConnection'>;

  constructor(evergreen: Pick<Evergreen, 'getConnection'>) {
    this.#evergreen = evergreen;
  }

  /** The connection's view, when the key sees it. */
  async view(principal: ApiPrincipal, connectionId: string): Promise<ConnectionView> {
    const view = await this.#evergreen.getConnection(connectionId);
    if (!seesProvider(principal, view.provider)) throw new ConnectionNotFoundError(connectionId);
    return view;
  }

  /** Throws as for a missing connection unless the key sees it; costs a read only for a key confined to providers. */
  async check(principal: ApiPrincipal, connectionId: string): Promise<void> {
    if (principal.providers !== null) await this.view(principal, connectionId);
  }
}
