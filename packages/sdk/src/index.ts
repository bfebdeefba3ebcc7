export {
  createEvergreen,
  type Evergreen,
  type EvergreenOptions,
  type EnqueueConnectionInput,
  type EnqueueConnectionResult,
} from './evergreen.ts';
export {
  EvergreenError,
  InvalidInputError,
  ConfigError,
  type ConnectionStatus,
  type InputIssue,
} from '@evergreen/core';
