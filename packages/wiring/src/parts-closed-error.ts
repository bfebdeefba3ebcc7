import { EvergreenError } from '@evergreen/core';

/** A part was asked for after the process's parts were closed: opening it now would leak a connection. */
export class PartsClosedError extends EvergreenError {
  readonly part: string;

  constructor(part: string) {
    super('ERR_CLOSED', `${part} was asked for after this Evergreen's parts were closed`);
    this.part = part;
  }
}
