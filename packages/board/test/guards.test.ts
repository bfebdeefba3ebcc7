import { describe, expect, it } from 'vitest';
import { addressKey } from '../src/guards/address-key.ts';
import { csrfRefusal } from '../src/guards/csrf.ts';
import { isLoopbackHostHeader } from '../src/guards/loopback-host.ts';

describe('csrfRefusal', () => {
  const basic = { authorization: 'Basic b3BlcmF0b3I6c2VjcmV0', host: 'board:3000' };

  it.each([
    ['GET', {}, null],
    ['HEAD', { 'sec-fetch-site': 'cross-site' }, null],
    ['POST', { 'content-type': 'text/plain' }, 'ERR_CSRF_HEADER_REQUIRED'],
    ['POST', { 'content-type': 'application/x-www-form-urlencoded' }, 'ERR_CSRF_HEADER_REQUIRED'],
    ['POST', {}, 'ERR_CSRF_HEADER_REQUIRED'],
    ['POST', { 'content-type': 'application/json' }, null],
    ['POST', { 'content-type': 'Application/JSON; charset=utf-8' }, null],
    ['POST', { 'content-type': 'application/json-patch+json' }, 'ERR_CSRF_HEADER_REQUIRED'],
    ['POST', { 'x-evergreen-request': '1' }, null],
    ['PUT', {}, null],
    ['DELETE', {}, null],
    ['POST', { 'content-type': 'application/json', 'sec-fetch-site': 'cross-site' }, 'ERR_CROSS_SITE_REQUEST'],
    ['PUT', { 'sec-fetch-site': 'same-site' }, 'ERR_CROSS_SITE_REQUEST'],
    ['POST', { 'x-evergreen-request': '1', 'sec-fetch-site': 'same-origin' }, null],
    ['POST', { 'x-evergreen-request': '1', 'sec-fetch-site': 'none' }, null],
    ['POST', { 'x-evergreen-request': '1', origin: 'http://board:3000' }, null],
    ['POST', { 'x-evergreen-request': '1', origin: 'https://board:3000' }, null],
    ['POST', { 'x-evergreen-request': '1', origin: 'http://board:3001' }, 'ERR_CROSS_ORIGIN_REQUEST'],
    ['PUT', { origin: 'https://evil.example' }, 'ERR_CROSS_ORIGIN_REQUEST'],
    ['POST', { 'x-evergreen-request': '1', origin: 'null' }, 'ERR_CROSS_ORIGIN_REQUEST'],
  ] as const)('%s with %j → %s', (method, headers, expected) => {
    expect(csrfRefusal(method, { ...basic, ...headers })?.error ?? null).toBe(expected);
  });

  it('lets a bearer client post without a content type, but not from another site', () => {
    const bearer = { authorization: 'Bearer abc', host: 'board:3000' };
    expect(csrfRefusal('POST', bearer)).toBeNull();
    expect(csrfRefusal('POST', { ...bearer, 'sec-fetch-site': 'cross-site' })?.error).toBe('ERR_CROSS_SITE_REQUEST');
    expect(csrfRefusal('POST', { ...bearer, origin: 'https://evil.example' })?.error).toBe('ERR_CROSS_ORIGIN_REQUEST');
  });
});

describe('isLoopbackHostHeader', () => {
  it.each([
    'localhost',
    'localhost:3000',
    'LocalHost',
    '127.0.0.1',
    '127.0.0.1:80',
    '127.9.9.9:1',
    '[::1]',
    '[::1]:3000',
  ])('accepts %s', (host) => expect(isLoopbackHostHeader(host)).toBe(true));
  it.each([
    undefined,
    '',
    'evil.example',
    'localhost.evil.example',
    '127.0.0.1.nip.io',
    '10.0.0.1',
    '0.0.0.0:3000',
    '[::]:3000',
    'user@127.0.0.1',
    '127.0.0.1@evil.example',
    'evil.example/127.0.0.1',
  ])('refuses %s', (host) => expect(isLoopbackHostHeader(host)).toBe(false));
});

describe('addressKey', () => {
  it.each([
    ['10.1.2.3', '10.1.2.3'],
    ['::ffff:10.1.2.3', '10.1.2.3'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:0:0:0:9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ])('%s → %s', (ip, key) => expect(addressKey(ip)).toBe(key));
});
