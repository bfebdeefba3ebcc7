import { EvergreenError } from '@evergreen/core';

/** A source that cannot be read at all (an unknown CSV column, a table without the columns it needs). */
export class SourceError extends EvergreenError {
  constructor(message: string) {
    super('ERR_IMPORT_SOURCE', message);
  }
}
