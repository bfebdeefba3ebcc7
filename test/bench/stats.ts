/** Nearest-rank percentile of `sorted` (ascending), p in [0, 100]. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  // Rank = ceil(p / 100 × n). In floating point the product can land a hair above a whole rank
  // (0.07 * 100 = 7.000000000000001, 1.1 * 3000 / 100 = 33.00000000000001), which ceil turns into the next rank (p7 of
  // 100 values gave the 8th, p99.9 of 1,000 the max); a millionth of a rank absorbs that and no genuine fraction.
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-6);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summary(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1]! : NaN,
  };
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Waits for `check` to hold, polling; throws with `what` after the deadline. */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Runs `fn` with `concurrency` loops in parallel for `ms`; returns per-call latencies (ms) and calls per second. */
export async function closedLoop(
  concurrency: number,
  ms: number,
  fn: (i: number) => Promise<unknown>,
): Promise<{ perSecond: number; latencies: number[]; calls: number }> {
  const latencies: number[] = [];
  const stopAt = performance.now() + ms;
  const started = performance.now();
  let i = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < stopAt) {
        const t = performance.now();
        await fn(i++);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1_000;
  return { perSecond: latencies.length / elapsed, latencies, calls: latencies.length };
}
