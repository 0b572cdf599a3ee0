/**
 * Does cleaning spikes before fitting help forecasts? Day-ahead rolling-origin MAE of
 * each model with and without `cleaned(...)` on real NAB traces (5-minute traces are
 * averaged to 30-minute steps). Each origin fits on the 4 weeks before it; origins
 * every 3 days.
 *
 *   npm run bench:cleaning [-- --json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Forecaster } from '../src/core/forecast.ts';
import type { Series } from '../src/core/series.ts';
import { cleaned } from '../src/forecast/anomaly.ts';
import { mstl } from '../src/forecast/mstl.ts';
import { sharedDataDir } from '../src/forecast/nabData.ts';
import { seasonalNaive } from '../src/forecast/seasonalNaive.ts';
import { fillGaps } from '../src/forecast/stats.ts';
import { readNabSeries } from '../src/forecast/testData.ts';

const { values: args } = parseArgs({ options: { json: { type: 'string', default: 'bench/results/cleaning.json' } } });
const shared = sharedDataDir();
if (!shared) throw new Error('shared data not found: set HEADROOM_SHARED_DATA');

/** Average a series to a coarser step (k steps per bucket). */
function coarsen(s: Series, stepSeconds: number): Series {
  const k = stepSeconds / s.stepSeconds;
  if (k <= 1) return s;
  const v = fillGaps(s.values);
  return { startSeconds: s.startSeconds, stepSeconds, values: Array.from({ length: Math.floor(v.length / k) }, (_, i) => v.slice(i * k, i * k + k).reduce((a, b) => a + b, 0) / k) };
}

const files = ['realKnownCause/nyc_taxi.csv', 'realTweets/Twitter_volume_AAPL.csv', 'realTweets/Twitter_volume_AMZN.csv', 'realTweets/Twitter_volume_GOOG.csv'];
const models: [string, () => Forecaster][] = [
  ['mstl', () => mstl()],
  ['seasonal-naive', () => seasonalNaive()],
];
const rows: { file: string; model: string; origins: number; mae: number; maeCleaned: number; change: number; seconds: number }[] = [];
for (const file of files) {
  const s = coarsen(readNabSeries(join(shared, 'nab', file)), 1800);
  const day = 48;
  const window = 4 * 336;
  for (const [name, make] of models) {
    const started = performance.now();
    let plain = 0;
    let clean = 0;
    let origins = 0;
    for (let o = window; o + day <= s.values.length; o += 3 * day) {
      const history: Series = { ...s, startSeconds: s.startSeconds + (o - window) * s.stepSeconds, values: s.values.slice(o - window, o) };
      const actual = s.values.slice(o, o + day);
      const mae = (f: readonly number[]) => f.reduce((a, v, t) => a + Math.abs(v - actual[t]), 0) / day;
      plain += mae(make().fit({ history }).predict(day, [0.5]).mean);
      clean += mae(cleaned(make()).fit({ history }).predict(day, [0.5]).mean);
      origins++;
    }
    rows.push({ file, model: name, origins, mae: plain / origins, maeCleaned: clean / origins, change: clean / plain - 1, seconds: (performance.now() - started) / 1000 });
  }
}
console.log(`${'file'.padEnd(40)} ${'model'.padEnd(15)} origins        MAE   cleaned  change      s`);
for (const r of rows) {
  console.log(`${r.file.padEnd(40)} ${r.model.padEnd(15)} ${String(r.origins).padStart(7)} ${r.mae.toFixed(2).padStart(10)} ${r.maeCleaned.toFixed(2).padStart(9)} ${((r.change * 100).toFixed(1) + '%').padStart(7)} ${r.seconds.toFixed(1).padStart(6)}`);
}
mkdirSync(dirname(args.json!), { recursive: true });
writeFileSync(args.json!, `${JSON.stringify({ files: rows }, null, 2)}\n`);
console.log(`wrote ${args.json}`);
