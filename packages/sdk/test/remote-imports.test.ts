import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const REMOTE_DIR = fileURLToPath(new URL('../src/remote/', import.meta.url));
/** What the direct mode is made of: a remote app must load none of it (no driver, no client, no keyring). */
const DIRECT = /^(@evergreen\/(store|wiring|queue|refresh|keyring|config|log)|postgres|ioredis|bullmq|pg)$/;

/** The modules a file loads at runtime: every import but `import type`, followed through relative imports. */
function runtimeImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return new Set();
  seen.add(file);
  const found = new Set<string>();
  const source = readFileSync(file, 'utf8');
  for (const m of source.matchAll(/^(?:import|export)\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)) {
    if (m[1]) continue;
    const spec = m[2]!;
    if (spec.startsWith('.')) {
      for (const s of runtimeImports(fileURLToPath(new URL(spec, `file://${file}`)), seen)) found.add(s);
    } else found.add(spec);
  }
  return found;
}

describe('the remote mode', () => {
  it('loads no module of the direct mode at runtime', () => {
    const files = readdirSync(REMOTE_DIR).filter((f) => f.endsWith('.ts'));
    expect(files).toContain('remote-evergreen.ts');
    for (const f of files) {
      const imports = [...runtimeImports(REMOTE_DIR + f)];
      expect(
        imports.filter((i) => DIRECT.test(i)),
        f,
      ).toEqual([]);
      expect(imports, f).toContain('@evergreen/core');
    }
  });
});
