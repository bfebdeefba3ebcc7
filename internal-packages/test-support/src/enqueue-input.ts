/**
 * Every field `enqueueConnection()` accepts, as its callers name them: what the fuzz tests of the input (in core, and
 * against the real stores) generate objects from.
 */
export const ENQUEUE_INPUT_FIELDS: string[] = [
  'connectionId',
  'ownerId',
  'provider',
  'accessToken',
  'refreshToken',
  'expiresAt',
  'expiresIn',
  'refreshTokenExpiresIn',
  'credentials',
  'scopes',
  'metadata',
];
