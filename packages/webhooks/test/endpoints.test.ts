import { describe, expect, it } from 'vitest';
import { endpointWants, parseWebhookEndpoints } from '../src/index.ts';

const secret = 'whsec_0123456789abcdef';

describe('parseWebhookEndpoints', () => {
  it('reads a list of endpoints, events defaulting to all', () => {
    const { endpoints, issues } = parseWebhookEndpoints([
      { id: 'crm', url: 'https://crm.example.com/hooks', secret },
      { id: 'ops_2', url: 'http://127.0.0.1:8080/hooks', secret, events: ['connection.needs_reauth'] },
      { id: 'local', url: 'http://localhost:9000/', secret, events: ['*'] },
    ]);
    expect(issues).toEqual([]);
    expect(endpoints).toEqual([
      { id: 'crm', url: 'https://crm.example.com/hooks', secret, events: ['*'] },
      { id: 'ops_2', url: 'http://127.0.0.1:8080/hooks', secret, events: ['connection.needs_reauth'] },
      { id: 'local', url: 'http://localhost:9000/', secret, events: ['*'] },
    ]);
    expect(endpointWants(endpoints[0]!, 'connection.refreshed')).toBe(true);
    expect(endpointWants(endpoints[1]!, 'connection.refreshed')).toBe(false);
    expect(endpointWants(endpoints[1]!, 'connection.needs_reauth')).toBe(true);
  });

  it('reads the list as JSON text (an environment variable), and nothing as no endpoints', () => {
    const text = JSON.stringify([{ id: 'crm', url: 'https://crm.example.com/hooks', secret }]);
    expect(parseWebhookEndpoints(text).endpoints).toHaveLength(1);
    expect(parseWebhookEndpoints(undefined)).toEqual({ endpoints: [], issues: [] });
    expect(parseWebhookEndpoints('  ')).toEqual({ endpoints: [], issues: [] });
  });

  it('names each problem by source, index, id and field', () => {
    const { endpoints, issues } = parseWebhookEndpoints(
      [
        { id: 'ok', url: 'https://a.example.com', secret },
        { id: 'Bad Id', url: 'https://b.example.com', secret },
        { id: 'plain', url: 'http://hooks.example.com/x', secret },
        { id: 'ftp', url: 'ftp://example.com/x', secret },
        { id: 'nourl', secret },
        { id: 'notaurl', url: 'not a url', secret },
        { id: 'short', url: 'https://c.example.com', secret: 'short-secret' },
        { id: 'ok', url: 'https://d.example.com', secret },
        { id: 'ev', url: 'https://e.example.com', secret, events: [] },
        { id: 'ev2', url: 'https://e.example.com', secret, events: ['*', 'connection.refreshed'] },
        { id: 'ev3', url: 'https://e.example.com', secret, events: ['Refreshed', 7] },
        { id: 'typo', url: 'https://e.example.com', secret, event: ['connection.refreshed'] },
        'not an object',
      ],
      'hooks.json',
    );
    expect(endpoints.map((e) => e.id)).toEqual(['ok']);
    expect(issues.map((i) => i.field)).toEqual([
      'hooks.json[1].id',
      'hooks.json[2] (plain).url',
      'hooks.json[3] (ftp).url',
      'hooks.json[4] (nourl).url',
      'hooks.json[5] (notaurl).url',
      'hooks.json[6] (short).secret',
      'hooks.json[7] (ok).id',
      'hooks.json[8] (ev).events',
      'hooks.json[9] (ev2).events[0]',
      'hooks.json[10] (ev3).events[0]',
      'hooks.json[10] (ev3).events[1]',
      'hooks.json[11] (typo).event',
      'hooks.json[12]',
    ]);
    expect(issues.find((i) => i.field.endsWith('(plain).url'))?.reason).toMatch(/https/);
    expect(issues.find((i) => i.field.endsWith('(ok).id'))?.reason).toBe('duplicates hooks.json[0]');
    expect(issues.find((i) => i.field.endsWith('(short).secret'))?.reason).toMatch(/at least 16 characters/);
  });

  it('defaults the source to EVERGREEN_WEBHOOKS and rejects what is not a list', () => {
    expect(parseWebhookEndpoints({ id: 'x' }).issues).toEqual([
      { field: 'EVERGREEN_WEBHOOKS', reason: 'must be a list of { id, url, secret, events? }' },
    ]);
    expect(parseWebhookEndpoints([{ id: 'x', url: 'https://x.example.com' }]).issues[0]?.field).toBe(
      'EVERGREEN_WEBHOOKS[0] (x).secret',
    );
  });

  it('checks kinds against a known list when given one', () => {
    const raw = [{ id: 'x', url: 'https://x.example.com', secret, events: ['connection.refreshd'] }];
    expect(parseWebhookEndpoints(raw).issues).toEqual([]);
    const { issues } = parseWebhookEndpoints(raw, undefined, { knownKinds: ['connection.refreshed'] });
    expect(issues).toEqual([
      { field: 'EVERGREEN_WEBHOOKS[0] (x).events[0]', reason: 'is not an event kind (connection.refreshed)' },
    ]);
  });

  it('never puts a secret into an issue, not even a short one or broken JSON around one', () => {
    const leaky = 'short-secret-x';
    const { issues } = parseWebhookEndpoints([
      { id: 'a', url: 'https://a.example.com', secret: leaky },
      { id: leaky.toUpperCase(), url: 'http://example.com', secret: `${leaky}-long-enough` },
    ]);
    expect(issues.length).toBeGreaterThan(0);
    expect(JSON.stringify(issues)).not.toMatch(/short-secret/i);
    const broken = parseWebhookEndpoints(`[{"id":"a","secret":"${leaky}"`);
    expect(broken.issues).toEqual([{ field: 'EVERGREEN_WEBHOOKS', reason: 'is not valid JSON' }]);
  });
});
