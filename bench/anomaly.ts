/**
 * Anomaly detection against the NAB labelled windows: for every NAB file in the
 * shared data, run `detectAnomalies` on the whole file (retrospective, batch) and
 * score window-level precision, recall and F1 (see scoreAgainstWindows). A chance
 * baseline puts the same number of detections, with the same durations, at uniformly
 * random times in each file (20 seeded draws, counts averaged).
 *
 *   npm run bench:anomaly [-- --json FILE] [--spike Z] [--shift Z] [--max-per-week N]
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { detectAnomalies, prf, scoreAgainstWindows } from '../src/forecast/anomaly.ts';
import { readNabWindows, sharedDataDir } from '../src/forecast/nabData.ts';
import { readNabSeries } from '../src/forecast/testData.ts';
import { seededUniform } from '../src/forecast/sampling.ts';

const { values: args } = parseArgs({
  options: {
    json: { type: 'string', default: 'bench/results/anomaly.json' },
    spike: { type: 'string' },
    shift: { type: 'string' },
    'max-per-week': { type: 'string' },
  },
});
const shared = sharedDataDir();
if (!shared) throw new Error('shared data not found: set HEADROOM_SHARED_DATA');
const windows = readNabWindows(shared);
const options = {
  ...(args.spike ? { spikeThreshold: Number(args.spike) } : {}),
  ...(args.shift ? { shiftThreshold: Number(args.shift) } : {}),
  ...(args['max-per-week'] ? { maxPerWeek: Number(args['max-per-week']) } : {}),
};

interface Row {
  file: string;
  steps: number;
  windows: number;
  detections: number;
  spikes: number;
  levelShifts: number;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  f1: number;
  seconds: number;
}
const rows: Row[] = [];
const chance = { truePositives: 0, falsePositives: 0, falseNegatives: 0 };
const DRAWS = 20;
const uniform = seededUniform(2024);
for (const folder of ['realAWSCloudwatch', 'realKnownCause', 'realTweets']) {
  for (const name of readdirSync(join(shared, 'nab', folder)).filter((f) => f.endsWith('.csv')).sort()) {
    const key = `${folder}/${name}`;
    const labelled = windows.get(key);
    if (!labelled) continue;
    const series = readNabSeries(join(shared, 'nab', key));
    const started = performance.now();
    const { anomalies } = detectAnomalies(series, options);
    const seconds = (performance.now() - started) / 1000;
    const score = scoreAgainstWindows(anomalies, labelled);
    const span = series.values.length * series.stepSeconds;
    for (let draw = 0; draw < DRAWS; draw++) {
      const random = anomalies.map((a) => {
        const length = a.endSeconds - a.startSeconds;
        const start = series.startSeconds + Math.floor(uniform() * ((span - length) / series.stepSeconds)) * series.stepSeconds;
        return { startSeconds: start, endSeconds: start + length };
      });
      const r = scoreAgainstWindows(random, labelled);
      chance.truePositives += r.truePositives / DRAWS;
      chance.falsePositives += r.falsePositives / DRAWS;
      chance.falseNegatives += r.falseNegatives / DRAWS;
    }
    rows.push({
      file: key,
      steps: series.values.length,
      windows: labelled.length,
      detections: anomalies.length,
      spikes: anomalies.filter((a) => a.kind === 'spike').length,
      levelShifts: anomalies.filter((a) => a.kind === 'level-shift').length,
      ...score,
      seconds,
    });
  }
}
const sum = (k: keyof Row) => rows.reduce((s, r) => s + (r[k] as number), 0);
const overall = { truePositives: sum('truePositives'), falsePositives: sum('falsePositives'), falseNegatives: sum('falseNegatives') };
const total = { ...overall, ...prf(overall.truePositives, overall.falsePositives, overall.falseNegatives), windows: sum('windows'), detections: sum('detections'), seconds: sum('seconds') };

const fmt = (v: number) => (Number.isNaN(v) ? '  -  ' : v.toFixed(3));
console.log(`${'file'.padEnd(56)} ${'win'.padStart(4)} ${'det'.padStart(4)} ${'TP'.padStart(3)} ${'FP'.padStart(3)} ${'FN'.padStart(3)}  prec   rec    F1     s`);
for (const r of rows) {
  console.log(
    `${r.file.padEnd(56)} ${String(r.windows).padStart(4)} ${String(r.detections).padStart(4)} ${String(r.truePositives).padStart(3)} ${String(r.falsePositives).padStart(3)} ${String(r.falseNegatives).padStart(3)}  ${fmt(r.precision)} ${fmt(r.recall)} ${fmt(r.f1)} ${r.seconds.toFixed(2)}`,
  );
}
console.log(
  `${'overall (pooled counts)'.padEnd(56)} ${String(total.windows).padStart(4)} ${String(total.detections).padStart(4)} ${String(total.truePositives).padStart(3)} ${String(total.falsePositives).padStart(3)} ${String(total.falseNegatives).padStart(3)}  ${fmt(total.precision)} ${fmt(total.recall)} ${fmt(total.f1)} ${total.seconds.toFixed(2)}`,
);
const chanceScore = { ...chance, ...prf(chance.truePositives, chance.falsePositives, chance.falseNegatives) };
console.log(
  `${'chance (same detections at random times)'.padEnd(56)} ${String(total.windows).padStart(4)} ${String(total.detections).padStart(4)} ${chance.truePositives.toFixed(0).padStart(3)} ${chance.falsePositives.toFixed(0).padStart(3)} ${chance.falseNegatives.toFixed(0).padStart(3)}  ${fmt(chanceScore.precision)} ${fmt(chanceScore.recall)} ${fmt(chanceScore.f1)}`,
);
mkdirSync(dirname(args.json!), { recursive: true });
writeFileSync(args.json!, `${JSON.stringify({ options, overall: total, chance: chanceScore, files: rows }, (_, v) => (typeof v === 'number' && Number.isNaN(v) ? null : v), 2)}\n`);
console.log(`wrote ${args.json}`);
