import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

/** How far an import got: everything up to `line` (and the source row `id`, for tables) is committed. */
export interface CheckpointState {
  source: string;
  line: number;
  id?: string;
  at: string;
}

/**
 * The last committed position of an import, in a small JSON file, written after each committed batch (to a temporary
 * file first, then renamed: a crash leaves the old checkpoint or the new one, never half of one).
 */
export class Checkpoint {
  readonly path: string;

  constructor(path: string) {
    this.path = path;
  }

  /** The saved position for this source, or null (none, or one of another source). */
  read(source: string): CheckpointState | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return null;
    }
    const state = JSON.parse(text) as CheckpointState;
    return state.source === source ? state : null;
  }

  save(state: Omit<CheckpointState, 'at'>): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ ...state, at: new Date().toISOString() })}\n`);
    renameSync(tmp, this.path);
  }

  clear(): void {
    rmSync(this.path, { force: true });
  }
}
