import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeProvider } from '@evergreen/fake-provider';
import { REPO_ROOT } from './worker-processes.ts';

export interface TokenExchangeResult {
  concurrency: number;
  requestsPerSecond: number;
  /** Answers other than 200: each would make the rate a lower bound. */
  failed: number;
}

/**
 * The third part of a refresh's floor (issue 21): one refresh-token request over HTTP to the same fake provider the
 * refresh benchmark uses, at `concurrency` requests in flight over keep-alive connections, from a process of its own
 * (test/bench/token-exchange-client.ts) as the worker's requests are. Each lane follows its own grant's rotation.
 */
export async function tokenExchangeThroughput(
  provider: FakeProvider,
  concurrency: number,
  options: { warmupMs: number; windowMs: number },
): Promise<TokenExchangeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-bench-exchange-'));
  try {
    const planFile = join(dir, 'plan.json');
    const refreshTokens = Array.from({ length: concurrency }, () => provider.issue().refreshToken);
    writeFileSync(planFile, JSON.stringify({ tokenUrl: provider.tokenUrl, refreshTokens, ...options }));
    const client = join(REPO_ROOT, 'test/bench/token-exchange-client.ts');
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', client, planFile], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`token exchange client exited with ${code}`)),
      );
    });
    const result = JSON.parse(out.trim().split('\n').at(-1)!) as { requestsPerSecond: number; failed: number };
    return { concurrency, ...result };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
