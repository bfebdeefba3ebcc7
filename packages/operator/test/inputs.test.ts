import { InvalidInputError } from '@evergreen/core';
import { describe, expect, it } from 'vitest';
import { bulkRefreshBody, connectionParams, listQuery } from '../src/inputs.ts';
import { toIssues, zodValidatorCompiler } from '../src/validation.ts';

const issuesOf = (schema: typeof listQuery | typeof bulkRefreshBody, value: unknown) => {
  const result = schema.safeParse(value);
  return result.success ? [] : toIssues(result.error, 'querystring');
};

describe('operator inputs', () => {
  it('coerces and defaults the list query', () => {
    expect(listQuery.parse({})).toEqual({ limit: 50 });
    expect(
      listQuery.parse({ limit: '500', expiringWithinSeconds: '0', status: 'token_expired', cursor: 'a.b-c_d' }),
    ).toEqual({
      limit: 500,
      expiringWithinSeconds: 0,
      status: 'token_expired',
      cursor: 'a.b-c_d',
    });
    expect(listQuery.parse({ provider: '', limit: '' })).toEqual({ limit: 50 });
  });

  it('names each bad field with a reason, and each unknown one', () => {
    expect(issuesOf(listQuery, { limit: '0', status: 'nope', extra: '1', other: '2' })).toEqual(
      expect.arrayContaining([
        { field: 'limit', reason: 'must be at least 1' },
        { field: 'status', reason: expect.stringContaining('must be one of connected') },
        { field: 'extra', reason: 'is not a known field' },
        { field: 'other', reason: 'is not a known field' },
      ]),
    );
  });

  it('bounds the bulk refresh and only takes live statuses', () => {
    expect(bulkRefreshBody.parse(undefined)).toEqual({ limit: 1000 });
    expect(bulkRefreshBody.parse({ provider: 'acme' })).toEqual({ provider: 'acme', limit: 1000 });
    expect(issuesOf(bulkRefreshBody, { limit: 1001 })).toEqual([{ field: 'limit', reason: 'must be at most 1000' }]);
    expect(issuesOf(bulkRefreshBody, { status: 'error' })[0]!.field).toBe('status');
    expect(issuesOf(bulkRefreshBody, 'all')[0]!.field).toBe('(input)');
  });

  it('takes connection ids as the SDK does', () => {
    expect(connectionParams.safeParse({ id: 'conn_1.a-B' }).success).toBe(true);
    for (const id of ['', 'a:b', 'a b', 'x'.repeat(129), 'é'])
      expect(connectionParams.safeParse({ id }).success).toBe(false);
  });

  it('refuses ids of dots alone, which a URL path reads as "this" or "parent" (issue 15, finding 11)', () => {
    for (const id of ['.', '..', '...']) {
      const result = connectionParams.safeParse({ id });
      expect(result.success, id).toBe(false);
      if (!result.success) {
        expect(toIssues(result.error, 'params')).toEqual([
          { field: 'id', reason: 'must be 1-128 characters of letters, digits, "_", "." or "-", and not dots alone' },
        ]);
      }
      expect(listQuery.safeParse({ cursor: id }).success, id).toBe(false);
    }
    expect(connectionParams.safeParse({ id: '.a' }).success).toBe(true);
  });

  it('zodValidatorCompiler: validates with zod, replaces the part with its output, fails with InvalidInputError', () => {
    type Validate = (v: unknown) => { value?: unknown; error?: Error };
    const validate = zodValidatorCompiler({
      schema: listQuery,
      method: 'GET',
      url: '/',
      httpPart: 'querystring',
    }) as Validate;
    expect(validate({ limit: '7' })).toEqual({ value: { limit: 7 } });
    const { error } = validate({ limit: 'x' });
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).issues).toEqual([{ field: 'limit', reason: 'must be a whole number' }]);
    // Fastify hands an absent body over as null: the schema's default applies.
    const body = zodValidatorCompiler({
      schema: bulkRefreshBody,
      method: 'POST',
      url: '/',
      httpPart: 'body',
    }) as Validate;
    expect(body(null)).toEqual({ value: { limit: 1000 } });
  });
});
