import { randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { createLogger, ownerHasher, REDACT_PATHS } from '../src/index.ts';

const SECRET_KEYS = REDACT_PATHS.filter((path) => !path.includes('.'));

/** A logger whose lines land in an array, parsed and raw. */
function capture(level = 'trace', base?: Record<string, unknown>) {
  const raw: string[] = [];
  const logger = createLogger({
    level,
    ...(base && { base }),
    destination: { write: (line: string) => void raw.push(line) },
  });
  const lines = () => raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, raw, lines };
}

const secretFor = (key: string) => `SECRET-${key}-${randomBytes(6).toString('hex')}`;

describe('createLogger', () => {
  it('writes one JSON line per call, with a string level, an ISO time, the pid and the base bindings', () => {
    const { logger, raw, lines } = capture('info', { service: 'evergreen', role: 'worker' });
    logger.info({ connectionId: 'c1' }, 'refreshed');
    expect(raw).toHaveLength(1);
    expect(raw[0]?.endsWith('\n')).toBe(true);
    const [line] = lines();
    expect(line).toMatchObject({
      level: 'info',
      pid: process.pid,
      service: 'evergreen',
      role: 'worker',
      connectionId: 'c1',
      msg: 'refreshed',
    });
    expect(new Date(line?.time as string).toISOString()).toBe(line?.time);
  });

  it('drops lines below its level', () => {
    const { logger, raw } = capture('warn');
    logger.info('hidden');
    logger.debug('hidden');
    logger.warn('shown');
    expect(raw).toHaveLength(1);
  });

  it('covers the token-bearing keys the design names', () => {
    for (const key of [
      'accessToken',
      'refreshToken',
      'access_token',
      'refresh_token',
      'id_token',
      'clientSecret',
      'client_secret',
      'authorization',
      'EVERGREEN_ENCRYPTION_KEYS',
    ]) {
      expect(SECRET_KEYS).toContain(key);
    }
  });

  describe('redaction', () => {
    for (const key of SECRET_KEYS) {
      it(`redacts "${key}" at the top level`, () => {
        const { logger, raw, lines } = capture();
        const secret = secretFor(key);
        logger.info({ [key]: secret, keep: 'visible' }, 'msg');
        expect(raw.join('')).not.toContain(secret);
        expect(lines()[0]).toMatchObject({ [key]: '[redacted]', keep: 'visible' });
      });

      it(`redacts "${key}" nested one level down`, () => {
        const { logger, raw, lines } = capture();
        const secret = secretFor(key);
        logger.info({ tokens: { [key]: secret, keep: 'visible' } }, 'msg');
        expect(raw.join('')).not.toContain(secret);
        expect(lines()[0]).toMatchObject({ tokens: { [key]: '[redacted]', keep: 'visible' } });
      });

      it(`redacts "${key}" nested two levels down`, () => {
        const { logger, raw, lines } = capture();
        const secret = secretFor(key);
        logger.info({ result: { tokens: { [key]: secret, keep: 'visible' } } }, 'msg');
        expect(raw.join('')).not.toContain(secret);
        expect(lines()[0]).toMatchObject({ result: { tokens: { [key]: '[redacted]', keep: 'visible' } } });
      });
    }

    it('redacts request headers: authorization under req.headers and headers', () => {
      const { logger, raw, lines } = capture();
      logger.info({ req: { headers: { authorization: 'Bearer at_abc123secret', accept: 'application/json' } } }, 'out');
      logger.info({ headers: { authorization: 'Basic Y2xpZW50OnNlY3JldA==' } }, 'out');
      expect(raw.join('')).not.toContain('at_abc123secret');
      expect(raw.join('')).not.toContain('Y2xpZW50OnNlY3JldA==');
      expect(lines()[0]).toMatchObject({
        req: { headers: { authorization: '[redacted]', accept: 'application/json' } },
      });
      expect(lines()[1]).toMatchObject({ headers: { authorization: '[redacted]' } });
    });

    it('redacts many secrets in one line and leaves everything else alone', () => {
      const { logger, raw, lines } = capture();
      logger.warn(
        {
          connectionId: 'c9',
          accessToken: 'at_one',
          provider: { id: 'google', clientSecret: 'cs_two' },
          reply: { body: { refresh_token: 'rt_three' } },
        },
        'refresh failed',
      );
      const all = raw.join('');
      for (const secret of ['at_one', 'cs_two', 'rt_three']) expect(all).not.toContain(secret);
      expect(lines()[0]).toMatchObject({ connectionId: 'c9', provider: { id: 'google' }, msg: 'refresh failed' });
    });

    it('does not alter the object that was logged', () => {
      const { logger } = capture();
      const payload = { accessToken: 'at_keep', nested: { refreshToken: 'rt_keep' } };
      logger.info(payload, 'msg');
      expect(payload).toEqual({ accessToken: 'at_keep', nested: { refreshToken: 'rt_keep' } });
    });

    it('redacts secrets in the bindings of a child logger', () => {
      const { logger, raw } = capture();
      logger.child({ accessToken: 'at_child_binding', connectionId: 'c1' }).info('from child');
      expect(raw.join('')).not.toContain('at_child_binding');
      expect(raw.join('')).toContain('c1');
    });
  });
});

describe('ownerHasher', () => {
  const key = randomBytes(32);
  const owners = [
    'user-42',
    'alice@example.com',
    'org_9f8e7d6c5b4a',
    '00000000-0000-4000-8000-000000000001',
    'Ünïcødé Øwner',
  ];

  it('is deterministic for one key', () => {
    const a = ownerHasher(key);
    const b = ownerHasher(Buffer.from(key));
    for (const owner of owners) expect(a(owner)).toBe(b(owner));
  });

  it('is keyed: different keys give different hashes', () => {
    const a = ownerHasher(key);
    const b = ownerHasher(randomBytes(32));
    for (const owner of owners) expect(a(owner)).not.toBe(b(owner));
  });

  it('gives different owners different hashes', () => {
    const hash = ownerHasher(key);
    expect(new Set(owners.map(hash)).size).toBe(owners.length);
  });

  it('never contains the owner id', () => {
    const hash = ownerHasher(key);
    for (const owner of owners) {
      const hashed = hash(owner);
      expect(hashed).not.toContain(owner);
      expect(hashed.toLowerCase()).not.toContain(owner.toLowerCase());
    }
  });

  it('is a short base64url string', () => {
    const hash = ownerHasher(key);
    for (const owner of owners) expect(hash(owner)).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('is not a bare, unkeyed SHA-256 of the id', async () => {
    const { createHash } = await import('node:crypto');
    const bare = createHash('sha256').update('user-42').digest('base64url').slice(0, 16);
    expect(ownerHasher(key)('user-42')).not.toBe(bare);
  });
});
