import { InvalidInputError, type InputIssue } from '@evergreen/core';
import { toIssues } from '@evergreen/operator';
import type { FastifyReply, FastifyRequest, FastifySchemaCompiler, HookHandlerDoneFunction } from 'fastify';
import type { z } from 'zod';

const PARTS = [
  ['params', 'params'],
  ['body', 'body'],
  ['querystring', 'query'],
] as const;

/**
 * Every part of a request (path, body, query) parsed with its route's zod schema, and each replaced by zod's output
 * (coerced numbers, defaults), before the handler runs. Fastify's own validation stops at the first bad part; this
 * names every bad field of every part in one 400 (an InvalidInputError). Run as a preValidation hook, with
 * `passThrough` as the validator compiler so Fastify keeps what it did.
 */
export function validateRequest(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const schema = request.routeOptions.schema as Partial<Record<(typeof PARTS)[number][0], z.ZodType>> | undefined;
  if (!schema) return done();
  const issues: InputIssue[] = [];
  const target = request as unknown as Record<string, unknown>;
  for (const [part, key] of PARTS) {
    const partSchema = schema[part];
    if (!partSchema) continue;
    // Fastify reads an absent body as null; the schema decides what absence means.
    const result = partSchema.safeParse(target[key] ?? undefined);
    if (result.success) target[key] = result.data;
    else issues.push(...toIssues(result.error, part));
  }
  done(issues.length > 0 ? new InvalidInputError('invalid request', issues) : undefined);
}

/** Fastify's validator compiler when `validateRequest` has already parsed every part. */
export const passThrough: FastifySchemaCompiler<unknown> = () => (value: unknown) => ({ value });
