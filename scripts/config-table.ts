// Prints the README's configuration table from the one list the config schema is built from.
import { VARIABLES } from '@evergreen/config';

const rows = VARIABLES.map(
  (v) => `| \`${v.name}\` | ${v.default === null ? '—' : `\`${v.default}\``} | ${v.description} |`,
);
process.stdout.write(['| variable | default | meaning |', '| --- | --- | --- |', ...rows].join('\n') + '\n');
