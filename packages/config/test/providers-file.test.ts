import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, it, expect } from 'vitest';
import { ConfigError } from '@evergreen/core';
import { loadConfig } from '../src/config.ts';
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

/** What the two entries resolve to: `google` starts from the built-in, `local` from the defaults. */
const expectedProviders = [
  expect.objectContaining({
    id: 'google',
    displayName: 'Google',
    grant: 'refresh_token',
    tokenUrl: 'https://oauth2.googleapis.com/token',
    clientId: 'g-id.apps.googleusercontent.com',
    clientSecret: 'g-secret',
    clientAuth: 'client_secret_post',
    request: expect.objectContaining({ format: 'form', scope: 'none', scopeValue: null }),
    rotation: { rotates: 'never', graceSeconds: 0 },
    refreshBufferSeconds: 600,
    defaultLifetimeSeconds: 3600,
    rateLimit: null,
    queueShards: null,
  }),
  expect.objectContaining({
    id: 'local',
    displayName: 'local',
    tokenUrl: 'http://127.0.0.1:4555/token',
    clientId: 'public-client',
    clientSecret: null,
    clientAuth: 'none',
    request: expect.objectContaining({ scope: 'fixed', scopeValue: 'read write' }),
    rotation: { rotates: 'sometimes', graceSeconds: 0 },
    refreshBufferSeconds: 300,
    defaultLifetimeSeconds: null,
    rateLimit: { max: 5, durationMs: 1000 },
  }),
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
    ).toEqual(['providers[0] (x).clientId', 'providers[0] (x).clientSecret', 'providers[0] (x).tokenUrl']);
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

