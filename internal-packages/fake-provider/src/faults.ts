import { STATUS_CODES } from 'node:http';

/** Ways a real token endpoint misbehaves, one per request. */
export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'html' }
  | { kind: 'truncated-json' }
  | { kind: 'invalid-grant' }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'reset' };

export type FaultKind = Fault['kind'];

/** What the server does instead of (or, for `delay`, before) its normal answer. */
export type FaultAction =
  | { kind: 'reply'; status: number; headers: Record<string, string>; body: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'hang' }
  | { kind: 'reset' };

/**
 * How much of the traffic a persistent fault hits: `fraction` of the requests (0 < fraction ≤ 1, default 1), chosen by
 * `random` (default Math.random; pass a seeded one for a run that replays).
 */
export interface FaultShare {
  fraction?: number;
  random?: () => number;
}

/** One-shot faults first, in order, then the persistent one, so a test can script a burst on top of a steady outage. */
export class FaultSchedule {
  #queue: Fault[] = [];
  #persistent: Fault | null = null;
  #fraction = 1;
  #random: () => number = Math.random;

  inject(faults: readonly Fault[]): void {
    for (const fault of faults) validateFault(fault);
    // Copied so a caller reusing its array or objects cannot change faults already scheduled.
    this.#queue.push(...faults.map(copyFault));
  }

  setForAll(fault: Fault | null, share: FaultShare = {}): void {
    if (fault !== null) validateFault(fault);
    const fraction = share.fraction ?? 1;
    if (!(Number.isFinite(fraction) && fraction > 0 && fraction <= 1)) {
      throw new RangeError(`fake-provider: a fault's fraction must be in (0, 1], got ${fraction}`);
    }
    this.#persistent = fault === null ? null : copyFault(fault);
    this.#fraction = fraction;
    this.#random = share.random ?? Math.random;
  }

  next(): Fault | null {
    const scripted = this.#queue.shift();
    if (scripted) return scripted;
    if (this.#persistent === null) return null;
    // Drawn only for a partial fault, so a seeded sequence is not spent by requests an all-out fault hits anyway.
    return this.#fraction === 1 || this.#random() < this.#fraction ? this.#persistent : null;
  }
}

export function faultAction(fault: Fault): FaultAction {
  switch (fault.kind) {
    case 'status':
      return statusReply(fault.status, fault.body, fault.headers);
    case 'html':
      return statusReply(
        502,
        '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>The upstream server returned an invalid response.</p></body></html>\n',
        { 'content-type': 'text/html; charset=utf-8' },
      );
    case 'truncated-json':
      // A complete HTTP response whose JSON stops mid-string: what a proxy that cut the upstream short delivers.
      return statusReply(200, '{"access_token":"abc', { 'content-type': 'application/json' });
    case 'invalid-grant':
      return statusReply(400, '{"error":"invalid_grant"}', {
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
    case 'delay':
      return { kind: 'delay', ms: fault.ms };
    case 'hang':
      return { kind: 'hang' };
    case 'reset':
      return { kind: 'reset' };
  }
}

function statusReply(
  status: number,
  body: string | undefined,
  headers: Record<string, string> | undefined,
): FaultAction {
  const text = body ?? STATUS_CODES[status] ?? '';
  const merged: Record<string, string> = { 'content-type': guessContentType(text) };
  for (const [name, value] of Object.entries(headers ?? {})) merged[name.toLowerCase()] = value;
  return { kind: 'reply', status, headers: merged, body: text };
}

function guessContentType(body: string): string {
  const trimmed = body.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return 'application/json';
  if (trimmed.startsWith('<')) return 'text/html; charset=utf-8';
  return 'text/plain; charset=utf-8';
}

function validateFault(fault: Fault): void {
  if (fault.kind === 'status' && !(Number.isInteger(fault.status) && fault.status >= 200 && fault.status <= 599)) {
    throw new RangeError(`fake-provider: a status fault needs an integer status in 200..599, got ${fault.status}`);
  }
  if (fault.kind === 'delay' && !(Number.isFinite(fault.ms) && fault.ms >= 0)) {
    throw new RangeError(`fake-provider: a delay fault needs a finite, non-negative ms, got ${fault.ms}`);
  }
}

function copyFault(fault: Fault): Fault {
  if (fault.kind === 'status') {
    const copy: Fault = { kind: 'status', status: fault.status };
    if (fault.body !== undefined) copy.body = fault.body;
    if (fault.headers !== undefined) copy.headers = { ...fault.headers };
    return copy;
  }
  return { ...fault };
}
