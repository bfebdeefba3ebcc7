/**
 * Every error Evergreen throws is one of these: a named class with a stable `code`, a message a person can act on,
 * and the offending field or reason as data. No message ever carries a token.
 */
export class EvergreenError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

export interface InputIssue {
  /** Dotted path of the offending field, e.g. `metadata.instanceUrl`; `(input)` for the value as a whole. */
  field: string;
  reason: string;
}

/** A caller handed us something we will not store. Nothing was written. */
export class InvalidInputError extends EvergreenError {
  readonly issues: readonly InputIssue[];
  /** The first offending field, for callers that only look at one. */
  readonly field: string;

  constructor(context: string, issues: readonly InputIssue[]) {
    const first = issues[0] ?? { field: '(input)', reason: 'invalid' };
    super('ERR_INVALID_INPUT', `${context}: ${issues.map((i) => `${i.field}: ${i.reason}`).join('; ')}`);
    this.issues = issues;
    this.field = first.field;
  }
}

/** The environment or a configuration file is wrong; the process must not start. */
export class ConfigError extends EvergreenError {
  readonly issues: readonly InputIssue[];

  constructor(issues: readonly InputIssue[], hint?: string) {
    const lines = issues.map((i) => `  - ${i.field}: ${i.reason}`).join('\n');
    super('ERR_CONFIG', `Evergreen cannot start, the configuration is invalid:\n${lines}${hint ? `\n${hint}` : ''}`);
    this.issues = issues;
  }
}

export class ConnectionNotFoundError extends EvergreenError {
  readonly connectionId: string;

  constructor(connectionId: string) {
    super('ERR_CONNECTION_NOT_FOUND', `connection '${connectionId}' does not exist`);
    this.connectionId = connectionId;
  }
}
