import type { InputIssue } from '@evergreen/core';

/**
 * Secrets that were published in the repository as defaults or examples: docker-compose.yml's old development key
 * and admin token, and infra/k8s/secret.yaml's placeholder. Anyone can read them, so in production they protect
 * nothing: a database dump under that key decrypts, a board behind that token is open. Add any value a doc, example or
 * default ever shows here, and never remove one.
 */
const PUBLISHED_KEYS = ['ZXZlcmdyZWVuLWRldi1rZXktbm90LWZvci1wcm9kISE='].map((b64) => Buffer.from(b64, 'base64'));
const PUBLISHED_TOKENS = new Set(['change-me-development-token', 'REPLACE-ME']);

const WHY = 'is published in the Evergreen repository, so it protects nothing (refused because NODE_ENV=production)';

/**
 * Under NODE_ENV=production (the image sets it), the published values above, never echoed. Keys are compared by their
 * bytes, so a published key under another id is refused too, and in any position: a decrypt-only key still opens
 * every row written under it. Entries that do not parse are left to the keyring's own issues.
 */
export function publishedSecretIssues(env: Readonly<Record<string, string | undefined>>): InputIssue[] {
  if (env.NODE_ENV?.trim() !== 'production') return [];
  const issues: InputIssue[] = [];
  const entries = (env.EVERGREEN_ENCRYPTION_KEYS ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  entries.forEach((entry, index) => {
    const key = Buffer.from(entry.slice(entry.indexOf(':') + 1), 'base64');
    if (entry.includes(':') && PUBLISHED_KEYS.some((published) => published.equals(key))) {
      issues.push({
        field: `EVERGREEN_ENCRYPTION_KEYS[${index}]`,
        reason: `${WHY}; make your own with \`pnpm keygen\` (infra/README.md: moving stored tokens off it)`,
      });
    }
  });
  for (const field of ['EVERGREEN_ADMIN_TOKEN', 'EVERGREEN_ADMIN_PASSWORD'] as const) {
    const value = env[field];
    if (value !== undefined && PUBLISHED_TOKENS.has(value.trim())) {
      issues.push({ field, reason: `${WHY}; set your own, e.g. \`openssl rand -base64 32\`` });
    }
  }
  return issues;
}
