import { describe, expect, it } from 'vitest';
import { isUnauthorized } from '../src/fresh-token.ts';

describe('isUnauthorized', () => {
  it.each([
    ['a fetch Response', new Response(null, { status: 401 })],
    ['an undici response', { statusCode: 401, body: {} }],
    ['an error with status', Object.assign(new Error('x'), { status: 401 })],
    ['an axios-style error', { response: { status: 401 } }],
    ['a got-style error', { response: { statusCode: 401 } }],
  ])('recognises %s', (_name, value) => expect(isUnauthorized(value)).toBe(true));

  it.each([
    ['a 403', new Response(null, { status: 403 })],
    ['a 200', { statusCode: 200 }],
    ['a string', '401'],
    ['null', null],
    ['a number', 401],
  ])('ignores %s', (_name, value) => expect(isUnauthorized(value)).toBe(false));
});
