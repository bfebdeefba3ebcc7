// Writes the generated part of docs/providers.md from the built-in catalogue; the rest of the page is hand-written.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BUILTIN_PROVIDERS, CATALOGUE, renderCatalogue, replaceGenerated } from '@evergreen/providers';

const page = fileURLToPath(new URL('../docs/providers.md', import.meta.url));
const before = readFileSync(page, 'utf8');
const after = replaceGenerated(before, renderCatalogue(BUILTIN_PROVIDERS, CATALOGUE));
if (after !== before) writeFileSync(page, after);
process.stdout.write(`docs/providers.md: ${after === before ? 'already up to date' : 'written'}\n`);
