import { InvalidInputError, type InputIssue } from '@evergreen/core';
import type { FastifySchema, FastifySchemaCompiler } from 'fastify';
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

/** Parses with zod or throws the API's 400. For values that do not come through a route schema. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, part: Part, context: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidInputError(context, toIssues(result.error, part));
  return result.data;
}

export interface ZodRouteSchemas {
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  response?: Record<number, z.ZodType>;
  summary?: string;
  description?: string;
  tags?: string[];
}

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;

/**
 * A route's JSON schemas (for the OpenAPI document) and a validator compiler that validates each part with its zod
 * schema instead of Ajv, replacing the part with zod's output (coerced numbers, defaults). A failure becomes an
 * InvalidInputError, which the plugin's error handler answers as 400 ERR_INVALID_INPUT with its issues.
 */
export function zodRoute(schemas: ZodRouteSchemas): {
  schema: FastifySchema;
  validatorCompiler: FastifySchemaCompiler<unknown>;
} {
  const schema: FastifySchema & Record<string, unknown> = {};
  if (schemas.summary) schema.summary = schemas.summary;
  if (schemas.description) schema.description = schemas.description;
  if (schemas.tags) schema.tags = schemas.tags;
  if (schemas.params) schema.params = jsonSchema(schemas.params, 'input');
  if (schemas.querystring) schema.querystring = jsonSchema(schemas.querystring, 'input');
  if (schemas.body) schema.body = jsonSchema(schemas.body, 'input');
  if (schemas.response) {
    schema.response = Object.fromEntries(
      Object.entries(schemas.response).map(([status, s]) => [status, jsonSchema(s, 'output')]),
    );
  }
  const validatorCompiler: FastifySchemaCompiler<unknown> = ({ httpPart }) => {
    const part: Part = httpPart === 'params' ? 'params' : httpPart === 'body' ? 'body' : 'querystring';
    const zod = schemas[part];
    if (!zod) return (value: unknown) => ({ value });
    return (value: unknown) => {
      const result = zod.safeParse(value ?? undefined);
      if (result.success) return { value: result.data };
      return { error: new InvalidInputError(`invalid ${part}`, toIssues(result.error, part)) };
    };
  };
  return { schema, validatorCompiler };
}
