import { createLogger } from '@evergreen/log';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorApp } from './operator-app.ts';

describe("the operator API's 500 handler", () => {
  const lines: string[] = [];
  const ciphertext = 'evg1.k1.c2VjcmV0LWNpcGhlcnRleHQ';
  const ownerId = 'owner-7a1c-private';
  // What drizzle throws when a statement fails: the statement and every parameter in the message.
  const drizzleError = Object.assign(
    new Error(
      `Failed query: update connections set access_token = $1 where owner_id = $2\nparams: ${ciphertext},${ownerId}`,
    ),
    { cause: Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }) },
  );
  const { app, register, close } = operatorApp({
    schema: 'operator_errors_unused',
    logger: createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } }),
    evergreen: {
      forceRefresh() {
        return Promise.reject(drizzleError);
      },
      disconnect() {
        return Promise.reject(new Error(`update failed; params: ${ciphertext}`));
      },
      createConnectSession: () => Promise.reject(new Error('not used here')),
    },
  });

  beforeAll(register);
  afterAll(close);

  it('logs what failed without the query parameters an error message carried', async () => {
    for (const url of ['/api/connections/c1/refresh', '/api/connections/c1/disconnect']) {
      const res = await app.inject({ method: 'POST', url });
      expect(res.statusCode).toBe(500);
      expect(res.body).not.toContain(ciphertext);
    }
    const failures = lines
      .map((l) => JSON.parse(l) as { msg: string; err?: unknown })
      .filter((l) => l.msg === 'operator API failed');
    expect(failures).toHaveLength(2);
    expect(failures[0]?.err).toEqual({
      type: 'Error',
      code: '57P01',
      message: 'terminating connection due to administrator command',
    });
    expect(failures[1]?.err).toEqual({ type: 'Error', message: 'query failed' });
    const all = lines.join('');
    expect(all).not.toContain(ciphertext);
    expect(all).not.toContain(ownerId);
  });
});
