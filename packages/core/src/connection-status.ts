/** The statuses of the reference schema (DESIGN.md, contracts). */
export const CONNECTION_STATUSES = ['connected', 'token_expired', 'needs_reauth', 'error', 'disconnected'] as const;
export type ConnectionStatus = (typeof CONNECTION_STATUSES)[number];

/** Statuses whose connections Evergreen keeps refreshing; the others wait for a person. */
export const LIVE_STATUSES = ['connected', 'token_expired'] as const satisfies readonly ConnectionStatus[];

export function isLive(status: ConnectionStatus): boolean {
  return (LIVE_STATUSES as readonly ConnectionStatus[]).includes(status);
}
