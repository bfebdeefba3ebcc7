import { FakeProvider, type FakeProviderOptions } from '@evergreen/fake-provider';
import { Sandbox, type ProviderEntry } from '@evergreen/test-support/sandbox';
import { startStack, type Stack } from '@evergreen/test-support/stack';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_PROVIDERS } from '../src/index.ts';

/**
 * The catalogue's dialects, each spoken by a real fake provider on 127.0.0.1: for one built-in of every family that
 * shares a dialect, an entry extends the built-in with the fake's token URL, and a real refresh runs through the
 * refresh engine, Postgres and Redis. What is asserted is what the family's entries promise: the refreshed token
 * stored, its expiry (from the answer, or the entry's default lifetime), rotation kept or not, a dead refresh token
 * ending in needs_reauth, and a transient failure left to a retry.
 */

const HOUR = 3600;
const DAY = 86_400;

interface Family {
  /** The family, as docs/providers.md names it. */
  family: string;
  /** The built-in that speaks for it, and the others sharing its dialect. */
  builtin: string;
  members: string[];
  fake: FakeProviderOptions;
  /** Seconds until the refreshed token expires, as the row should store it. */
  lifetime: number;
  rotates: boolean;
  /** The entry's own token URL, when a placeholder decides its host; metadata that fills it. */
  templated?: (fake: FakeProvider) => { entry: Partial<ProviderEntry>; metadata: Record<string, string> };
  scopes?: string[];
  /**
   * A reply that means the refresh token is dead, when the fake's own revoked answer is not the dialect's; null when
   * the provider documents no error shape we could map (the refresh is still tested, the dead token is not).
   */
  deadReply?: { status: number; body: string } | null;
  refreshTokenLifetime?: number;
}

