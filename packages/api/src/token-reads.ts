import { Counter, type Registry } from 'prom-client';

/** How a token read ended: `ok`, or the problem code it answered with. */
export type TokenReadOutcome = string;

export interface TokenReadObserver {
  onTokenRead(read: { keyId: string; outcome: TokenReadOutcome }): void;
}

/**
 * `evergreen_api_token_reads_total{key_id,outcome}`: token reads per API key. Key ids are public (the key's secret part
 * is not in them) and few; connection ids are never a label (unbounded, and personal to an owner).
 */
export class TokenReadMetrics implements TokenReadObserver {
  readonly reads: Counter<'key_id' | 'outcome'>;

  constructor(registry: Registry) {
    this.reads = new Counter({
      name: 'evergreen_api_token_reads_total',
      help: 'Access tokens read through the API, by API key id and outcome (ok, or the problem code).',
      labelNames: ['key_id', 'outcome'],
      registers: [registry],
    });
  }

  onTokenRead(read: { keyId: string; outcome: TokenReadOutcome }): void {
    this.reads.inc({ key_id: read.keyId, outcome: read.outcome });
  }
}
