import { tokenUrlHostPlaceholders, tokenUrlPlaceholders, type ProviderDefinition } from '@evergreen/core';

/**
 * Metadata a producer could plausibly send for `provider`'s URLs: a placeholder that is a whole host gets a name under
 * the first wildcard of its allow-list (`*.okta.com` → acme.okta.com), any other one a single label. Placeholders
 * with a default are left to it.
 */
export function sampleMetadata(
  provider: Pick<ProviderDefinition, 'tokenUrl' | 'metadataDefaults' | 'tokenUrlHosts'>,
): Record<string, string> {
  const wholeHost = new Set(
    tokenUrlHostPlaceholders(provider.tokenUrl).filter((name) =>
      new RegExp(`//\\{${name}\\}[:/]`).test(provider.tokenUrl),
    ),
  );
  const wildcard = provider.tokenUrlHosts?.find((h) => h.startsWith('*.'));
  const exact = provider.tokenUrlHosts?.find((h) => !h.startsWith('*.'));
  return Object.fromEntries(
    tokenUrlPlaceholders(provider.tokenUrl)
      .filter((name) => provider.metadataDefaults[name] === undefined)
      .map((name) => {
        if (!wholeHost.has(name)) return [name, 'acme'];
        return [name, wildcard ? `acme${wildcard.slice(1)}` : (exact ?? 'acme')];
      }),
  );
}
