import { describe, it, expect } from 'vitest';
import { parseProviderEntry, tokenUrlProblem } from '../src/provider.ts';

describe('tokenUrlProblem', () => {
  it('accepts any https URL', () => {
    expect(tokenUrlProblem('https://oauth2.googleapis.com/token')).toBeNull();
    expect(tokenUrlProblem('https://127.0.0.1:8443/token')).toBeNull();
  });

  it('accepts plain http on 127.0.0.0/8', () => {
    for (const url of [
      'http://127.0.0.1/token',
      'http://127.0.0.1:4000/token',
      'http://127.1.2.3/t',
      'http://127.255.255.255/t',
    ]) {
      expect(tokenUrlProblem(url)).toBeNull();
    }
  });

  it('accepts plain http on localhost, in any case', () => {
    expect(tokenUrlProblem('http://localhost:3000/token')).toBeNull();
    expect(tokenUrlProblem('http://LOCALHOST/token')).toBeNull();
  });

  it('accepts plain http on ::1', () => {
    expect(tokenUrlProblem('http://[::1]:3000/token')).toBeNull();
  });

  it('rejects plain http anywhere else', () => {
    for (const url of [
      'http://example.com/token',
      'http://10.0.0.1/token',
      'http://128.0.0.1/token',
      'http://0.0.0.0/token',
      'http://localhost.evil.example/token',
      'http://127.0.0.1.evil.example/token',
      'http://evil.example/127.0.0.1',
      'http://[::2]/token',
    ]) {
      expect(tokenUrlProblem(url)).toBe('must be https (plain http is allowed only on loopback hosts)');
    }
  });

  it('rejects other schemes', () => {
    for (const url of [
      'ftp://example.com/token',
      'file:///etc/passwd',
      'ws://127.0.0.1/token',
      'javascript:alert(1)',
    ]) {
      expect(tokenUrlProblem(url)).toBe('must be an https URL');
    }
  });

  it('rejects text that is not a URL', () => {
    for (const text of ['', 'example.com/token', '/token', 'not a url'])
      expect(tokenUrlProblem(text)).toBe('is not a URL');
  });
});

