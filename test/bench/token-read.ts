import type { Evergreen } from '@evergreen/sdk';
import postgres from 'postgres';
import type { BenchSandbox } from './bench-sandbox.ts';
import { closedLoop, round, summary } from './stats.ts';

export interface ReadResult {
  concurrency: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export interface TokenReadResult {
  getValidAccessToken: ReadResult;
  primaryKeySelect: ReadResult;
}

/**
 * getValidAccessToken on a fresh token (one read, decrypt, return) beside the floor under it: a plain primary-key
 * SELECT of the same row through a postgres.js pool of the SDK's size, both as closed loops over random connections.
 */
export async function tokenReads(
  sandbox: BenchSandbox,
  evergreen: Evergreen,
  ids: readonly string[],
  options: { concurrency: number; ms: number; poolSize: number },
): Promise<TokenReadResult> {
  const pick = () => ids[Math.floor(Math.random() * ids.length)]!;
  const sql = postgres(sandbox.databaseUrl, {
    max: options.poolSize,
    connection: { search_path: sandbox.schema },
    onnotice: () => {},
    fetch_types: false,
  });
  try {
    // Warm both pools (connections opened, statements prepared) before counting.
    await closedLoop(options.concurrency, 500, () => evergreen.getValidAccessToken(pick()));
    await closedLoop(options.concurrency, 500, () => sql`select * from connections where id = ${pick()}`);
    const sdk = await closedLoop(options.concurrency, options.ms, () => evergreen.getValidAccessToken(pick()));
    const select = await closedLoop(
      options.concurrency,
      options.ms,
      () => sql`select * from connections where id = ${pick()}`,
    );
    return {
      getValidAccessToken: describe(options.concurrency, sdk),
      primaryKeySelect: describe(options.concurrency, select),
    };
  } finally {
    await sql.end({ timeout: 2 });
  }
}

function describe(concurrency: number, r: { perSecond: number; latencies: number[] }): ReadResult {
  const s = summary(r.latencies);
  return { concurrency, perSecond: round(r.perSecond), p50Ms: round(s.p50, 2), p99Ms: round(s.p99, 2) };
}
