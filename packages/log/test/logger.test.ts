import { randomBytes } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import { generateApiKey } from '@evergreen/api-keys';
import { createLogger, ownerHasher, redactSecrets } from '../src/index.ts';

/** Every key that names a secret somewhere in Evergreen, its providers, HTTP or its configuration. */
const SECRET_KEYS = [
  'accessToken',
  'refreshToken',
  'previousRefreshToken',
  'replacedRefreshToken',
  'access_token',
  'refresh_token',
  'id_token',
  'idToken',
  'token',
  'secret',
  'clientSecret',
  'client_secret',
  'webhookSecret',
  'password',
  'privateKey',
  'private_key',
  'credentials',
  'assertion',
  'clientAssertion',
  'client_assertion',
  'authorization',
  'Authorization',
  'proxy-authorization',
  'cookie',
  'Cookie',
  'set-cookie',
  'apiKey',
  'api_key',
  'x-api-key',
  'code_verifier',
  'encryptionKeys',
  'EVERGREEN_ENCRYPTION_KEYS',
  'EVERGREEN_ADMIN_TOKEN',
  'EVERGREEN_ADMIN_PASSWORD',
  'secretHash',
  'secret_hash',
];

/** `{ a: { b: ... { [key]: value, keep } } }`, with `depth` levels in all (1: the key is at the top). */
function nested(depth: number, key: string, value: unknown): Record<string, unknown> {
  let object: Record<string, unknown> = { [key]: value, keep: 'visible' };
  for (let level = depth - 1; level > 0; level--) object = { [`level${level}`]: object };
  return object;
}

