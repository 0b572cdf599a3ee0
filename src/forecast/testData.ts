/**
 * Deterministic data for tests and benchmarks: a seeded generator and a reader for
 * NAB CSV files (`timestamp,value`, UTC, regular step).
 */
import { readFileSync } from 'node:fs';
import type { Series } from '../core/series.ts';

export { lcg } from './random.ts';

/**
 * A NAB CSV as a regular Series. The step is the most common gap between
 * timestamps; missing steps are NaN, and a value off the grid goes to the nearest step.
 */
export function readNabSeries(path: string): Series {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  const times = lines.map((line) => Date.parse(`${line.slice(0, 19).replace(' ', 'T')}Z`) / 1000);
  const gaps = new Map<number, number>();
  for (let i = 1; i < times.length; i++) gaps.set(times[i] - times[i - 1], (gaps.get(times[i] - times[i - 1]) ?? 0) + 1);
  const stepSeconds = [...gaps.entries()].sort((a, b) => b[1] - a[1])[0][0];
  const length = Math.round((times[times.length - 1] - times[0]) / stepSeconds) + 1;
  const values = new Array<number>(length).fill(NaN);
  lines.forEach((line, i) => {
    values[Math.round((times[i] - times[0]) / stepSeconds)] = Number(line.slice(line.indexOf(',') + 1));
  });
  return { startSeconds: times[0], stepSeconds, values };
}
