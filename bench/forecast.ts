/**
 * Forecasting benchmark.
 *
 * 1. M4 hourly (414 series, horizon 48), scored as the competition did: sMAPE (%),
 *    MASE (m = 24), OWA against Naive2, MSIS (α = 0.05), coverage of the 95% band.
 *    One row per single model and one for the automatic choice (selection and
 *    combination by rolling-origin backtests, conformal intervals), with wall time.
 *    The global model is trained on every series minus its backtest span, and no
 *    model ever sees the test file's values.
 * 2. NAB traces: rolling-origin forecasts of one day at the trace's own step.
 *
 * Usage: npm run bench:forecast -- [--limit N] [--json FILE] [--workers N]
 *          [--epochs N] [--extra auto-ets,auto-arima] [--no-nab | --nab-only]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QuantileForecast } from '../src/core/forecast.ts';
import { quantileAt } from '../src/core/forecast.ts';
import { slice } from '../src/core/series.ts';
import { coverage, M4_HOURLY_NAIVE2, mase, msis, owa, seasonalScale, smape } from '../src/forecast/accuracy.ts';
import type { EngineConfig, ModelName } from '../src/forecast/engine.ts';
import { forecastMany } from '../src/forecast/many.ts';
import { createForecastPool, type ForecastPool } from '../src/forecast/pool.ts';
import { readNabSeries } from '../src/forecast/testData.ts';
import { fillGaps } from '../src/forecast/stats.ts';
import { readM4Hourly } from './m4.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.HEADROOM_SHARED_DATA ?? join(root, '..', '..', 'shared', 'data');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const limit = arg('limit') ? Number(arg('limit')) : undefined;
const workers = Number(arg('workers') ?? 2);
const epochs = Number(arg('epochs') ?? 3);
const extra = (arg('extra') ?? '').split(',').filter(Boolean) as ModelName[];
const withNab = !process.argv.includes('--no-nab');
const withM4 = !process.argv.includes('--nab-only');
const jsonPath = arg('json') ?? join(root, 'bench', 'results', 'forecast.json');

const LEVELS = [0.025, 0.5, 0.975];
const M = 24;
const HORIZON = 48;

export interface Scores {
  smape: number;
  mase: number;
  owa: number;
  msis: number;
  coverage95: number;
  seconds: number;
  series: number;
}

interface Accumulator {
  smape: number;
  mase: number;
  msis: number;
  inside: number;
  steps: number;
  series: number;
  seconds: number;
}

const empty = (): Accumulator => ({ smape: 0, mase: 0, msis: 0, inside: 0, steps: 0, series: 0, seconds: 0 });

function band(f: QuantileForecast): { lower: number[]; upper: number[] } {
  return {
    lower: f.mean.map((_, h) => quantileAt(f, 0.025, h)),
    upper: f.mean.map((_, h) => quantileAt(f, 0.975, h)),
  };
}

/** Score one forecast; steps whose actual value is missing (gaps in NAB traces) are left out. */
function add(acc: Accumulator, insample: readonly number[], observed: readonly number[], f: QuantileForecast, m: number): void {
  const full = band(f);
  const keep = observed.map((_, h) => h).filter((h) => Number.isFinite(observed[h]));
  if (keep.length === 0) return;
  const actual = keep.map((h) => observed[h]);
  const mean = keep.map((h) => f.mean[h]);
  const lower = keep.map((h) => full.lower[h]);
  const upper = keep.map((h) => full.upper[h]);
  acc.smape += smape(actual, mean);
  acc.mase += mase(insample, actual, mean, m);
  acc.msis += msis(insample, actual, lower, upper, m, 0.05);
  acc.inside += coverage(actual, lower, upper) * actual.length;
  acc.steps += actual.length;
  acc.series++;
}

function finish(acc: Accumulator, seconds: number): Scores {
  const s = acc.smape / acc.series;
  const m = acc.mase / acc.series;
  return { smape: s, mase: m, owa: owa(s, m, M4_HOURLY_NAIVE2), msis: acc.msis / acc.series, coverage95: acc.inside / acc.steps, seconds, series: acc.series };
}

const fmt = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '—');

