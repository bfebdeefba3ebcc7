import { describe, it, expect } from 'vitest';
import {
  resolveTokenUrl,
  tokenUrlHostPlaceholders,
  tokenUrlPlaceholders,
  tokenUrlProblem,
  tokenUrlTemplateProblem,
} from '../src/token-url.ts';
import { hostAllowed, hostPatternProblem } from '../src/token-url-hosts.ts';

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

describe('tokenUrlPlaceholders', () => {
  it('lists the placeholders in order', () => {
    expect(tokenUrlPlaceholders('{instance_url}/services/oauth2/token')).toEqual(['instance_url']);
    expect(tokenUrlPlaceholders('https://{subdomain}.example.com/{tenant}/token')).toEqual(['subdomain', 'tenant']);
    expect(tokenUrlPlaceholders('https://example.com/token')).toEqual([]);
  });
});

describe('tokenUrlTemplateProblem', () => {
  it('accepts a plain https URL and https templates with placeholders in the host or the path', () => {
    for (const template of [
      'https://oauth2.googleapis.com/token',
      'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
      'https://{subdomain}.zendesk.com/oauth/tokens',
      'http://127.0.0.1:4000/{tenant}/token',
    ]) {
      expect(tokenUrlTemplateProblem(template)).toBeNull();
    }
  });

  it('accepts a leading placeholder that stands for a whole origin', () => {
    expect(tokenUrlTemplateProblem('{instance_url}/services/oauth2/token')).toBeNull();
  });

  it('applies the https rule to the template', () => {
    expect(tokenUrlTemplateProblem('http://{subdomain}.example.com/token')).toBe(
      'must be https (plain http is allowed only on loopback hosts)',
    );
    expect(tokenUrlTemplateProblem('ftp://{host}/token')).toBe('must be an https URL');
  });

  it('leaves an http URL whose host is a placeholder to the run-time check, which sees the real host', () => {
    expect(tokenUrlTemplateProblem('http://{host}:8080/token')).toBeNull();
    const template = {
      tokenUrl: 'http://{host}:8080/token',
      tokenUrlHosts: ['127.0.0.1', 'auth.example.com'],
      metadataDefaults: {},
    };
    expect(resolveTokenUrl(template, { host: '127.0.0.1' })).toEqual({ ok: true, url: 'http://127.0.0.1:8080/token' });
    expect(resolveTokenUrl(template, { host: 'auth.example.com' })).toEqual({
      ok: false,
      field: 'tokenUrl',
      reason: 'must be https (plain http is allowed only on loopback hosts)',
    });
  });

  it('rejects a template that cannot become a URL', () => {
    expect(tokenUrlTemplateProblem('token/{tenant}')).toBe('is not a URL');
    expect(tokenUrlTemplateProblem('')).toBe('is not a URL');
  });
});

describe('hostAllowed', () => {
  const patterns = ['login.salesforce.com', '*.salesforce.com'];

  it('matches exact hosts, ignoring case', () => {
    expect(hostAllowed('login.salesforce.com', ['login.salesforce.com'])).toBe(true);
    expect(hostAllowed('LOGIN.Salesforce.COM', ['login.salesforce.com'])).toBe(true);
    expect(hostAllowed('login.salesforce.com', ['LOGIN.SALESFORCE.COM'])).toBe(true);
    expect(hostAllowed('test.salesforce.com', ['login.salesforce.com'])).toBe(false);
  });

  it('*.salesforce.com matches any subdomain, at any depth', () => {
    expect(hostAllowed('sub.salesforce.com', ['*.salesforce.com'])).toBe(true);
    expect(hostAllowed('acme.my.salesforce.com', ['*.salesforce.com'])).toBe(true);
    expect(hostAllowed('ACME.my.Salesforce.com', ['*.salesforce.com'])).toBe(true);
  });

  it('*.salesforce.com does not match the bare domain', () => {
    expect(hostAllowed('salesforce.com', ['*.salesforce.com'])).toBe(false);
  });

  it('*.salesforce.com does not match look-alikes', () => {
    for (const host of [
      'salesforce.com.evil.com',
      'evilsalesforce.com',
      'sub.salesforce.com.evil.com',
      'salesforce.co',
      'sub.salesforce.comm',
    ]) {
      expect(hostAllowed(host, ['*.salesforce.com'])).toBe(false);
    }
  });

  it('matches when any pattern does; an empty list allows nothing', () => {
    expect(hostAllowed('login.salesforce.com', patterns)).toBe(true);
    expect(hostAllowed('acme.my.salesforce.com', patterns)).toBe(true);
    expect(hostAllowed('login.salesforce.com', [])).toBe(false);
  });
});