/** The object at `depth` inside what `nested` built, read back from a parsed line. */
function dig(line: Record<string, unknown> | undefined, depth: number): Record<string, unknown> {
  let object = line as Record<string, unknown>;
  for (let level = 1; level < depth; level++) object = object[`level${level}`] as Record<string, unknown>;
  return object;
}

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

  describe('redaction', () => {
    for (const key of SECRET_KEYS) {
      for (const depth of [1, 3, 6]) {
        it(`redacts "${key}" at depth ${depth}`, () => {
          const { logger, raw, lines } = capture();
          const secret = secretFor(key);
          logger.info(nested(depth, key, secret), 'msg');
          expect(raw.join('')).not.toContain(secret);
          expect(dig(lines()[0], depth)).toMatchObject({ [key]: '[redacted]', keep: 'visible' });
        });
      }

      it(`redacts "${key}" inside arrays`, () => {
        const { logger, raw, lines } = capture();
        const secret = secretFor(key);
        logger.info({ items: [{ [key]: secret }, [{ deeper: { [key]: secret } }], 'plain'] }, 'msg');
        expect(raw.join('')).not.toContain(secret);
        expect(lines()[0]).toMatchObject({
          items: [{ [key]: '[redacted]' }, [{ deeper: { [key]: '[redacted]' } }], 'plain'],
        });
      });

      it(`redacts "${key}" carried by a logged error, at any depth`, () => {
        const { logger, raw, lines } = capture();
        const secret = secretFor(key);
        const error = Object.assign(new Error('token endpoint refused'), {
          [key]: secret,
          response: { body: nested(3, key, secret) },
        });
        logger.error({ err: error, wrapped: { err: error } }, 'failed');
        logger.error(error);
        expect(raw.join('')).not.toContain(secret);
        const [first, second] = lines();
        expect(first?.err).toMatchObject({ type: 'Error', message: 'token endpoint refused', [key]: '[redacted]' });
        expect((first?.wrapped as { err: unknown }).err).toMatchObject({ [key]: '[redacted]' });
        expect(second?.err).toMatchObject({ type: 'Error', [key]: '[redacted]' });
        expect(second?.msg).toBe('token endpoint refused');
      });
    }

    it('replaces the whole value of a secret key, objects included', () => {
      const { logger, raw, lines } = capture();
      logger.info({ connection: { credentials: { username: 'u', password: 'pw-inside' } } }, 'msg');
      expect(raw.join('')).not.toContain('pw-inside');
      expect(lines()[0]).toMatchObject({ connection: { credentials: '[redacted]' } });
    });

    it('leaves keys that only look alike: token URLs, key ids, token counts, flags', () => {
      const { logger, lines } = capture();
      const kept = {
        tokenUrl: 'https://idp.example/token',
        tokenType: 'Bearer',
        keyId: 'k1',
        key: 'evergreen:lock:c1',
        tokens: 3,
        hasRefreshToken: true,
        expiresAt: '2026-01-01T00:00:00.000Z',
        provider: 'acme',
      };
      logger.info({ ...kept, nested: kept }, 'msg');
      expect(lines()[0]).toMatchObject({ ...kept, nested: kept });
    });

    it('takes the password out of connection strings in any value, error or message', () => {
      const { logger, raw, lines } = capture();
      const urls = [
        'postgres://evergreen:pg-Pass_1@db.internal:5432/evergreen',
        'postgresql://u:p%40ss-2@10.0.0.1/db?sslmode=require',
        'redis://:redis-pass-3@cache:6379/0',
        'rediss://default:redis-pass-4@cache.example:6380',
      ];
      for (const url of urls) {
        logger.warn({ config: { databaseUrl: url }, list: [url], err: new Error(`cannot reach ${url}`) }, `at ${url}`);
      }
      const all = raw.join('');
      for (const secret of ['pg-Pass_1', 'p%40ss-2', 'redis-pass-3', 'redis-pass-4']) expect(all).not.toContain(secret);
      expect(lines()[0]).toMatchObject({
        config: { databaseUrl: 'postgres://evergreen:[redacted]@db.internal:5432/evergreen' },
        msg: 'at postgres://evergreen:[redacted]@db.internal:5432/evergreen',
      });
      expect(lines()[2]).toMatchObject({ list: ['redis://:[redacted]@cache:6379/0'] });
      // A URL object prints its href, password included, unless redacted; a Date still prints as itself.
      logger.info({ target: new URL('postgres://u:url-pass-5@h/db'), at: new Date(0) }, 'msg');
      expect(raw.at(-1)).not.toContain('url-pass-5');
      expect(lines().at(-1)).toMatchObject({
        target: 'postgres://u:[redacted]@h/db',
        at: '1970-01-01T00:00:00.000Z',
      });
      // A URL without a password, and an e-mail address, are left as they are.
      logger.info({ url: 'redis://cache:6379', owner: 'alice@example.com', at: 'https://user@host/' }, 'msg');
      expect(lines()[5]).toMatchObject({
        url: 'redis://cache:6379',
        owner: 'alice@example.com',
        at: 'https://user@host/',
      });
    });

    it('survives circular objects', () => {
      const { logger, raw, lines } = capture();
      const loop: Record<string, unknown> = { name: 'loop', accessToken: 'at-circular' };
      loop.self = loop;
      logger.info({ loop }, 'msg');
      expect(raw.join('')).not.toContain('at-circular');
      expect(lines()[0]).toMatchObject({ loop: { name: 'loop', accessToken: '[redacted]' } });
    });

    it('hands a flat object without secrets through as it is, without copying it (the refresh line)', () => {
      const line = { connection: 'c1', provider: 'acme', outcome: 'success', httpStatus: 200, ms: 12, next: 'delay' };
      expect(redactSecrets(line)).toBe(line);
      const withSecret = { ...line, accessToken: 'at' };
      expect(redactSecrets(withSecret)).toEqual({ ...line, accessToken: '[redacted]' });
    });

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

    it('redacts secrets in the bindings of a child logger, and of its children, at any depth', () => {
      const { logger, raw } = capture();
      const child = logger.child({ accessToken: 'at_child_binding', connectionId: 'c1' });
      child.info('from child');
      child
        .child({ ctx: { provider: { clientSecret: 'cs_grandchild', url: 'redis://:rp_grandchild@h' } } })
        .info('from grandchild');
      const all = raw.join('');
      for (const secret of ['at_child_binding', 'cs_grandchild', 'rp_grandchild']) expect(all).not.toContain(secret);
      expect(all).toContain('c1');
      expect(raw).toHaveLength(2);
    });
  });
});

describe('API keys in log lines', () => {
  it('replaces an Evergreen API key found in any string: a message, a value, an error, a URL', () => {
    const key = generateApiKey().key;
    const { logger, raw, lines } = capture();
    logger.info(
      { url: `/api/api-keys/${key}/revoke`, note: `pasted "${key}" here`, keyId: '0123456789abcdef' },
      'line',
    );
    logger.warn(`a message with ${key} in it`);
    logger.error(new Error(`failed for ${key}`));
    expect(raw.join('')).not.toContain(key);
    expect(raw.join('')).not.toContain(key.slice(-43));
    expect(lines()[0]).toMatchObject({
      url: '/api/api-keys/[redacted]/revoke',
      note: 'pasted "[redacted]" here',
      keyId: '0123456789abcdef', // the id alone is public
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