const FAMILIES: Family[] = [
  {
    family: 'RFC 6749 JSON, Basic auth, rotating',
    builtin: 'ringcentral',
    members: ['box', 'airtable', 'twitter', 'calendly', 'docusign', 'sage', 'fitbit', 'gusto'],
    fake: { clientAuth: 'client_secret_basic', rotation: 'always', accessTokenLifetimeSeconds: HOUR },
    lifetime: HOUR,
    rotates: true,
  },
  {
    family: 'RFC 6749 JSON, credentials in the body, refresh token kept',
    builtin: 'asana',
    members: ['google', 'hubspot', 'amazon', 'heroku', 'dropbox'],
    fake: { clientAuth: 'client_secret_post', rotation: 'never', accessTokenLifetimeSeconds: HOUR },
    lifetime: HOUR,
    rotates: false,
  },
  {
    family: 'form-encoded answers unless JSON is asked for; errors with HTTP 200 (GitHub)',
    builtin: 'github-app',
    members: [],
    fake: {
      clientAuth: 'client_secret_post',
      rotation: 'always',
      errorStyle: 'github',
      responseFormat: 'form',
      expiresInFormat: 'string',
      accessTokenLifetimeSeconds: 8 * HOUR,
      refreshTokenExpiresIn: 15_897_600,
    },
    lifetime: 8 * HOUR,
    rotates: true,
    refreshTokenLifetime: 15_897_600,
  },
  {
    family: '{"ok": false} with HTTP 200 (Slack)',
    builtin: 'slack',
    members: [],
    fake: {
      clientAuth: 'client_secret_post',
      rotation: 'always',
      errorStyle: 'slack',
      accessTokenLifetimeSeconds: 12 * HOUR,
    },
    lifetime: 12 * HOUR,
    rotates: true,
  },
  {
    family: 'error codes of its own with HTTP 200 (Zoho invalid_code), data-centre host from metadata',
    builtin: 'zoho',
    members: [],
    fake: { clientAuth: 'client_secret_post', rotation: 'never', accessTokenLifetimeSeconds: HOUR },
    lifetime: HOUR,
    rotates: false,
    templated: (fake) => ({
      entry: { tokenUrl: `http://{domain}:${new URL(fake.url).port}/token`, tokenUrlHosts: ['127.0.0.1'] },
      metadata: { domain: '127.0.0.1' },
    }),
    deadReply: { status: 200, body: '{"error":"invalid_code"}' },
  },
  {
    family: 'no expires_in: the default lifetime stands',
    builtin: 'gong',
    members: ['helpscout', 'typeform', 'strava', 'webex'],
    fake: {
      clientAuth: 'client_secret_basic',
      rotation: 'never',
      echoRefreshToken: true,
      responseFields: { expiresIn: null },
    },
    lifetime: DAY,
    rotates: false,
  },
  {
    family: 'JSON request bodies, single-use refresh tokens',
    builtin: 'freshbooks',
    members: ['atlassian', 'notion', 'zendesk', 'square'],
    fake: { clientAuth: 'client_secret_post', rotation: 'always', accessTokenLifetimeSeconds: 12 * HOUR },
    lifetime: 12 * HOUR,
    rotates: true,
  },
  {
    family: "invalid_grant under HTTP 403 (Atlassian's rotating tokens)",
    builtin: 'atlassian',
    members: [],
    fake: { clientAuth: 'client_secret_post', rotation: 'always', accessTokenLifetimeSeconds: HOUR },
    lifetime: HOUR,
    rotates: true,
    deadReply: {
      status: 403,
      body: '{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}',
    },
  },
  {
    family: 'errors as a list (Fitbit)',
    builtin: 'fitbit',
    members: [],
    fake: { clientAuth: 'client_secret_basic', rotation: 'always', accessTokenLifetimeSeconds: 8 * HOUR },
    lifetime: 8 * HOUR,
    rotates: true,
    deadReply: {
      status: 400,
      body: '{"errors":[{"errorType":"invalid_grant","message":"Refresh token invalid"}],"success":false}',
    },
  },
  {
    family: 'refresh-token lifetime under its own name (Intuit x_refresh_token_expires_in)',
    builtin: 'quickbooks',
    members: [],
    fake: {
      clientAuth: 'client_secret_basic',
      rotation: 'always',
      accessTokenLifetimeSeconds: HOUR,
      extraResponse: { x_refresh_token_expires_in: 8_726_400 },
    },
    lifetime: HOUR,
    rotates: true,
    refreshTokenLifetime: 8_726_400,
  },
  {
    family: 'the tokens inside an envelope, a parameter on every request (Withings)',
    builtin: 'withings',
    members: [],
    fake: {
      clientAuth: 'client_secret_post',
      rotation: 'always',
      accessTokenLifetimeSeconds: 3 * HOUR,
      requiredParams: { action: 'requesttoken' },
      envelope: { key: 'body', fields: { status: 0 } },
    },
    lifetime: 3 * HOUR,
    rotates: true,
    deadReply: null,
  },
  {
    family: 'the scopes sent again with every refresh',
    builtin: 'ebay',
    members: ['microsoft'],
    fake: {
      clientAuth: 'client_secret_basic',
      rotation: 'never',
      requireScope: true,
      accessTokenLifetimeSeconds: 2 * HOUR,
    },
    lifetime: 2 * HOUR,
    rotates: false,
    scopes: ['https://api.ebay.com/oauth/api_scope'],
  },
  {
    family: 'the host from metadata, pinned by tokenUrlHosts; rotation with a grace period',
    builtin: 'okta',
    members: ['auth0', 'servicenow', 'gorgias', 'shopify', 'netsuite', 'docusign', 'wrike'],
    fake: {
      clientAuth: 'client_secret_basic',
      rotation: 'always',
      reuseGraceSeconds: 30,
      accessTokenLifetimeSeconds: HOUR,
    },
    lifetime: HOUR,
    rotates: true,
    templated: (fake) => ({
      entry: {
        tokenUrl: `http://{domain}:${new URL(fake.url).port}/oauth2/default/v1/token`,
        tokenUrlHosts: ['127.0.0.1'],
      },
      metadata: { domain: '127.0.0.1' },
    }),
  },
];