describe('resolveTokenUrl', () => {
  const microsoft = {
    tokenUrl: 'https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token',
    tokenUrlHosts: ['login.microsoftonline.com'],
    metadataDefaults: { tenant: 'common' },
  };
  const zendesk = {
    tokenUrl: 'https://{subdomain}.zendesk.com/oauth/tokens',
    tokenUrlHosts: ['*.zendesk.com'],
    metadataDefaults: {},
  };
  const salesforce = {
    tokenUrl: '{instance_url}/services/oauth2/token',
    tokenUrlHosts: ['login.salesforce.com', 'test.salesforce.com', '*.salesforce.com', '*.force.com'],
    metadataDefaults: { instance_url: 'https://login.salesforce.com' },
  };

  it('returns a URL without placeholders as it is', () => {
    const plain = { tokenUrl: 'https://oauth2.googleapis.com/token', tokenUrlHosts: null, metadataDefaults: {} };
    expect(resolveTokenUrl(plain, {})).toEqual({ ok: true, url: 'https://oauth2.googleapis.com/token' });
    expect(resolveTokenUrl(plain, { tenant: 'ignored' })).toEqual({
      ok: true,
      url: 'https://oauth2.googleapis.com/token',
    });
  });

  describe('{tenant}', () => {
    it("fills in the provider's default when the connection has none", () => {
      expect(resolveTokenUrl(microsoft, {})).toEqual({
        ok: true,
        url: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
      });
    });

    it("prefers the connection's metadata over the default", () => {
      expect(resolveTokenUrl(microsoft, { tenant: 'contoso.onmicrosoft.com' })).toEqual({
        ok: true,
        url: 'https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token',
      });
    });

    it('falls back to the default for an empty or non-string value', () => {
      for (const tenant of ['', 42, null, { id: 'x' }]) {
        expect(resolveTokenUrl(microsoft, { tenant })).toEqual({
          ok: true,
          url: 'https://login.microsoftonline.com/common/oauth2/v2.0/token',
        });
      }
    });

    it('rejects a value that would add path segments or a query', () => {
      for (const tenant of ['a/b', 'common?x=1', 'common#x', 'a b', 'a%2Fb']) {
        expect(resolveTokenUrl(microsoft, { tenant })).toEqual({
          ok: false,
          field: 'metadata.tenant',
          reason: 'must be letters, digits, ".", "_" or "-"',
        });
      }
    });
  });

  describe('{subdomain}', () => {
    it('fills in a subdomain', () => {
      expect(resolveTokenUrl(zendesk, { subdomain: 'acme' })).toEqual({
        ok: true,
        url: 'https://acme.zendesk.com/oauth/tokens',
      });
    });

    it('rejects a value that would move the request to another host', () => {
      for (const subdomain of ['evil.com/x', 'a@b', 'evil.com:443', 'evil.com?', 'x\\y']) {
        expect(resolveTokenUrl(zendesk, { subdomain })).toEqual({
          ok: false,
          field: 'metadata.subdomain',
          reason: 'must be letters, digits, ".", "_" or "-"',
        });
      }
    });

    it('names a missing (or empty) value as metadata.<name>, since there is no default', () => {
      for (const metadata of [{}, { subdomain: '' }, { other: 'acme' }]) {
        expect(resolveTokenUrl(zendesk, metadata)).toEqual({
          ok: false,
          field: 'metadata.subdomain',
          reason: "is required by this provider's token URL",
        });
      }
    });

    it('names the first problem when several placeholders are wrong', () => {
      const two = {
        tokenUrl: 'https://{a}.example.com/{b}/token',
        tokenUrlHosts: ['*.example.com'],
        metadataDefaults: {},
      };
      expect(resolveTokenUrl(two, { b: 'x/y' })).toMatchObject({ ok: false, field: 'metadata.a' });
      expect(resolveTokenUrl(two, { a: 'ok', b: 'x/y' })).toMatchObject({ ok: false, field: 'metadata.b' });
      expect(resolveTokenUrl(two, { a: 'ok', b: 'fine' })).toEqual({
        ok: true,
        url: 'https://ok.example.com/fine/token',
      });
    });
  });

  describe('{instance_url}, a leading origin placeholder', () => {
    it('uses the default origin when the connection has no instance URL yet', () => {
      expect(resolveTokenUrl(salesforce, {})).toEqual({
        ok: true,
        url: 'https://login.salesforce.com/services/oauth2/token',
      });
    });

    it("uses the connection's instance URL, stripped to its origin", () => {
      expect(resolveTokenUrl(salesforce, { instance_url: 'https://acme.my.salesforce.com' })).toEqual({
        ok: true,
        url: 'https://acme.my.salesforce.com/services/oauth2/token',
      });
      for (const instance_url of [
        'https://acme.my.salesforce.com/',
        'https://acme.my.salesforce.com/some/path?x=1#frag',
        'https://user:pass@acme.my.salesforce.com/x',
      ]) {
        expect(resolveTokenUrl(salesforce, { instance_url })).toEqual({
          ok: true,
          url: 'https://acme.my.salesforce.com/services/oauth2/token',
        });
      }
    });

    it('keeps a port', () => {
      expect(resolveTokenUrl(salesforce, { instance_url: 'https://acme.my.salesforce.com:8443/x' })).toEqual({
        ok: true,
        url: 'https://acme.my.salesforce.com:8443/services/oauth2/token',
      });
    });

    it('must be an https URL', () => {
      for (const instance_url of [
        'http://acme.my.salesforce.com',
        'acme.my.salesforce.com',
        'ftp://acme.my.salesforce.com',
        'javascript:alert(1)',
        'not a url',
      ]) {
        expect(resolveTokenUrl(salesforce, { instance_url })).toEqual({
          ok: false,
          field: 'metadata.instance_url',
          reason: 'must be an https URL',
        });
      }
    });

    it('allows plain http on loopback when the allow-list names it (local development)', () => {
      const local = { ...salesforce, tokenUrlHosts: ['127.0.0.1'] };
      expect(resolveTokenUrl(local, { instance_url: 'http://127.0.0.1:4000/whatever' })).toEqual({
        ok: true,
        url: 'http://127.0.0.1:4000/services/oauth2/token',
      });
    });
  });

  describe('the host allow-list', () => {
    it('*.salesforce.com accepts a subdomain', () => {
      expect(resolveTokenUrl(salesforce, { instance_url: 'https://sub.salesforce.com' })).toMatchObject({ ok: true });
      expect(resolveTokenUrl(salesforce, { instance_url: 'https://acme.my.site.force.com' })).toMatchObject({
        ok: true,
      });
    });

    it('rejects a look-alike host and the bare domain, naming tokenUrl', () => {
      for (const host of ['salesforce.com.evil.com', 'evil.com', 'salesforce.com']) {
        expect(resolveTokenUrl(salesforce, { instance_url: `https://${host}` })).toEqual({
          ok: false,
          field: 'tokenUrl',
          reason: `host ${host} is not one this provider allows`,
        });
      }
    });

    it('rejects a subdomain value that leaves the allowed hosts', () => {
      const pinned = { ...zendesk, tokenUrl: 'https://{subdomain}.example.com/token' };
      expect(resolveTokenUrl(pinned, { subdomain: 'acme' })).toEqual({
        ok: false,
        field: 'tokenUrl',
        reason: 'host acme.example.com is not one this provider allows',
      });
    });

    it('null allows no host from metadata at all', () => {
      const open = { ...salesforce, tokenUrlHosts: null };
      expect(resolveTokenUrl(open, { instance_url: 'https://auth.example.org' })).toEqual({
        ok: false,
        field: 'tokenUrl',
        reason: 'takes its host from metadata, and this provider lists no tokenUrlHosts',
      });
    });
  });

  it('applies the https rule to the filled-in URL, naming tokenUrl', () => {
    const insecure = {
      tokenUrl: 'http://{host}/token',
      tokenUrlHosts: ['example.com', '127.0.0.1'],
      metadataDefaults: {},
    };
    expect(resolveTokenUrl(insecure, { host: 'example.com' })).toEqual({
      ok: false,
      field: 'tokenUrl',
      reason: 'must be https (plain http is allowed only on loopback hosts)',
    });
    expect(resolveTokenUrl(insecure, { host: '127.0.0.1' })).toEqual({ ok: true, url: 'http://127.0.0.1/token' });
  });

  it('never repeats a rejected value in its answer', () => {
    const secret = 'evil-SECRET-7d1f.example/x';
    expect(JSON.stringify(resolveTokenUrl(zendesk, { subdomain: secret }))).not.toContain('SECRET');
    expect(JSON.stringify(resolveTokenUrl(salesforce, { instance_url: `http://${secret}` }))).not.toContain('SECRET');
  });
});

