/** Reading the M4 hourly data set (shared data): train rows and their 48 test values. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Series } from '../src/core/series.ts';

export interface M4Series {
  readonly id: string;
  /** Training values as an hourly Series (start 0: M4 publishes no timestamps for hourly data). */
  readonly train: Series;
  readonly test: readonly number[];
}

function rows(path: string): string[][] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',').map((cell) => cell.replace(/"/g, '')));
}

/** The series of `dir` (Hourly-train.csv and Hourly-test.csv), in file order. */
export function readM4Hourly(dir: string): M4Series[] {
  const train = rows(join(dir, 'Hourly-train.csv'));
  const test = new Map(rows(join(dir, 'Hourly-test.csv')).map((r) => [r[0], r.slice(1).filter((c) => c !== '').map(Number)]));
  return train.map((r) => {
    const id = r[0];
    const values = r.slice(1).filter((c) => c !== '').map(Number);
    return { id, train: { startSeconds: 0, stepSeconds: 3600, values }, test: test.get(id) ?? [] };
  });
}
