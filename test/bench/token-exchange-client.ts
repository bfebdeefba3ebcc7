import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

/**
 * Child process of `tokenExchangeThroughput`: refresh-token requests to the fake provider over keep-alive at a
 * concurrency, each lane following its own grant's rotation, counted over a window after a warm-up. It runs in its
 * own process, as a worker does, so that it does not share a core's event loop with the provider it measures.
 * Argument: a JSON file `{ tokenUrl, refreshTokens, warmupMs, windowMs }` (one refresh token per lane).
 */
interface Plan {
  tokenUrl: string;
  refreshTokens: string[];
  warmupMs: number;
  windowMs: number;
}

const plan = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Plan;
const url = new URL(plan.tokenUrl);
const pool = new Pool(url.origin, { connections: plan.refreshTokens.length, pipelining: 1 });
const authorization = `Basic ${Buffer.from('client-id:client-secret').toString('base64')}`;
let completed = 0;
let failed = 0;
let running = true;

async function lane(first: string): Promise<void> {
  let refreshToken = first;
  while (running) {
    const { statusCode, body } = await pool.request({
      method: 'POST',
      path: url.pathname,
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken }).toString(),
    });
    const answer = (await body.json()) as { refresh_token?: string };
    if (statusCode === 200) {
      completed += 1;
      refreshToken = answer.refresh_token ?? refreshToken;
    } else {
      failed += 1;
    }
  }
}

const lanes = plan.refreshTokens.map(lane);
await new Promise((resolve) => setTimeout(resolve, plan.warmupMs));
const before = completed;
const t0 = performance.now();
await new Promise((resolve) => setTimeout(resolve, plan.windowMs));
const requestsPerSecond = (completed - before) / ((performance.now() - t0) / 1_000);
running = false;
await Promise.allSettled(lanes);
await pool.close();
process.stdout.write(`${JSON.stringify({ requestsPerSecond, failed })}\n`);