describe('resolveTokenUrl refuses dot-only and dotted-edge values', () => {
  const provider = {
    tokenUrl: 'https://{subdomain}.zendesk.com/x/{tenant}/token',
    tokenUrlHosts: ['*.zendesk.com'],
    metadataDefaults: { tenant: 't' },
  };
  it.each(['.', '..', 'a..b', '.a', 'a.'])('subdomain %j', (subdomain) => {
    expect(resolveTokenUrl(provider, { subdomain })).toMatchObject({ ok: false, field: 'metadata.subdomain' });
  });
  it.each(['..', '.'])('tenant %j', (tenant) => {
    expect(resolveTokenUrl(provider, { subdomain: 'acme', tenant })).toMatchObject({
      ok: false,
      field: 'metadata.tenant',
    });
  });
  it('accepts dotted names that are real hosts', () => {
    expect(resolveTokenUrl(provider, { subdomain: 'eu.acme' })).toEqual({
      ok: true,
      url: 'https://eu.acme.zendesk.com/x/t/token',
    });
  });
});

describe('tokenUrlHostPlaceholders', () => {
  it('names the placeholders that decide the scheme, host or port', () => {
    expect(tokenUrlHostPlaceholders('{instance_url}/services/oauth2/token')).toEqual(['instance_url']);
    expect(tokenUrlHostPlaceholders('https://{okta_domain}/oauth2/v1/token')).toEqual(['okta_domain']);
    expect(tokenUrlHostPlaceholders('https://{subdomain}.zendesk.com/oauth/tokens')).toEqual(['subdomain']);
    expect(tokenUrlHostPlaceholders('https://auth.example.com:{port}/token')).toEqual(['port']);
    expect(tokenUrlHostPlaceholders('https://auth.example.com{rest}/token')).toEqual(['rest']);
    expect(tokenUrlHostPlaceholders('{scheme}://auth.example.com/token')).toEqual(['scheme']);
  });

  it('leaves out placeholders of the path and the query, which cannot move the request to another host', () => {
    expect(tokenUrlHostPlaceholders('https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token')).toEqual([]);
    expect(tokenUrlHostPlaceholders('http://127.0.0.1:4000/{tenant}/token')).toEqual([]);
    expect(tokenUrlHostPlaceholders('https://auth.example.com/token?tenant={tenant}')).toEqual([]);
    expect(tokenUrlHostPlaceholders('https://auth.example.com/token')).toEqual([]);
  });
});

