export {
  ConnectFlow,
  CALLBACK_PATH,
  SESSION_TTL_MS,
  hashState,
  type CallbackAnswer,
  type CallbackQuery,
  type ConnectConfig,
  type ConnectFlowDeps,
  type ConnectSessionStarted,
} from './connect-flow.ts';
export {
  CONNECT_SESSION_INPUT_SCHEMA,
  parseConnectInput,
  type ConnectSessionInput,
  type ParsedConnectInput,
} from './connect-input.ts';
export {
  ConnectNotConfiguredError,
  DiscoveryFailedError,
  CONNECT_ERROR_CODES,
  type ConnectErrorCode,
} from './connect-errors.ts';
export { returnUrlProblem, withResult } from './return-url.ts';
export { callbackPage } from './callback-page.ts';
export type { ConnectionToStore } from './connection-of.ts';
