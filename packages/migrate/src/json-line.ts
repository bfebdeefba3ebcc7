import { STATUS_ON_IMPORT, type ImportRecord } from './import-record.ts';

/**
 * One JSON Lines line as an import record: an object is an enqueueConnection input (checked later, field by field,
 * by the SDK); an optional `status` (as `connections export` writes it) leaves out connections that no longer refresh.
 * A syntax error is reported by its position only: V8's message quotes the text, which may hold a token.
 */
export function parseJsonLine(text: string, line: number): ImportRecord | null {
  if (text.trim() === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    return {
      line,
      outcome: {
        kind: 'invalid',
        issues: [{ field: '(line)', reason: `is not valid JSON${at ? ` (at character ${at})` : ''}` }],
      },
    };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { line, outcome: { kind: 'invalid', issues: [{ field: '(line)', reason: 'must be a JSON object' }] } };
  }
  return withStatus(value as Record<string, unknown>, line);
}

/** Takes `status` out of an input (it is not an enqueueConnection field) and decides on it. */
export function withStatus(input: Record<string, unknown>, line: number): ImportRecord {
  const { status, ...rest } = input;
  if (status === undefined) return { line, outcome: { kind: 'input', input: rest } };
  const rule = typeof status === 'string' ? STATUS_ON_IMPORT[status] : undefined;
  if (rule === undefined) {
    return {
      line,
      outcome: {
        kind: 'invalid',
        issues: [{ field: 'status', reason: `must be one of ${Object.keys(STATUS_ON_IMPORT).join(', ')}` }],
      },
    };
  }
  return rule.import
    ? { line, outcome: { kind: 'input', input: rest } }
    : { line, outcome: { kind: 'skipped', field: 'status', reason: rule.reason } };
}