describe('hostAllowed never lets a wildcard match an IP address', () => {
  it.each(['127.0.0.1', '10.0.0.1', '[::1]', '[::ffff:7f00:1]'])('%s', (host) => {
    expect(hostAllowed(host, ['*.0.0.1', '*.0.1', '*.1', '*.7f00:1]', '*.1]'])).toBe(false);
  });

  it('an IP address listed exactly still matches', () => {
    expect(hostAllowed('127.0.0.1', ['127.0.0.1'])).toBe(true);
    expect(hostAllowed('[::1]', ['[::1]'])).toBe(true);
  });
});

describe('hostPatternProblem', () => {
  it('accepts host names, IP addresses as a URL writes them, and *. before a domain of two labels or more', () => {
    for (const pattern of [
      'login.salesforce.com',
      'LOGIN.Salesforce.com',
      '*.salesforce.com',
      '*.my.salesforce.com',
      'localhost',
      '127.0.0.1',
      '[::1]',
      'auth_server.internal',
    ]) {
      expect(hostPatternProblem(pattern), pattern).toBeNull();
    }
  });

  it('refuses what is not a host: a scheme, a path, a port, user info', () => {
    for (const pattern of [
      'https://login.salesforce.com',
      'login.salesforce.com/x',
      'login.salesforce.com:443',
      'me@login.salesforce.com',
      '',
      ' ',
      '::1',
    ]) {
      expect(hostPatternProblem(pattern), pattern).not.toBeNull();
    }
  });

  it('names the written form of an IP address given in another form', () => {
    expect(hostPatternProblem('2130706433')).toBe('must be written as a URL writes it: 127.0.0.1');
    expect(hostPatternProblem('0x7f.1')).toBe('must be written as a URL writes it: 127.0.0.1');
    expect(hostPatternProblem('[0:0:0:0:0:0:0:1]')).toBe('must be written as a URL writes it: [::1]');
  });

  it('refuses a wildcard over a top-level domain or an IP address, and "*" anywhere but the start', () => {
    for (const pattern of ['*', '*.com', '*.0.0.1', '*.[::1]', 'a.*.example.com', '**.example.com', '*example.com']) {
      expect(hostPatternProblem(pattern), pattern).not.toBeNull();
    }
  });
});

