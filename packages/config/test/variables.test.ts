import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it, expect } from 'vitest';
import { VARIABLES } from '../src/variables.ts';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

describe('VARIABLES', () => {
  it('names each variable once', () => {
    const names = VARIABLES.map((v) => v.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives every numeric variable a default inside its own bounds', () => {
    for (const spec of VARIABLES) {
      if ((spec.kind === 'int' || spec.kind === 'number') && spec.default !== null) {
        const value = Number(spec.default);
        expect(Number.isFinite(value), spec.name).toBe(true);
        if ('min' in spec) expect(value, spec.name).toBeGreaterThanOrEqual(spec.min);
        if ('max' in spec) expect(value, spec.name).toBeLessThanOrEqual(spec.max);
      }
    }
  });

  it('describes every variable', () => {
    for (const spec of VARIABLES) expect(spec.description.length, spec.name).toBeGreaterThan(10);
  });

  it("is documented: the repository's README.md mentions every variable", () => {
    expect(existsSync(README), `${README} should exist and document the environment variables`).toBe(true);
    const readme = readFileSync(README, 'utf8');
    const missing = VARIABLES.map((v) => v.name).filter((name) => !readme.includes(name));
    expect(missing, 'variables the README does not mention').toEqual([]);
  });
});
