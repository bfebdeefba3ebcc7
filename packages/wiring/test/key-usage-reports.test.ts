import { createLogger } from '@evergreen/log';
import { afterAll, describe, expect, it } from 'vitest';
import { LogCapture } from '@evergreen/test-support/log-capture';
import { Sandbox } from '@evergreen/test-support/sandbox';
import { acmeConnection } from '@evergreen/test-support/seed-rows';
import { openEvergreen } from '../src/open-evergreen.ts';

describe('key usage in a process', () => {
  const sandbox = new Sandbox();
  afterAll(() => sandbox.cleanup());

  it("writes the process's encryption count on close, and warns when it carries a key past 2^31", async () => {
    const logs = new LogCapture();
    const parts = openEvergreen(sandbox.config(), { log: createLogger({ level: 'info', destination: logs }) });
    await parts.prepare();
    const keyId = parts.config.keyring.currentKeyId;
    // Another process has already sealed all but one of the first 2^31 values.
    await sandbox.sql`insert into key_usage (key_id, encryptions) values (${keyId}, ${2 ** 31 - 1})`;
    await parts.store.upsert(acmeConnection('c1'));
    await parts.close();

    const [row] = await sandbox.sql<
      { encryptions: string }[]
    >`select encryptions from key_usage where key_id = ${keyId}`;
    expect(Number(row?.encryptions)).toBe(2 ** 31 + 1);
    const warnings = logs.events(
      'encryption key nearing its AES-GCM limit; put a new key first and run `evergreen keys rotate`',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      level: 'warn',
      keyId,
      encryptions: 2 ** 31 + 1,
      limit: 2 ** 32,
      remaining: 2 ** 31 - 1,
    });
  });

  it('says nothing while a key is far from its limit', async () => {
    const logs = new LogCapture();
    const parts = openEvergreen(sandbox.config(), { log: createLogger({ level: 'info', destination: logs }) });
    await parts.prepare();
    await parts.store.upsert(acmeConnection('c2'));
    await parts.close();
    expect(logs.lines.filter((l) => l.includes('AES-GCM'))).toEqual([]);
  });
});
