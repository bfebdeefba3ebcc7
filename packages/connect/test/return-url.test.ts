import { describe, expect, it } from 'vitest';
import { returnUrlProblem, withResult } from '../src/return-url.ts';

const ALLOWED = ['https://app.example.com/connected', 'http://127.0.0.1:5173/'];

describe('returnUrlProblem', () => {
  it.each([
    'https://app.example.com/connected',
    'https://app.example.com/connected/',
    'https://app.example.com/connected/spotify?user=1',
    'http://127.0.0.1:5173/anything/at/all',
  ])('allows %s', (url) => expect(returnUrlProblem(url, ALLOWED)).toBeNull());

  it.each([
    ['https://app.example.com/connected-elsewhere', 'segment boundary'],
    ['https://app.example.com/other', 'another path'],
    ['https://app.example.com.evil.com/connected', 'a longer host'],
    ['https://app.example.com@evil.com/connected', 'credentials naming another host'],
    ['https://user:pw@app.example.com/connected', 'credentials'],
    ['http://app.example.com/connected', 'another scheme'],
    ['https://app.example.com:8443/connected', 'another port'],
    ['http://127.0.0.1:5174/', 'another port on loopback'],
    ['javascript:alert(1)//https://app.example.com/connected', 'a script'],
    ['//app.example.com/connected', 'a relative URL'],
  ])('refuses %s (%s)', (url) => expect(returnUrlProblem(url, ALLOWED)).not.toBeNull());

  it('refuses everything when the list is empty, saying why', () => {
    expect(returnUrlProblem('https://app.example.com/connected', [])).toBe(
      'is not allowed: EVERGREEN_CONNECT_RETURN_URLS is empty',
    );
  });
});

describe('withResult', () => {
  it("adds the result to the app's own query", () => {
    expect(withResult('https://app.example.com/connected?flow=7', { connectionId: 'c 1', status: 'connected' })).toBe(
      'https://app.example.com/connected?flow=7&connectionId=c+1&status=connected',
    );
  });
});
