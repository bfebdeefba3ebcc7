// `@evergreen/sdk/remote`: the remote mode alone, for apps that want to be sure no direct-mode module is even loaded.
export { createRemoteEvergreen, remoteOptionsFromEnv, type RemoteOptions } from './remote-evergreen.ts';
export { ApiError, ApiAuthError, ApiRateLimitedError, NotAvailableRemotelyError } from './remote-errors.ts';
export * from '../errors.ts'; // the SDK's own errors, every one
export { ConnectionNotFoundError, InvalidInputError, EvergreenError } from '@evergreen/core';
export type { ConnectionRef } from '../connection-ref.ts';
export type { ConnectSessionInput, ConnectSessionStarted } from '@evergreen/connect';