describe('a providers file that extends the built-ins', () => {
  const EXTENDS_YAML = `
- id: spotify
  clientId: \${SPOTIFY_ID}
  clientSecret: \${SPOTIFY_SECRET}
- id: my-sf
  extends: salesforce
  displayName: Acme Salesforce
  clientId: \${SF_ID}
  clientSecret: \${SF_SECRET}
  metadataDefaults:
    instance_url: https://acme.my.salesforce.com
  request:
    params:
      format: json
  response:
    metadata:
      org: id
- id: sandbox-sf
  extends: my-sf
  tokenUrlHosts:
    - test.salesforce.com
  metadataDefaults:
    instance_url: https://test.salesforce.com
- id: slack
  clientId: slack-id
  clientSecret: \${SLACK_SECRET}
  errors:
    team_suspended: invalid_grant
- id: tokens
  extends: github-pat
`;
  const extendsEnv = {
    SPOTIFY_ID: 'sp-id',
    SPOTIFY_SECRET: 'sp-secret',
    SF_ID: 'sf-id',
    SF_SECRET: 'sf-secret',
    SLACK_SECRET: 'sl-secret',
  };

  it('an entry named like a built-in starts from it; extends takes a built-in or an earlier entry', () => {
    const path = file('extends.yaml', EXTENDS_YAML);
    const { providers, issues } = readProvidersFile(path, extendsEnv);
    expect(issues).toEqual([]);
    expect(providers.map((p) => p.id)).toEqual(['spotify', 'my-sf', 'sandbox-sf', 'slack', 'tokens']);
    const [spotify, mySf, sandbox, slack, tokens] = providers;

    expect(spotify).toMatchObject({
      displayName: 'Spotify',
      tokenUrl: 'https://accounts.spotify.com/api/token',
      clientId: 'sp-id',
      clientSecret: 'sp-secret',
      clientAuth: 'client_secret_basic',
    });

    expect(mySf).toMatchObject({
      displayName: 'Acme Salesforce',
      tokenUrl: '{instance_url}/services/oauth2/token',
      tokenUrlHosts: ['login.salesforce.com', 'test.salesforce.com', '*.salesforce.com', '*.force.com'],
      metadataDefaults: { instance_url: 'https://acme.my.salesforce.com' },
      clientId: 'sf-id',
      clientSecret: 'sf-secret',
      clientAuth: 'client_secret_post',
      rotation: { rotates: 'never' },
      defaultLifetimeSeconds: 7200,
    });
    expect(mySf!.request.params).toEqual({ format: 'json' });
    expect(mySf!.response).toMatchObject({
      expiresIn: null,
      issuedAt: 'issued_at',
      issuedAtFormat: 'epoch_milliseconds',
      metadata: { instance_url: 'instance_url', org: 'id' },
    });

    expect(sandbox).toMatchObject({
      displayName: 'Acme Salesforce',
      tokenUrlHosts: ['test.salesforce.com'],
      metadataDefaults: { instance_url: 'https://test.salesforce.com' },
      clientId: 'sf-id',
    });
    expect(sandbox!.response.metadata).toEqual({ instance_url: 'instance_url', org: 'id' });

    expect(slack).toMatchObject({ clientSecret: 'sl-secret', response: { successFlag: 'ok' } });
    expect(slack!.errors).toMatchObject({ invalid_refresh_token: 'invalid_grant', team_suspended: 'invalid_grant' });

    expect(tokens).toMatchObject({ grant: 'none', tokenUrl: '', clientId: null });
  });

  it('parseProviders resolves the same document', () => {
    const { providers, issues } = parseProviders(
      [
        { id: 'spotify', clientId: '${SPOTIFY_ID}', clientSecret: '${SPOTIFY_SECRET}' },
        { id: 'zendesk', clientId: 'z', clientSecret: 'zs' },
      ],
      extendsEnv,
    );
    expect(issues).toEqual([]);
    expect(providers).toEqual([
      expect.objectContaining({ id: 'spotify', clientId: 'sp-id', clientSecret: 'sp-secret' }),
      expect.objectContaining({
        id: 'zendesk',
        tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
        tokenUrlHosts: ['*.zendesk.com'],
        keepAliveSeconds: 86_400,
        request: expect.objectContaining({ format: 'json' }),
      }),
    ]);
  });

  it('a built-in named without its credentials names what is missing', () => {
    const path = file('no-creds.yaml', '- id: spotify\n');
    expect(readProvidersFile(path, {})).toEqual({
      providers: [],
      issues: [
        { field: `${path}[0] (spotify).clientId`, reason: 'is required' },
        { field: `${path}[0] (spotify).clientSecret`, reason: 'is required with clientAuth client_secret_basic' },
      ],
    });
  });

  it('a missing ${VAR} in an entry that extends is named with the entry and the field', () => {
    const path = file('extends-missing.yaml', EXTENDS_YAML);
    const { issues } = readProvidersFile(path, { ...extendsEnv, SF_SECRET: undefined });
    expect(issues).toContainEqual({
      field: `${path}[1] (my-sf).clientSecret`,
      reason: '${SF_SECRET} is not set in the environment',
    });
  });

  it('an unknown extends is named with the entry', () => {
    const path = file('unknown-extends.yaml', '- id: mine\n  extends: nowhere\n  clientId: a\n  clientSecret: b\n');
    expect(readProvidersFile(path, {}).issues).toEqual([
      { field: `${path}[0] (mine).extends`, reason: "'nowhere' is neither a built-in nor an earlier entry" },
    ]);
  });

  it('custom-json needs a token URL from the file', () => {
    const path = file(
      'custom.yaml',
      '- id: custom-json\n- id: mine\n  extends: custom-json\n  tokenUrl: https://api.example.com/auth/refresh\n',
    );
    const { providers, issues } = readProvidersFile(path, {});
    expect(issues).toEqual([{ field: `${path}[0] (custom-json).tokenUrl`, reason: 'is required' }]);
    expect(providers).toEqual([
      expect.objectContaining({
        id: 'mine',
        tokenUrl: 'https://api.example.com/auth/refresh',
        clientAuth: 'none',
        request: expect.objectContaining({ format: 'json', grantTypeField: null, refreshTokenField: 'refreshToken' }),
      }),
    ]);
  });

  describe('a bad field inside request or response is named with its path', () => {
    const base = '- id: spotify\n  clientId: a\n  clientSecret: b\n';

    it.each([
      ['request:\n    format: xml\n', 'request.format', 'must be one of form, json'],
      ['request:\n    scope: everything\n', 'request.scope', 'must be one of none, connection, fixed'],
      ['request:\n    params:\n      audience: 3\n', 'request.params.audience', expect.any(String)],
      ['request:\n    body: json\n', 'request.body', 'is not a known field'],
      ['request:\n    scope: fixed\n', 'request.scopeValue', 'is required with scope fixed'],
      ['response:\n    expiresInUnit: minutes\n', 'response.expiresInUnit', 'must be one of seconds, milliseconds'],
      ['response:\n    accessToken: ""\n', 'response.accessToken', 'must not be empty'],
      ['response:\n    expires: expires_in\n', 'response.expires', 'is not a known field'],
      ['response:\n    metadata:\n      org: 5\n', 'response.metadata.org', expect.any(String)],
      ['errors:\n    bad_refresh_token: reauth\n', 'errors.bad_refresh_token', expect.any(String)],
      ['rotation:\n    graceSeconds: -1\n', 'rotation.graceSeconds', 'must not be negative'],
    ])('%j', (yaml, field, reason) => {
      const path = file(`bad-${field}.yaml`, `${base}  ${yaml}`);
      expect(readProvidersFile(path, {})).toEqual({
        providers: [],
        issues: [{ field: `${path}[0] (spotify).${field}`, reason }],
      });
    });

    it('a missing ${VAR} inside request.params is named by its path', () => {
      const path = file('nested-var.yaml', `${base}  request:\n    params:\n      audience: \${AUDIENCE}\n`);
      expect(readProvidersFile(path, {}).issues).toEqual([
        { field: `${path}[0] (spotify).request.params.audience`, reason: '${AUDIENCE} is not set in the environment' },
      ]);
      expect(readProvidersFile(path, { AUDIENCE: 'https://api.example' }).providers[0]!.request.params).toEqual({
        audience: 'https://api.example',
      });
    });
  });
});