describe('resolveTokenUrl: a host taken from metadata', () => {
  const okta = {
    tokenUrl: 'https://{okta_domain}/oauth2/v1/token',
    tokenUrlHosts: ['*.okta.com'],
    metadataDefaults: {},
  };
  const instance = { tokenUrl: '{instance_url}/token', tokenUrlHosts: ['*.example.com'], metadataDefaults: {} };
  const refused = (reason: string) => ({ ok: false, field: 'tokenUrl', reason });
  const NO_LIST = 'takes its host from metadata, and this provider lists no tokenUrlHosts';

  it('is refused when the provider has no allow-list, whatever the host (the loader refuses such entries too)', () => {
    const open = { ...okta, tokenUrlHosts: null };
    for (const okta_domain of ['attacker.example', 'acme.okta.com', '127.0.0.1']) {
      expect(resolveTokenUrl(open, { okta_domain })).toEqual(refused(NO_LIST));
    }
    const openInstance = { ...instance, tokenUrlHosts: null };
    for (const instance_url of ['http://127.0.0.1:6379', 'https://auth.example.org', 'http://localhost:6379']) {
      expect(resolveTokenUrl(openInstance, { instance_url })).toEqual(refused(NO_LIST));
    }
    expect(resolveTokenUrl({ ...openInstance, metadataDefaults: { instance_url: 'https://a.example' } }, {})).toEqual(
      refused(NO_LIST),
    );
  });

  it('is refused as an IP address in every form WHATWG URL reads, even where a wildcard would match it', () => {
    const wide = {
      tokenUrl: 'https://{host}/token',
      tokenUrlHosts: ['*.0.0.1', '*.254.169.254', '*.1'],
      metadataDefaults: {},
    };
    for (const host of [
      '127.0.0.1',
      '10.0.0.1',
      '2130706433',
      '0x7f000001',
      '0177.0.0.1',
      '127.1',
      '0x7f.1',
      '169.254.169.254',
      '0.0.0.1',
    ]) {
      const result = resolveTokenUrl(wide, { host });
      expect(result, host).toMatchObject({ ok: false, field: 'tokenUrl' });
      expect(result.ok ? '' : result.reason, host).toMatch(/is an IP address or a loopback name/);
    }
  });

  it('refuses IPv6 literals, IPv4-mapped ones included, and the unspecified address, unless listed exactly', () => {
    const list = { ...instance, tokenUrlHosts: ['*.example.com', '*.1]'] };
    for (const instance_url of [
      'https://[::1]',
      'https://[::ffff:127.0.0.1]',
      'https://[::ffff:a9fe:a9fe]',
      'https://[fe80::1]',
      'https://[fc00::1]',
      'https://0.0.0.0',
      'https://0',
    ]) {
      expect(resolveTokenUrl(list, { instance_url }), instance_url).toMatchObject({ ok: false, field: 'tokenUrl' });
    }
  });

  it('refuses localhost and names under it (RFC 6761: always loopback) unless listed exactly', () => {
    const dev = {
      tokenUrl: 'https://{host}:8080/token',
      tokenUrlHosts: ['*.localhost', '*.example.com'],
      metadataDefaults: {},
    };
    for (const host of ['localhost', 'evil.localhost', 'a.b.localhost']) {
      expect(resolveTokenUrl(dev, { host }), host).toMatchObject({ ok: false, field: 'tokenUrl' });
    }
  });

  it('an address or loopback name listed exactly is local development or a test: allowed, in any form', () => {
    const local = {
      tokenUrl: 'http://{host}:8080/token',
      tokenUrlHosts: ['127.0.0.1', 'localhost'],
      metadataDefaults: {},
    };
    expect(resolveTokenUrl(local, { host: '127.0.0.1' })).toEqual({ ok: true, url: 'http://127.0.0.1:8080/token' });
    expect(resolveTokenUrl(local, { host: '2130706433' })).toEqual({ ok: true, url: 'http://127.0.0.1:8080/token' });
    expect(resolveTokenUrl(local, { host: 'localhost' })).toEqual({ ok: true, url: 'http://localhost:8080/token' });
    expect(resolveTokenUrl(local, { host: '127.0.0.2' })).toMatchObject({ ok: false, field: 'tokenUrl' });
    const v6 = { ...instance, tokenUrlHosts: ['[::1]'] };
    expect(resolveTokenUrl(v6, { instance_url: 'http://[0:0:0:0:0:0:0:1]:8080' })).toEqual({
      ok: true,
      url: 'http://[::1]:8080/token',
    });
  });

  it('a host name the allow-list covers is used as before', () => {
    expect(resolveTokenUrl(okta, { okta_domain: 'acme.okta.com' })).toEqual({
      ok: true,
      url: 'https://acme.okta.com/oauth2/v1/token',
    });
    expect(resolveTokenUrl(okta, { okta_domain: 'attacker.example' })).toEqual(
      refused('host attacker.example is not one this provider allows'),
    );
  });

  it('a host written by the operator, with placeholders only in the path, is not held to these rules', () => {
    const local = { tokenUrl: 'http://127.0.0.1:4000/{tenant}/token', tokenUrlHosts: null, metadataDefaults: {} };
    expect(resolveTokenUrl(local, { tenant: 'acme' })).toEqual({ ok: true, url: 'http://127.0.0.1:4000/acme/token' });
  });
});