describe('each dialect family against the fake provider speaking it', () => {
  const sandbox = new Sandbox();
  const fakes = new Map<string, FakeProvider>();
  const metadata = new Map<string, Record<string, string>>();
  let stack: Stack;

  beforeAll(async () => {
    const entries: ProviderEntry[] = [];
    for (const f of FAMILIES) {
      const fake = await FakeProvider.start({ clientId: 'client', clientSecret: 'secret', ...f.fake });
      fakes.set(f.builtin, fake);
      const templated = f.templated?.(fake);
      metadata.set(f.builtin, templated?.metadata ?? {});
      entries.push({
        id: `${f.builtin}-dialect`,
        extends: f.builtin,
        clientId: 'client',
        clientSecret: 'secret',
        tokenUrl: fake.tokenUrl,
        ...templated?.entry,
      });
    }
    sandbox.useProviders(entries);
    stack = await startStack(sandbox);
  });

  afterAll(async () => {
    await stack?.close();
    await Promise.all([...fakes.values()].map((f) => f.close()));
    await sandbox.cleanup();
  });

  it('every family names built-ins that exist, and covers the members it claims', () => {
    const ids = new Set(BUILTIN_PROVIDERS.map((b) => b.id));
    for (const f of FAMILIES) for (const id of [f.builtin, ...f.members]) expect(ids.has(id), id).toBe(true);
  });

  async function connect(f: Family, owner: string) {
    const fake = fakes.get(f.builtin)!;
    return stack.connect(fake, {
      ownerId: `${owner}-${f.builtin}`,
      provider: `${f.builtin}-dialect`,
      expiresIn: 60,
      metadata: metadata.get(f.builtin)!,
      ...(f.scopes && { scopes: f.scopes }),
    });
  }

  const near = (actual: Date | null, expectedMs: number) => {
    expect(actual).not.toBeNull();
    expect(Math.abs(actual!.getTime() - expectedMs)).toBeLessThan(60_000);
  };

  describe.each(FAMILIES)('$family ($builtin)', (f) => {
    it('a refresh stores the new access token, its expiry, and the refresh token the dialect says to keep', async () => {
      const fake = fakes.get(f.builtin)!;
      const { connectionId, grant } = await connect(f, 'ok');
      const decision = await stack.forceRefresh(connectionId);
      expect(decision).toMatchObject({ kind: 'delay', why: 'scheduled' });
      const row = (await stack.read(connectionId))!;
      expect(row.status).toBe('connected');
      expect(row.accessToken).not.toBe(grant.accessToken);
      expect(fake.isAccessTokenValid(row.accessToken!)).toBe(true);
      near(row.expiresAt, Date.now() + f.lifetime * 1000);
      const current = fake.grant(grant.grantId)!.currentRefreshToken;
      expect(row.refreshToken).toBe(current);
      if (f.rotates) {
        expect(row.refreshToken).not.toBe(grant.refreshToken);
        expect(row.previousRefreshToken).toBe(grant.refreshToken);
      } else {
        expect(row.refreshToken).toBe(grant.refreshToken);
      }
      if (f.refreshTokenLifetime) near(row.refreshTokenExpiresAt, Date.now() + f.refreshTokenLifetime * 1000);
      const sent = fake.requests.find((r) => r.grantId === grant.grantId && r.outcome === 'ok');
      if (f.scopes) expect(sent?.scope).toBe(f.scopes.join(' '));
      // The body is written as the entry says: the fake reads either, so the media type is what proves it.
      const json = BUILTIN_PROVIDERS.find((b) => b.id === f.builtin)!.request?.format === 'json';
      expect(sent?.mediaType).toBe(json ? 'application/json' : 'application/x-www-form-urlencoded');
    });

    if (f.deadReply !== null) {
      it('a dead refresh token, in the dialect, ends in needs_reauth without a retry', async () => {
        const fake = fakes.get(f.builtin)!;
        const { connectionId, grant } = await connect(f, 'dead');
        if (f.deadReply) {
          fake.injectFaults([{ kind: 'status', ...f.deadReply, headers: { 'content-type': 'application/json' } }]);
        } else {
          fake.revoke(grant.grantId);
        }
        const decision = await stack.forceRefresh(connectionId);
        expect(decision).toEqual({ kind: 'stop', status: 'needs_reauth', reason: 'invalid_grant' });
        expect((await stack.read(connectionId))!.status).toBe('needs_reauth');
      });
    } else {
      // Withings answers a refused refresh with HTTP 200, a non-zero status and an error text, no documented code: the
      // entry maps nothing, so such an answer is retried with backoff (docs/providers.md says so) rather than guessed at.
      it('an error the dialect gives no code for is retried, never taken for a dead grant', async () => {
        const fake = fakes.get(f.builtin)!;
        const { connectionId } = await connect(f, 'uncoded');
        fake.injectFaults([
          {
            kind: 'status',
            status: 200,
            body: '{"status":503,"error":"Invalid Params: invalid refresh_token"}',
            headers: { 'content-type': 'application/json' },
          },
        ]);
        const decision = await stack.forceRefresh(connectionId);
        expect(decision).toMatchObject({ kind: 'delay', why: 'retry' });
        expect((await stack.read(connectionId))!.status).toBe('connected');
      });
    }

    it('a 503 is transient: a retry is scheduled and the connection stays connected', async () => {
      const fake = fakes.get(f.builtin)!;
      const { connectionId } = await connect(f, 'flaky');
      fake.injectFaults([{ kind: 'status', status: 503 }]);
      const decision = await stack.forceRefresh(connectionId);
      expect(decision).toMatchObject({ kind: 'delay', why: 'retry' });
      expect((await stack.read(connectionId))!.status).toBe('connected');
    });
  });
});
