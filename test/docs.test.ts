import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseProviders } from '@evergreen/config';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@evergreen/test-support/processes';

/** Every ```yaml block of a document that looks like a providers file. */
function providerBlocks(file: string): string[] {
  const text = readFileSync(`${REPO_ROOT}/${file}`, 'utf8');
  return [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => /^\s*- id:/m.test(b));
}

/** Any `${VAR}` gets a plausible value, as an operator's environment would give it: a real key for `*_PEM`. */
const EC_PEM = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const env = new Proxy(
  {},
  {
    get: (_target, name) => (String(name).endsWith('_PEM') ? EC_PEM : `value-of-${String(name)}`),
  },
);

describe('the documentation', () => {
  for (const file of ['README.md', 'docs/providers.md']) {
    it(`${file}: every providers-file example loads without an issue`, () => {
      const blocks = providerBlocks(file);
      expect(blocks.length).toBeGreaterThan(0);
      for (const block of blocks) {
        const { providers, issues } = parseProviders(parseYaml(block), env);
        expect(issues).toEqual([]);
        expect(providers.length).toBeGreaterThan(0);
      }
    });
  }

  it('docs/providers.md lists every built-in', async () => {
    const { BUILTIN_PROVIDERS } = await import('@evergreen/providers');
    const text = readFileSync(`${REPO_ROOT}/docs/providers.md`, 'utf8');
    for (const builtin of BUILTIN_PROVIDERS) expect(text).toContain(`| \`${builtin.id}\` |`);
  });
});
