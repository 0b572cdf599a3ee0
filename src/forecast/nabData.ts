/**
 * The shared NAB data for tests and benchmarks: where it lives and its labelled
 * anomaly windows (`labels/combined_windows.json`, timestamps in UTC).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * The shared data folder: `HEADROOM_SHARED_DATA`, else the first `shared/data`
 * found beside the repository or one level further up (worktrees), else undefined.
 */
export function sharedDataDir(): string | undefined {
  const fromEnv = process.env.HEADROOM_SHARED_DATA;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : undefined;
  for (const candidate of [join(repoRoot, '..', 'shared', 'data'), join(repoRoot, '..', '..', 'shared', 'data')]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A labelled window, epoch seconds, inclusive of both ends as NAB defines it. */
export interface LabelledWindow {
  readonly startSeconds: number;
  readonly endSeconds: number;
}

function nabTime(text: string): number {
  return Date.parse(`${text.slice(0, 19).replace(' ', 'T')}Z`) / 1000;
}

/** Labelled windows per NAB file (key: e.g. `realKnownCause/nyc_taxi.csv`). */
export function readNabWindows(sharedDir: string): Map<string, LabelledWindow[]> {
  const raw = JSON.parse(readFileSync(join(sharedDir, 'nab', 'labels', 'combined_windows.json'), 'utf8')) as Record<string, [string, string][]>;
  const out = new Map<string, LabelledWindow[]>();
  for (const [file, windows] of Object.entries(raw)) {
    out.set(file, windows.map(([start, end]) => ({ startSeconds: nabTime(start), endSeconds: nabTime(end) })));
  }
  return out;
}
