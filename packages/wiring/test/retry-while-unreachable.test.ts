import { createLogger } from '@evergreen/log';
import { describe, expect, it } from 'vitest';
import { isUnreachable, retryWhileUnreachable } from '../src/retry-while-unreachable.ts';

const log = createLogger({ level: 'silent' });
const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('retryWhileUnreachable', () => {
  it('waits out refused connections and a starting Postgres, then returns the result', async () => {
    const failures = [coded('ECONNREFUSED'), coded('57P03', 'the database system is starting up')];
    let calls = 0;
    const result = await retryWhileUnreachable(
      'Postgres',
      async () => {
        calls += 1;
        const failure = failures.shift();
        if (failure) throw failure;
        return 'migrated';
      },
      { log, firstDelayMs: 1 },
    );
    expect([result, calls]).toEqual(['migrated', 3]);
  });

  it('stops at once on an error that waiting cannot fix', async () => {
    let calls = 0;
    const attempt = async () => {
      calls += 1;
      throw coded('28P01', 'password authentication failed');
    };
    await expect(retryWhileUnreachable('Postgres', attempt, { log, firstDelayMs: 1 })).rejects.toThrow(/password/);
    expect(calls).toBe(1);
  });

  it('gives up after its deadline with the last error', async () => {
    const attempt = async () => {
      throw coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1');
    };
    await expect(
      retryWhileUnreachable('Postgres', attempt, { log, firstDelayMs: 5, giveUpAfterMs: 30 }),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it('finds the code on a wrapped cause', () => {
    expect(isUnreachable(new Error('query failed', { cause: coded('CONNECTION_CLOSED') }))).toBe(true);
    expect(isUnreachable(new Error('plain'))).toBe(false);
    expect(isUnreachable('ECONNREFUSED')).toBe(false);
  });
});
