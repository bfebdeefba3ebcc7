import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { ChaosProvider } from './chaos-providers.ts';
import type { ChaosProcess } from './role-processes.ts';
import { SecretScanner } from './secret-scan.ts';

export interface SecretScanInput {
  providers: readonly ChaosProvider[];
  redisUrl: string;
  processes: readonly ChaosProcess[];
  boardPort: number;
  adminToken: string;
  queueNames: readonly string[];
  logDir: string;
  /** Called between the live sources and the logs, so every log line is on disk when the logs are read. */
  stopProcesses: () => Promise<void>;
}

const BULL_BOARD_STATUSES = ['latest', 'active', 'waiting', 'delayed', 'completed', 'failed', 'paused'];

/**
 * Every place a token could leak to, searched for every token the providers issued: Redis (keys and values), each
 * role's /metrics, the operator API and Bull Board's API as an operator would read them, then every log line.
 */
export async function collectSecretScan(input: SecretScanInput): Promise<SecretScanner> {
  const scanner = new SecretScanner(input.providers.flatMap((p) => p.fake.allIssuedTokens()));

  const redis = new Redis(input.redisUrl, { maxRetriesPerRequest: 3 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) scanner.scan(`redis:${key}`, `${key}\n${await redisValue(redis, key)}`);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }

  for (const p of input.processes) {
    // A draining process has closed its ops port already.
    if (!p.alive || p.stopping || p.opsPort === null) continue;
    scanner.scan(`metrics:${p.name}`, await text(`http://127.0.0.1:${p.opsPort}/metrics`));
  }

  const board = `http://127.0.0.1:${input.boardPort}`;
  const auth = { authorization: `Bearer ${input.adminToken}` };
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const body = await text(`${board}/api/connections?limit=500${query}`, auth);
    scanner.scan('operator-api:list', body);
    const page = JSON.parse(body) as { items: { connectionId: string }[]; nextCursor: string | null };
    ids.push(...page.items.map((i) => i.connectionId));
    cursor = page.nextCursor;
  } while (cursor !== null);
  // Every connection's detail (with its refresh history) for small runs, an even sample of 500 for large ones.
  const step = Math.max(1, Math.floor(ids.length / 500));
  for (let i = 0; i < ids.length; i += step) {
    scanner.scan('operator-api:connection', await text(`${board}/api/connections/${ids[i]}`, auth));
  }
  scanner.scan('operator-api:health', await text(`${board}/api/health/tokens`, auth));
  scanner.scan('board:page', await text(`${board}/`, auth));
  for (const queue of input.queueNames) {
    for (const status of BULL_BOARD_STATUSES) {
      const url = `${board}/board/api/queues?activeQueue=${queue}&status=${status}&page=1&jobsPerPage=100`;
      const body = await text(url, auth);
      scanner.scan('bull-board:queues', body);
      const jobIds = (JSON.parse(body) as { queues: { name: string; jobs: { id: string }[] }[] }).queues
        .filter((q) => q.name === queue)
        .flatMap((q) => q.jobs.map((j) => j.id))
        .slice(0, 10);
      for (const id of jobIds) {
        scanner.scan(
          'bull-board:job',
          await text(`${board}/board/api/queues/${queue}/${encodeURIComponent(id)}`, auth),
        );
      }
    }
  }

  await input.stopProcesses();
  for (const file of readdirSync(input.logDir)) {
    scanner.scan(`log:${file}`, readFileSync(join(input.logDir, file), 'utf8'));
  }
  return scanner;
}

async function text(url: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(url, { headers });
  const body = await response.text();
  if (!response.ok) throw new Error(`chaos: GET ${url} answered ${response.status}: ${body.slice(0, 200)}`);
  return body;
}

async function redisValue(redis: Redis, key: string): Promise<string> {
  const type = await redis.type(key);
  switch (type) {
    case 'string':
      return (await redis.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await redis.hgetall(key));
    case 'list':
      return (await redis.lrange(key, 0, -1)).join('\n');
    case 'set':
      return (await redis.smembers(key)).join('\n');
    case 'zset':
      return (await redis.zrange(key, 0, -1, 'WITHSCORES')).join('\n');
    case 'stream':
      return JSON.stringify(await redis.xrange(key, '-', '+'));
    default:
      return '';
  }
}
