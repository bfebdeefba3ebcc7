/** What the progress line shows. `fraction` of the source read (bytes of a file), when its size is known. */
export interface ProgressState {
  records: number;
  failed: number;
  elapsedMs: number;
  fraction: number | null;
}

/** `1.2k/s`, `950/s`. */
export function formatRate(perSecond: number): string {
  return perSecond >= 10_000 ? `${(perSecond / 1000).toFixed(1)}k/s` : `${Math.round(perSecond)}/s`;
}

/** `1h02m`, `3m05s`, `42s`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/** Time left from the fraction done so far at the rate so far; null before there is anything to go on. */
export function estimateLeftMs(state: ProgressState): number | null {
  if (state.fraction === null || state.fraction <= 0 || state.elapsedMs <= 0) return null;
  return (state.elapsedMs * (1 - state.fraction)) / state.fraction;
}

/** The terminal's line: a bar (when the size is known), the count, the rate and the time left. */
export function progressBar(state: ProgressState, width = 24): string {
  const rate = state.elapsedMs > 0 ? (state.records * 1000) / state.elapsedMs : 0;
  const left = estimateLeftMs(state);
  const parts: string[] = [];
  if (state.fraction !== null) {
    const filled = Math.round(Math.min(1, state.fraction) * width);
    parts.push(
      `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(state.fraction * 100).toFixed(1).padStart(5)}%`,
    );
  }
  parts.push(`${state.records.toLocaleString('en-US')} records`);
  if (state.failed > 0) parts.push(`${state.failed.toLocaleString('en-US')} not imported`);
  parts.push(formatRate(rate));
  parts.push(left === null ? 'ETA --' : `ETA ${formatDuration(left)}`);
  return parts.join('  ');
}

/** The plain line for logs and pipes: the same facts, as words. */
export function progressLine(state: ProgressState): string {
  const rate = state.elapsedMs > 0 ? (state.records * 1000) / state.elapsedMs : 0;
  const left = estimateLeftMs(state);
  return (
    `import: ${state.records} records, ${state.failed} not imported, ${formatRate(rate)}` +
    (state.fraction === null ? '' : `, ${(state.fraction * 100).toFixed(1)}% read`) +
    (left === null ? '' : `, about ${formatDuration(left)} left`)
  );
}

/**
 * Shows progress on a stream: on a terminal, one line redrawn at most every `redrawMs`; elsewhere a plain line every
 * `intervalMs`. The clock is passed in so that tests can drive it.
 */
export class ProgressMeter {
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly #now: () => number;
  readonly #started: number;
  readonly #intervalMs: number;
  #last = -Infinity;
  #drawn = false;

  constructor(
    out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number },
    options: { now?: () => number; intervalMs?: number; redrawMs?: number } = {},
  ) {
    this.#out = out;
    this.#now = options.now ?? Date.now;
    this.#started = this.#now();
    this.#intervalMs = out.isTTY ? (options.redrawMs ?? 200) : (options.intervalMs ?? 5_000);
  }

  update(records: number, failed: number, fraction: number | null, force = false): void {
    const now = this.#now();
    if (!force && now - this.#last < this.#intervalMs) return;
    this.#last = now;
    const state = { records, failed, fraction, elapsedMs: now - this.#started };
    if (this.#out.isTTY) {
      const line = progressBar(state).slice(0, Math.max(20, (this.#out.columns ?? 100) - 1));
      this.#out.write(`\r\x1b[2K${line}`);
      this.#drawn = true;
    } else {
      this.#out.write(`${progressLine(state)}\n`);
    }
  }

  /** Ends the terminal's line, so what follows starts on its own. */
  done(): void {
    if (this.#drawn) this.#out.write('\n');
    this.#drawn = false;
  }
}