describe('a token URL whose host comes from connection metadata (issue 15, finding 3)', () => {
  // Not a built-in's id: an entry named like one (the catalogue's okta) would start from its allow-list.
  const idp = '- id: idp\n  tokenUrl: https://{idp_domain}/oauth2/v1/token\n  clientId: a\n  clientSecret: b\n';
  const instance = '- id: crm\n  tokenUrl: "{instance_url}/services/oauth2/token"\n  clientId: a\n  clientSecret: b\n';

  it('stops start-up with a ConfigError naming the entry and tokenUrlHosts when no allow-list is given', () => {
    const path = file('host-placeholder.yaml', idp + instance);
    expect(readProvidersFile(path, {}).issues.map((i) => i.field)).toEqual([
      `${path}[0] (idp).tokenUrlHosts`,
      `${path}[1] (crm).tokenUrlHosts`,
    ]);
    const env = { EVERGREEN_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('base64')}`, EVERGREEN_PROVIDERS: path };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(`${path}[0] (idp).tokenUrlHosts: is required`);
  });

  it('loads with an allow-list of hosts', () => {
    const path = file('host-allow-list.yaml', `${idp}  tokenUrlHosts: ["*.okta.com"]\n`);
    const { providers, issues } = readProvidersFile(path, {});
    expect(issues).toEqual([]);
    expect(providers[0]!.tokenUrlHosts).toEqual(['*.okta.com']);
  });

  it('refuses an entry that clears the allow-list of a built-in whose host comes from metadata', () => {
    const path = file('cleared.yaml', '- id: salesforce\n  clientId: a\n  clientSecret: b\n  tokenUrlHosts: null\n');
    expect(readProvidersFile(path, {}).issues.map((i) => i.field)).toEqual([`${path}[0] (salesforce).tokenUrlHosts`]);
  });
});