describe('parseProviderEntry', () => {
  const minimal = {
    id: 'github',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    clientId: 'cid',
    clientSecret: 'csecret',
  };

  function issues(raw: unknown): { field: string; reason: string }[] {
    const result = parseProviderEntry(raw);
    if (result.ok) throw new Error('expected the entry to be rejected');
    return result.issues;
  }

  it('applies the defaults: basic auth, no scope, 300 s buffer, 3600 s default lifetime, no rate limit', () => {
    expect(parseProviderEntry(minimal)).toEqual({
      ok: true,
      provider: {
        id: 'github',
        tokenUrl: 'https://github.com/login/oauth/access_token',
        clientId: 'cid',
        clientSecret: 'csecret',
        clientAuth: 'client_secret_basic',
        scope: null,
        refreshBufferSeconds: 300,
        defaultLifetimeSeconds: 3600,
        rateLimit: null,
      },
    });
  });

  it('keeps every field it is given', () => {
    expect(
      parseProviderEntry({
        ...minimal,
        clientAuth: 'client_secret_post',
        scope: 'repo user',
        refreshBufferSeconds: 600,
        defaultLifetimeSeconds: null,
        rateLimit: { max: 10, durationMs: 1000 },
      }),
    ).toEqual({
      ok: true,
      provider: {
        id: 'github',
        tokenUrl: 'https://github.com/login/oauth/access_token',
        clientId: 'cid',
        clientSecret: 'csecret',
        clientAuth: 'client_secret_post',
        scope: 'repo user',
        refreshBufferSeconds: 600,
        defaultLifetimeSeconds: null,
        rateLimit: { max: 10, durationMs: 1000 },
      },
    });
  });

  it('requires clientSecret with client_secret_basic (the default)', () => {
    const { clientSecret: _, ...noSecret } = minimal;
    expect(issues(noSecret)).toEqual([
      { field: 'clientSecret', reason: 'is required with clientAuth client_secret_basic' },
    ]);
  });

  it('requires clientSecret with client_secret_post', () => {
    const { clientSecret: _, ...noSecret } = minimal;
    expect(issues({ ...noSecret, clientAuth: 'client_secret_post' })).toEqual([
      { field: 'clientSecret', reason: 'is required with clientAuth client_secret_post' },
    ]);
  });

  it('does not require clientSecret with clientAuth none (public clients)', () => {
    const { clientSecret: _, ...noSecret } = minimal;
    const result = parseProviderEntry({ ...noSecret, clientAuth: 'none' });
    expect(result).toMatchObject({ ok: true, provider: { clientAuth: 'none', clientSecret: null } });
  });

  it('rejects an empty clientSecret', () => {
    expect(issues({ ...minimal, clientSecret: '' }).map((i) => i.field)).toEqual(['clientSecret']);
  });

  it('rejects plain http token URLs off loopback, naming tokenUrl', () => {
    expect(issues({ ...minimal, tokenUrl: 'http://github.com/token' })).toEqual([
      { field: 'tokenUrl', reason: 'must be https (plain http is allowed only on loopback hosts)' },
    ]);
  });

  it('accepts plain http token URLs on loopback', () => {
    for (const tokenUrl of ['http://127.0.0.1:4000/token', 'http://localhost:4000/token', 'http://[::1]:4000/token']) {
      expect(parseProviderEntry({ ...minimal, tokenUrl }).ok).toBe(true);
    }
  });

  it('names each missing required field', () => {
    expect(
      issues({})
        .map((i) => i.field)
        .sort(),
    ).toEqual(['clientId', 'id', 'tokenUrl']);
  });

  it('rejects a bad provider id', () => {
    for (const id of ['GitHub', '_x', 'a b', 'a:b', '', `p${'x'.repeat(64)}`]) {
      expect(issues({ ...minimal, id }).map((i) => i.field)).toEqual(['id']);
    }
  });

  it('rejects an unknown clientAuth, listing the methods', () => {
    const [issue] = issues({ ...minimal, clientAuth: 'private_key_jwt' });
    expect(issue?.field).toBe('clientAuth');
    expect(issue?.reason).toContain('client_secret_basic, client_secret_post, none');
  });

  it('rejects out-of-range numbers, naming the field', () => {
    expect(issues({ ...minimal, refreshBufferSeconds: -1 }).map((i) => i.field)).toEqual(['refreshBufferSeconds']);
    expect(issues({ ...minimal, refreshBufferSeconds: 86_401 }).map((i) => i.field)).toEqual(['refreshBufferSeconds']);
    expect(issues({ ...minimal, refreshBufferSeconds: '300' }).map((i) => i.field)).toEqual(['refreshBufferSeconds']);
    expect(issues({ ...minimal, defaultLifetimeSeconds: 0 }).map((i) => i.field)).toEqual(['defaultLifetimeSeconds']);
    expect(issues({ ...minimal, rateLimit: { max: 0, durationMs: 1000 } }).map((i) => i.field)).toEqual([
      'rateLimit.max',
    ]);
    expect(issues({ ...minimal, rateLimit: { max: 1 } }).map((i) => i.field)).toEqual(['rateLimit.durationMs']);
  });

  it('rejects unknown fields, naming them', () => {
    expect(issues({ ...minimal, client_secret: 'x', audience: 'y' })).toEqual([
      { field: 'client_secret, audience', reason: 'is not a known field' },
    ]);
  });

  it('rejects an entry that is not an object as "(entry)"', () => {
    for (const raw of [null, 'github', 42, []]) expect(issues(raw).map((i) => i.field)).toEqual(['(entry)']);
  });

  it('never repeats the client secret in an issue', () => {
    const secret = 'cs_TOP_SECRET_5e8d';
    const all = [
      issues({ ...minimal, clientSecret: secret, tokenUrl: 'http://example.com' }),
      issues({ ...minimal, clientSecret: 42 }),
      issues({ ...minimal, clientId: secret, clientSecret: secret, clientAuth: 'bogus' }),
    ];
    expect(JSON.stringify(all)).not.toContain(secret);
  });
});

describe('parseProviderEntry messages', () => {
  const base = { id: 'x', tokenUrl: 'https://example.com/token', clientId: 'c', clientSecret: 's' };
  it.each([
    ['refreshBufferSeconds', 1.5, 'must be a whole number of seconds'],
    ['refreshBufferSeconds', -1, 'must not be negative'],
    ['defaultLifetimeSeconds', 0, 'must be positive'],
  ])('says why %s = %j is wrong', (field, value, reason) => {
    const result = parseProviderEntry({ ...base, [field]: value });
    expect(result).toEqual({ ok: false, issues: [{ field, reason }] });
  });
});
