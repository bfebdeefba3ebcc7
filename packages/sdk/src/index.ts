export {
  createEvergreen,
  type Evergreen,
  type EvergreenOptions,
  type EnqueueConnectionInput,
  type EnqueueConnectionResult,
  type ValidToken,
  type BulkEnqueueResult,
  type BulkEnqueueOptions,
  type BulkItemResult,
  type EventHandler,
  type DisconnectOptions,
  type DisconnectResult,
} from './evergreen.ts';
export type { Revocation } from './revoke-grant.ts';
export type { TokenOptions } from './on-demand.ts';
export * from './errors.ts'; // the SDK's own errors, every one
export type { ConnectionRef } from './connection-ref.ts';
export { createRemoteEvergreen, type RemoteOptions } from './remote/remote-evergreen.ts';
export { ApiError, ApiAuthError, ApiRateLimitedError, NotAvailableRemotelyError } from './remote/remote-errors.ts';
export { isUnauthorized } from './fresh-token.ts';
export { prepareConnection, type PreparedConnection } from './prepare-connection.ts';
export {
  EvergreenError,
  InvalidInputError,
  ConfigError,
  ConnectionNotFoundError,
  EVENT_KINDS,
  isProviderEvent,
  type ConnectionEvent,
  type ConnectionChangeEvent,
  type ProviderEvent,
  type ProviderOutagePayload,
  type EventKind,
  type ConnectionStatus,
  type InputIssue,
} from '@evergreen/core';
export type { ConnectionView } from '@evergreen/store';
export type { CallbackAnswer, CallbackQuery, ConnectSessionInput, ConnectSessionStarted } from '@evergreen/connect';
