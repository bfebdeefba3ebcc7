/** A connection, by its id or by the pair it was enqueued for without one (the reference systems' way to ask). */
export type ConnectionRef = string | { ownerId: string; provider: string };

/** How errors name the connection: its id, or `provider/ownerId` for a pair. */
export const refName = (ref: ConnectionRef): string =>
  typeof ref === 'string' ? ref : `${ref.provider}/${ref.ownerId}`;