function printTable(title: string, rows: Record<string, Scores>, withOwa = true): void {
  console.log(`\n${title}`);
  const head = ['model', 'sMAPE %', 'MASE', ...(withOwa ? ['OWA'] : []), 'MSIS', 'cov95', 'seconds', 'series'];
  const lines = Object.entries(rows).map(([name, r]) => [
    name,
    fmt(r.smape),
    fmt(r.mase),
    ...(withOwa ? [fmt(r.owa)] : []),
    fmt(r.msis),
    fmt(r.coverage95),
    fmt(r.seconds, 1),
    String(r.series),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  console.log(row(head));
  for (const l of lines) console.log(row(l));
}

async function m4(pool: ForecastPool) {
  const all = readM4Hourly(join(shared, 'm4-hourly'));
  const data = limit ? all.slice(0, limit) : all;
  const config: EngineConfig = {
    candidates: ['seasonal-naive', 'seasonal-naive-weekly', 'theta', 'mstl', 'global-mlp'],
    horizonSteps: HORIZON,
    origins: 3,
    strideSteps: 24,
    combineTopK: 3,
    intervalWeight: 0.1,
  };
  const started = performance.now();
  const result = await forecastMany(pool, data.map((d) => d.train), {
    config,
    horizonSteps: HORIZON,
    levels: LEVELS,
    global: { epochs, strideSteps: 6 },
    everyModel: true,
  });
  const wall = (performance.now() - started) / 1000;
  const losses = result.globalModels.map((m) => m.lossByEpoch.map((l) => l.toFixed(4)).join(' ')).join(' | ');
  console.log(`global-mlp: ${result.globalModels.length} models × ${epochs} epochs in ${result.trainSeconds.toFixed(1)} s (loss by epoch ${losses})`);

  const auto = empty();
  const wins = new Map<string, number>();
  const inWinner = new Map<string, number>();
  result.series.forEach((r, i) => {
    add(auto, data[i].train.values, data[i].test, result.forecasts[i], M);
    wins.set(r.winner, (wins.get(r.winner) ?? 0) + 1);
    for (const member of r.members) inWinner.set(member, (inWinner.get(member) ?? 0) + 1);
  });
  const rows: Record<string, Scores> = {};
  for (const [name, forecasts] of Object.entries(result.perModel)) {
    const acc = empty();
    forecasts.forEach((f, i) => {
      if (!f) return;
      add(acc, data[i].train.values, data[i].test, f, M);
      acc.seconds += result.series[i].scores.find((s) => s.model === name)?.seconds ?? 0;
    });
    rows[name] = finish(acc, acc.seconds + (name === 'global-mlp' ? result.trainSeconds * pool.size : 0));
  }

  // Models outside the automatic choice's candidates: each alone, calibrated the same way.
  for (const name of extra) {
    const t0 = performance.now();
    const single = await forecastMany(pool, data.map((d) => d.train), { config: { ...config, candidates: [name], combineTopK: 0 }, horizonSteps: HORIZON, levels: LEVELS });
    const acc = empty();
    single.forecasts.forEach((f, i) => add(acc, data[i].train.values, data[i].test, f, M));
    rows[name] = finish(acc, (performance.now() - t0) / 1000);
  }
  rows.auto = finish(auto, wall);
  const sorted = (m: Map<string, number>) => Object.fromEntries([...m].sort((x, y) => y[1] - x[1]));
  return { rows, wins: sorted(wins), inWinner: sorted(inWinner), trainSeconds: result.trainSeconds, config };
}

const NAB_TRACES = [
  'realKnownCause/nyc_taxi.csv',
  'realTweets/Twitter_volume_AAPL.csv',
  'realAWSCloudwatch/elb_request_count_8c0756.csv',
];

/** Rolling-origin day-ahead forecasts on NAB traces: the last `origins` days, each fitted on the four weeks before it. */
async function nab(pool: ForecastPool) {
  const candidates: ModelName[] = ['seasonal-naive', 'seasonal-naive-weekly', 'theta', 'auto-ets', 'mstl'];
  const origins = 7;
  const rows: Record<string, Record<string, Scores>> = {};
  for (const trace of NAB_TRACES) {
    const series = readNabSeries(join(shared, 'nab', trace));
    const day = Math.round(86_400 / series.stepSeconds);
    const config: EngineConfig = { candidates, horizonSteps: day, origins: 6, strideSteps: Math.round(day / 2), combineTopK: 3, intervalWeight: 0.1 };
    const t0 = performance.now();
    const n = series.values.length;
    const tasks = Array.from({ length: origins }, (_, k) => n - (origins - k) * day);
    const results = await Promise.all(
      tasks.map((origin) => pool.run({ kind: 'forecast', series: slice(series, origin - 28 * day, origin), config, horizonSteps: day, levels: LEVELS, everyModel: true })),
    );
    const wall = (performance.now() - t0) / 1000;
    const auto = empty();
    const perModel = new Map<string, Accumulator>();
    results.forEach((r, k) => {
      const origin = tasks[k];
      const insample = fillGaps(series.values.slice(Math.max(0, origin - 28 * day), origin));
      const actual = series.values.slice(origin, origin + day);
      add(auto, insample, actual, r.forecast, day);
      for (const [name, f] of Object.entries(r.perModel ?? {})) {
        const acc = perModel.get(name) ?? empty();
        add(acc, insample, actual, f, day);
        acc.seconds += r.scores.find((s) => s.model === name)?.seconds ?? 0;
        perModel.set(name, acc);
      }
    });
    const traceRows: Record<string, Scores> = {};
    for (const [name, acc] of perModel) traceRows[name] = finish(acc, acc.seconds);
    traceRows.auto = finish(auto, wall);
    rows[trace] = traceRows;
    printTable(`NAB ${trace}: ${origins} day-ahead origins (horizon ${day} steps of ${series.stepSeconds} s; MASE at m = ${day})`, traceRows, false);
  }
  return rows;
}

async function main() {
  const pool = createForecastPool({ size: workers });
  try {
    let result: Awaited<ReturnType<typeof m4>> | undefined;
    if (withM4) {
      console.log(`M4 hourly${limit ? ` (first ${limit} series)` : ''}: ${workers} workers, global model ${epochs} epochs`);
      result = await m4(pool);
      printTable('M4 hourly, horizon 48 (competition: best OWA 0.410 = sMAPE 8.913 / MASE 0.801; seasonal naive 0.627; best MSIS 6.139)', result.rows);
      console.log('\nWins (automatic choice per series):');
      for (const [name, count] of Object.entries(result.wins)) console.log(`  ${String(count).padStart(4)}  ${name}`);
      console.log('Member of the winner:');
      for (const [name, count] of Object.entries(result.inWinner)) console.log(`  ${String(count).padStart(4)}  ${name}`);
    }
    const nabRows = withNab ? await nab(pool) : undefined;
    const out = {
      command: process.argv.slice(2).join(' '),
      workers,
      epochs,
      limit: limit ?? null,
      m4: result?.rows,
      auto: result?.rows.auto,
      wins: result?.wins,
      memberOfWinner: result?.inWinner,
      config: result?.config,
      nab: nabRows,
    };
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(jsonPath, `${JSON.stringify(out, null, 2)}\n`);
    console.log(`\nwrote ${jsonPath}`);
  } finally {
    await pool.close();
  }
}

await main();
