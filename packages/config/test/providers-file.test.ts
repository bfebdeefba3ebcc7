import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { parseProviders, readProvidersFile } from '../src/providers-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'evergreen-providers-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const env = { GOOGLE_ID: 'g-id.apps.googleusercontent.com', GOOGLE_SECRET: 'g-secret', FAKE_PORT: '4555' };

const YAML = `
- id: google
  tokenUrl: https://oauth2.googleapis.com/token
  clientId: \${GOOGLE_ID}
  clientSecret: \${GOOGLE_SECRET}
  clientAuth: client_secret_post
  refreshBufferSeconds: 600
- id: local
  tokenUrl: http://127.0.0.1:\${FAKE_PORT}/token
  clientId: public-client
  clientAuth: none
  scope: read write
  defaultLifetimeSeconds: null
  rateLimit:
    max: 5
    durationMs: 1000
`;

const expectedProviders = [
  {
    id: 'google',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    clientId: 'g-id.apps.googleusercontent.com',
    clientSecret: 'g-secret',
    clientAuth: 'client_secret_post',
    scope: null,
    refreshBufferSeconds: 600,
    defaultLifetimeSeconds: 3600,
    rateLimit: null,
  },
  {
    id: 'local',
    tokenUrl: 'http://127.0.0.1:4555/token',
    clientId: 'public-client',
    clientSecret: null,
    clientAuth: 'none',
    scope: 'read write',
    refreshBufferSeconds: 300,
    defaultLifetimeSeconds: null,
    rateLimit: { max: 5, durationMs: 1000 },
  },
];

describe('readProvidersFile', () => {
  it('reads a YAML list of entries, substituting ${VAR} from the environment and applying defaults', () => {
    expect(readProvidersFile(file('providers.yaml', YAML), env)).toEqual({ providers: expectedProviders, issues: [] });
  });

  it('reads the same entries from JSON', () => {
    const json = JSON.stringify([
      {
        id: 'google',
        tokenUrl: 'https://oauth2.googleapis.com/token',
        clientId: '${GOOGLE_ID}',
        clientSecret: '${GOOGLE_SECRET}',
        clientAuth: 'client_secret_post',
        refreshBufferSeconds: 600,
      },
      {
        id: 'local',
        tokenUrl: 'http://127.0.0.1:${FAKE_PORT}/token',
        clientId: 'public-client',
        clientAuth: 'none',
        scope: 'read write',
        defaultLifetimeSeconds: null,
        rateLimit: { max: 5, durationMs: 1000 },
      },
    ]);
    expect(readProvidersFile(file('providers.json', json), env)).toEqual({ providers: expectedProviders, issues: [] });
  });

  it('accepts a document of the form { providers: [...] }', () => {
    const path = file('wrapped.yaml', `providers:\n${YAML.replace(/^/gm, '  ')}`);
    expect(readProvidersFile(path, env).providers.map((p) => p.id)).toEqual(['google', 'local']);
  });

  it('substitutes several placeholders inside one value and leaves other dollar signs alone', () => {
    const path = file(
      'multi.yaml',
      '- id: multi\n  tokenUrl: https://${HOST}:${PORT}/token\n  clientId: a$b\n  clientSecret: "$NOT_A_PLACEHOLDER ${SECRET}"\n',
    );
    const { providers, issues } = readProvidersFile(path, { HOST: 'auth.example', PORT: '8443', SECRET: 's3' });
    expect(issues).toEqual([]);
    expect(providers[0]).toMatchObject({
      tokenUrl: 'https://auth.example:8443/token',
      clientId: 'a$b',
      clientSecret: '$NOT_A_PLACEHOLDER s3',
    });
  });

  it('names a missing ${VAR} together with the entry index, id and field', () => {
    const path = file('missing.yaml', YAML);
    const { issues } = readProvidersFile(path, { GOOGLE_ID: 'g', FAKE_PORT: '1' });
    expect(issues).toContainEqual({
      field: `${path}[0] (google).clientSecret`,
      reason: '${GOOGLE_SECRET} is not set in the environment',
    });
  });

  it("names a bad entry's index, id and field", () => {
    const path = file(
      'bad-entry.yaml',
      '- id: ok\n  tokenUrl: https://ok.example/token\n  clientId: a\n  clientSecret: b\n- id: slack\n  tokenUrl: http://slack.example/token\n  clientId: c\n  clientSecret: d\n',
    );
    const { providers, issues } = readProvidersFile(path, {});
    expect(providers.map((p) => p.id)).toEqual(['ok']);
    expect(issues).toEqual([
      { field: `${path}[1] (slack).tokenUrl`, reason: 'must be https (plain http is allowed only on loopback hosts)' },
    ]);
  });

  it('names an entry without an id by its index alone', () => {
    const path = file(
      'no-id.json',
      JSON.stringify([{ tokenUrl: 'https://x.example/token', clientId: 'a', clientSecret: 'b' }]),
    );
    expect(readProvidersFile(path, {}).issues).toEqual([{ field: `${path}[0].id`, reason: 'is required' }]);
  });

  it('names a missing clientSecret for basic auth', () => {
    const path = file('no-secret.yaml', '- id: acme\n  tokenUrl: https://acme.example/token\n  clientId: a\n');
    expect(readProvidersFile(path, {}).issues).toEqual([
      { field: `${path}[0] (acme).clientSecret`, reason: 'is required with clientAuth client_secret_basic' },
    ]);
  });

  it('names unknown fields of an entry', () => {
    const path = file(
      'unknown.yaml',
      '- id: acme\n  tokenUrl: https://acme.example/token\n  clientId: a\n  clientSecret: b\n  secret: c\n',
    );
    expect(readProvidersFile(path, {}).issues).toEqual([
      { field: `${path}[0] (acme).secret`, reason: 'is not a known field' },
    ]);
  });

  it('rejects duplicate ids, naming the second entry', () => {
    const entry = '- id: dup\n  tokenUrl: https://dup.example/token\n  clientId: a\n  clientSecret: b\n';
    const path = file('dup.yaml', entry + entry);
    const { providers, issues } = readProvidersFile(path, {});
    expect(providers).toHaveLength(1);
    expect(issues).toEqual([{ field: `${path}[1] (dup).id`, reason: "'dup' is defined twice" }]);
  });

  it('reports every bad entry, not just the first', () => {
    const path = file(
      'many-bad.json',
      JSON.stringify([
        { id: 'a', tokenUrl: 'ftp://a', clientId: 'a', clientSecret: 's' },
        { id: 'b', tokenUrl: 'https://b.example', clientId: '', clientSecret: 's' },
        { id: 'c', tokenUrl: 'https://c.example', clientId: 'c', clientAuth: 'nope', clientSecret: 's' },
      ]),
    );
    expect(readProvidersFile(path, {}).issues.map((i) => i.field)).toEqual([
      `${path}[0] (a).tokenUrl`,
      `${path}[1] (b).clientId`,
      `${path}[2] (c).clientAuth`,
    ]);
  });

  it('reports a file that cannot be read', () => {
    const path = join(dir, 'absent.yaml');
    expect(readProvidersFile(path, {})).toEqual({
      providers: [],
      issues: [{ field: 'EVERGREEN_PROVIDERS', reason: `cannot read ${path} (ENOENT)` }],
    });
  });

  it('reports a file that does not parse', () => {
    for (const [name, text] of [
      ['broken.json', '[{"id": "x",'],
      ['broken.yaml', '- id: x\n  tokenUrl: [unclosed\n'],
    ] as const) {
      const path = file(name, text);
      const { providers, issues } = readProvidersFile(path, {});
      expect(providers).toEqual([]);
      expect(issues).toHaveLength(1);
      expect(issues[0]?.field).toBe('EVERGREEN_PROVIDERS');
      expect(issues[0]?.reason).toContain(`${path} does not parse`);
    }
  });

  it('reports a document that is not a list', () => {
    const path = file('object.yaml', 'id: x\ntokenUrl: https://x.example\n');
    expect(readProvidersFile(path, {}).issues).toEqual([
      { field: path, reason: 'must be a list of provider entries (or { providers: [...] })' },
    ]);
  });

  it('reads an empty list as no providers', () => {
    expect(readProvidersFile(file('empty.yaml', '[]\n'), {})).toEqual({ providers: [], issues: [] });
  });
});

