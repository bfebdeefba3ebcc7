import { EvergreenError } from '@evergreen/core';

/** No API key has this id (revoking one that is already revoked is not this: revocation is idempotent). */
export class ApiKeyNotFoundError extends EvergreenError {
  readonly keyId: string;

  constructor(keyId: string) {
    // The id is public (it is printed by `api-keys list`); the key itself never reaches an error.
    super('ERR_API_KEY_NOT_FOUND', `API key '${keyId}' does not exist`);
    this.keyId = keyId;
  }
}
