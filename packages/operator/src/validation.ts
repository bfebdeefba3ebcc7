import { InvalidInputError, type InputIssue } from '@evergreen/core';
import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';

type Part = 'params' | 'querystring' | 'body';

/** zod issues as the API reports them: a dotted field and a reason a person can act on. Never the input value. */
export function toIssues(error: z.ZodError, part: Part): InputIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: path === '' ? key : `${path}.${key}`, reason: 'is not a known field' }));
    }
    return { field: path === '' ? (part === 'body' ? 'body' : '(input)') : path, reason: issue.message };
  });
}

/**
 * Fastify's validator compiler for the operator API's zod schemas: each part is parsed with its schema and replaced by
 * zod's output (coerced numbers, defaults), so handlers get what the type provider types them with. A failure becomes
 * an InvalidInputError naming each field, which the plugin answers as 400 ERR_INVALID_INPUT. fastify-type-provider-zod
 * has a compiler of its own; this one is used instead because that one reports Ajv-shaped `validation` entries and
 * parses an absent body as Fastify's `null`, where the bulk refresh's body must take its default.
 */
export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part: Part = httpPart === 'params' ? 'params' : httpPart === 'body' ? 'body' : 'querystring';
  return (value: unknown) => {
    const result = schema.safeParse(value ?? undefined);
    if (result.success) return { value: result.data };
    return { error: new InvalidInputError(`invalid ${part}`, toIssues(result.error, part)) };
  };
};