describe('parseProviders', () => {
  it('uses "providers" as the source name by default', () => {
    expect(
      parseProviders([{ id: 'x' }], {})
        .issues.map((i) => i.field)
        .sort(),
    ).toEqual(['providers[0] (x).clientId', 'providers[0] (x).tokenUrl']);
  });

  it('substitutes inside nested objects, naming the nested field when a variable is missing', () => {
    const { issues } = parseProviders(
      [
        {
          id: 'x',
          tokenUrl: 'https://x.example',
          clientId: 'a',
          clientSecret: 'b',
          rateLimit: { max: '${MAX}', durationMs: 1 },
        },
      ],
      {},
    );
    expect(issues).toContainEqual({
      field: 'providers[0] (x).rateLimit.max',
      reason: '${MAX} is not set in the environment',
    });
  });

  it('rejects a document that is neither a list nor { providers: [...] }', () => {
    for (const document of [null, 'x', 42, { providers: 'x' }, {}]) {
      expect(parseProviders(document, {}, 'src').issues).toEqual([
        { field: 'src', reason: 'must be a list of provider entries (or { providers: [...] })' },
      ]);
    }
  });

  it('rejects entries that are not objects', () => {
    expect(parseProviders(['github', null], {}).issues).toEqual([
      { field: 'providers[0].(entry)', reason: expect.any(String) },
      { field: 'providers[1].(entry)', reason: expect.any(String) },
    ]);
  });

  it('leaves non-string values alone', () => {
    const { providers } = parseProviders(
      [
        {
          id: 'x',
          tokenUrl: 'https://x.example',
          clientId: 'a',
          clientSecret: 'b',
          refreshBufferSeconds: 120,
          defaultLifetimeSeconds: null,
        },
      ],
      {},
    );
    expect(providers[0]).toMatchObject({ refreshBufferSeconds: 120, defaultLifetimeSeconds: null });
  });
});

describe('a providers file that does not parse', () => {
  it.each([
    ['providers.yaml', '- id: x\n  clientSecret: cs_LITERAL_SECRET_1\n   tokenUrl: [oops', 'line'],
    ['providers.json', '[{"id": "x",\n "clientSecret": "cs_LITERAL_SECRET_1" "tokenUrl": 1}]', 'line 2'],
  ])('%s is reported by position, never by quoting its text', (name, text, where) => {
    const { issues } = readProvidersFile(file(`bad-${name}`, text), {});
    expect(issues).toHaveLength(1);
    expect(issues[0]!.reason).toContain(where);
    expect(issues[0]!.reason).not.toContain('cs_LITERAL');
  });
});
