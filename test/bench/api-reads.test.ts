import { describe, expect, it } from 'vitest';
import { listeningAddress } from './api-reads.ts';

describe('listeningAddress', () => {
  it("finds the address of the 'api listening' line among a role's other log lines", () => {
    const log = [
      '{"level":30,"msg":"redis connected"}',
      '{"level":30,"address":"http://127.0.0.1:41234","rateLimitPerMinute":10000000,"msg":"api listening"}',
      '{"level":30,"opsPort":40001,"msg":"started"}',
      '',
    ].join('\n');
    expect(listeningAddress(log)).toBe('http://127.0.0.1:41234');
  });

  it('throws when the server has not said where it listens', () => {
    expect(() => listeningAddress('{"msg":"started"}\n')).toThrow(/no "api listening" line/);
  });
});
