import type { InputIssue } from '@evergreen/core';
import { VARIABLES, type VariableName, type VariableSpec } from './variables.ts';

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export type RawValues = { [K in VariableName]: string | number | boolean | null };

/** Reads every variable, applying defaults; collects every problem instead of stopping at the first. */
export function readVariables(env: Readonly<Record<string, string | undefined>>): {
  values: RawValues;
  issues: InputIssue[];
} {
  const issues: InputIssue[] = [];
  const values = {} as Record<string, string | number | boolean | null>;
  for (const spec of VARIABLES as readonly VariableSpec[]) {
    const given = env[spec.name];
    const text = given === undefined || given.trim() === '' ? spec.default : given.trim();
    if (text === null) {
      values[spec.name] = null;
      continue;
    }
    const parsed = parseValue(spec, text);
    if ('problem' in parsed) issues.push({ field: spec.name, reason: parsed.problem });
    else values[spec.name] = parsed.value;
  }
  return { values: values as RawValues, issues };
}

function parseValue(spec: VariableSpec, text: string): { value: string | number | boolean } | { problem: string } {
  switch (spec.kind) {
    case 'string':
      return { value: text };
    case 'level':
      return LEVELS.has(text) ? { value: text } : { problem: `must be one of ${[...LEVELS].join(', ')}` };
    case 'boolean':
      if (['true', '1', 'yes'].includes(text)) return { value: true };
      if (['false', '0', 'no'].includes(text)) return { value: false };
      return { problem: 'must be true or false' };
    case 'url':
      try {
        new URL(text);
        return { value: text };
      } catch {
        return { problem: 'must be a URL' };
      }
    case 'int':
    case 'number': {
      const n = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
      if (!Number.isFinite(n) || (spec.kind === 'int' && !Number.isInteger(n))) {
        return { problem: `must be ${spec.kind === 'int' ? 'a whole number' : 'a number'}` };
      }
      if (spec.min !== undefined && n < spec.min) return { problem: `must be at least ${spec.min}` };
      if (spec.max !== undefined && n > spec.max) return { problem: `must be at most ${spec.max}` };
      return { value: n };
    }
  }
}
