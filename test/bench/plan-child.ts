import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './worker-processes.ts';

/**
 * Runs a benchmark client (`test/bench/<name>-client.ts`) in a process of its own, as a worker runs, so that it
 * shares no event loop with what it measures: its plan goes in a JSON file, its answer comes back as the last line of
 * its stdout, in JSON.
 */
export async function runPlanChild<T>(client: string, plan: unknown, nodeOptions: readonly string[] = []): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'evergreen-bench-plan-'));
  try {
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [...nodeOptions, '--import', 'tsx', join(REPO_ROOT, client), planFile], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let stdout = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${client} exited with ${code}`))));
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
