import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = fileURLToPath(new URL('./fixtures/start-then-drain.ts', import.meta.url));

describe('startAndDrainOnSignals', () => {
  it('drains a process signalled while it starts, once the start is done, and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', fixture], { stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (data: Buffer) => {
        output += data.toString();
        if (output.includes('starting\n')) resolve();
      });
      child.stderr.on('data', (data: Buffer) => (output += data.toString()));
    });
    // The signal is pending in the child before the line that lets its start finish is written: it lands mid-start.
    child.kill('SIGTERM');
    child.stdin.end('go\n');
    expect(await exited, output).toEqual({ code: 0, signal: null });
    expect(output).toContain('closed\n');
  }, 30_000);
});
