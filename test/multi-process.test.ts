import { FakeProvider } from '@evergreen/fake-provider';
import { queueName } from '@evergreen/queue';
import { QueueEvents } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startRoleProcess, type RoleProcess } from './support/processes.ts';
import { Sandbox } from './support/sandbox.ts';
import { startStack, type Stack } from './support/stack.ts';
import { until } from './support/until.ts';

/** Every successful refresh of a grant, in order, by when the provider saw it. */
function refreshTimes(provider: FakeProvider, grantId: string): number[] {
  return provider.requests.filter((r) => r.grantId === grantId && r.outcome === 'ok').map((r) => r.at);
}

async function stopAll(processes: RoleProcess[]): Promise<void> {
  for (const p of processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(processes.map((p) => p.exited));
}

describe('several worker processes', () => {
  const sandbox = new Sandbox();
  let provider: FakeProvider;
  let producer: Stack;
  const processes: RoleProcess[] = [];

  beforeAll(async () => {
    // Strict rotation, no grace: a refresh token presented twice kills the grant, as real servers do.
    provider = await FakeProvider.start({ accessTokenLifetimeSeconds: 6, latencyMs: 20, reuseGraceSeconds: 0 });
    sandbox.useProviders([{ id: 'strict', tokenUrl: provider.tokenUrl }]);
    producer = await startStack(sandbox);
  });

  afterEach(async () => {
    await stopAll(processes.splice(0));
  });

  afterAll(async () => {
    await producer?.close();
    await provider?.close();
    await sandbox.cleanup();
  });

  it('racing over the same 200 connections never present one refresh token twice, and lose none', async () => {
    const grants = [];
    for (let i = 0; i < 200; i++) {
      const grant = provider.issue({ expiresIn: 6 });
      const { connectionId } = await producer.evergreen.enqueueConnection({
        ownerId: `owner-${i}`,
        provider: 'strict',
        accessToken: grant.accessToken,
        refreshToken: grant.refreshToken,
        expiresIn: 6,
      });
      grants.push({ ...grant, connectionId });
    }
    for (let i = 0; i < 3; i++) processes.push(startRoleProcess('worker', sandbox.env({ EVERGREEN_PROCESS_NAME: `worker-${i}` })));
    processes.push(startRoleProcess('scheduler', sandbox.env({ EVERGREEN_PROCESS_NAME: 'scheduler' })));

    // A fourth process forces refreshes of the same connections at the same time, through the same lock.
    let racing = true;
    let forcedRuns = 0;
    const race = (async () => {
      while (racing) {
        const pick = grants[Math.floor(Math.random() * grants.length)]!;
        await producer.engine.run(pick.connectionId, { trigger: 'forced', force: true });
        forcedRuns += 1;
      }
    })();
    // Stops early on the first reuse, so a broken lock fails on the assertion below rather than on a timeout.
    await until(() => provider.reuseCount() > 0 || grants.every((g) => (provider.grant(g.grantId)?.refreshCount ?? 0) >= 3), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'three refreshes of every connection',
    });

    racing = false;
    await race;
    expect(forcedRuns).toBeGreaterThan(10);
    expect(provider.reuseCount()).toBe(0);
    expect(grants.filter((g) => provider.grant(g.grantId)!.revoked)).toEqual([]);
    // Every access token was replaced before it died (6 s lifetime).
    for (const g of grants) {
      const times = refreshTimes(provider, g.grantId);
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeLessThan(6_000);
    }
    const rows = await sandbox.sql<{ status: string }[]>`select status from connections`;
    expect(rows.filter((r) => r.status !== 'connected')).toEqual([]);
    // Work was really shared: each worker process wrote audit rows.
    const byProcess = await sandbox.sql<{ process: string }[]>`select distinct process from refresh_events`;
    expect(byProcess.map((r) => r.process).sort()).toEqual(['test-process', 'worker-0', 'worker-1', 'worker-2']);
  });
});
