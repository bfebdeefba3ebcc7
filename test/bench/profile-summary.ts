import { readFileSync } from 'node:fs';

/**
 * `tsx test/bench/profile-summary.ts FILE.cpuprofile [top]`: where a worker's CPU went, from a `node --cpu-prof`
 * profile (`pnpm bench --profile DIR`): self time by package and by function, and total (inclusive) time of the
 * functions that matter most.
 */
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const [file, topArg, skipArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary FILE.cpuprofile [top] [skip seconds]');
const top = Number(topArg ?? 30);
/** Samples from the first seconds (start-up: module loading, compilation) left out. */
const skipUs = Number(skipArg ?? 0) * 1e6;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

let clock = 0;
const kept = profile.samples.map((_, i) => (clock += profile.timeDeltas[i] ?? 0) >= skipUs);
const selfTime = new Map<number, number>();
profile.samples.forEach((id, i) => {
  if (kept[i]) selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfTime.values()].reduce((a, b) => a + b, 0);

function pkg(url: string): string {
  if (!url) return '(native/vm)';
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1]!;
  const ours = /\/(packages|apps)\/([^/]+)\//.exec(url);
  if (ours) return `@evergreen/${ours[2]}`;
  if (url.startsWith('node:')) return url;
  return url.split('/').slice(-2).join('/');
}
const label = (n: Node) =>
  `${n.callFrame.functionName || '(anonymous)'} ${pkg(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

const byPkg = new Map<string, number>();
const byFn = new Map<string, number>();
for (const [id, t] of selfTime) {
  const n = byId.get(id)!;
  const p = n.callFrame.url ? pkg(n.callFrame.url) : n.callFrame.functionName || '(native)';
  byPkg.set(p, (byPkg.get(p) ?? 0) + t);
  byFn.set(label(n), (byFn.get(label(n)) ?? 0) + t);
}
// Inclusive time: each sample counts once for every distinct function on its stack.
const inclusive = new Map<string, number>();
profile.samples.forEach((id, i) => {
  if (!kept[i]) return;
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    inclusive.set(l, (inclusive.get(l) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
});

const pct = (t: number) => `${((t / total) * 100).toFixed(1).padStart(5)} %`;
const print = (title: string, map: Map<string, number>, n: number) => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, t] of [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, n)) {
    process.stdout.write(`${pct(t)}  ${k}\n`);
  }
};
process.stdout.write(
  `profile ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s, sampled ${(total / 1e6).toFixed(1)} s\n`,
);
print('self time by package', byPkg, 20);
print('self time by function', byFn, top);
print('inclusive time by function', inclusive, top);
