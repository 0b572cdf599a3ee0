import { describe, expect, it } from 'vitest';
import type { Forecaster, QuantileForecast } from '../core/forecast.ts';
import { head, type Series } from '../core/series.ts';
import { autoArima } from './arima.ts';
import { backtest } from './backtest.ts';
import { combineForecasts } from './combine.ts';
import { applyPooledConformal, pooledScaledErrors } from './conformal.ts';
import { backtestSpanSteps, engineForecaster, forecastSeries, globalTrainingSeries, type EngineConfig } from './engine.ts';
import { globalMlp, trainGlobalMlp, type GlobalMlpOptions } from './globalMlp.ts';
import { refitting } from './online.ts';
import { createForecastPool } from './pool.ts';
import { lcg } from './testData.ts';
import { linearTrend, sesRun, theta } from './theta.ts';
import { runTask } from './worker.ts';

const HOUR = 3600;

/** level·(1 + 0.3·sin(2π(t + phase)/24)) + noise: hourly, `length` steps. */
function sine(length: number, seed: number, level = 50, phase = 0): { series: Series; signal: (t: number) => number } {
  const random = lcg(seed);
  const signal = (t: number) => level * (1 + 0.3 * Math.sin((2 * Math.PI * (t + phase)) / 24));
  const values = Array.from({ length }, (_, t) => signal(t) + (2 * random() - 1));
  return { series: { startSeconds: 1_700_000_000, stepSeconds: HOUR, values }, signal };
}

const SMALL_MLP: GlobalMlpOptions = { inputSteps: 48, outputSteps: 24, hidden: [16], epochs: 4, strideSteps: 2, batchSize: 32, learningRate: 0.003 };
const collection = [0, 1, 2, 3, 4, 5].map((k) => sine(300, 10 + k, 20 + 15 * k, 3 * k).series);
const trained = trainGlobalMlp(collection, SMALL_MLP);

function width(f: QuantileForecast, h: number): number {
  return f.quantiles[f.quantiles.length - 1].values[h] - f.quantiles[0].values[h];
}

describe('theta (hand-computed pieces)', () => {
  it('fits the least-squares line and runs SES', () => {
    expect(linearTrend([1, 3, 5, 7])).toEqual({ intercept: 1, slope: 2 });
    // α = 0.5 from level 2: errors 2 (level 3), 1 (level 3.5) → SSE 5
    expect(sesRun([2, 4, 4], 0.5)).toEqual({ level: 3.5, sse: 5 });
  });

  it('forecasts a straight line as its continuation when SES tracks it', () => {
    // y = 10 + 2t: theta line 2 equals y, SES (α → 1) ends at y_{n−1}; the mean of the
    // trend (10 + 2(n + h)) and that level lies between them, rising by 1 per step.
    const values = Array.from({ length: 30 }, (_, t) => 10 + 2 * t);
    const f = theta().fit({ history: { startSeconds: 0, stepSeconds: HOUR, values } }).predict(3, [0.5]);
    expect(f.mean[0]).toBeCloseTo(0.5 * (10 + 60) + 0.5 * 68, 1);
    expect(f.mean[1] - f.mean[0]).toBeCloseTo(1, 1);
  });
});

describe.each<[string, Forecaster, number]>([
  ['theta', theta(), 1.5],
  ['auto-arima', autoArima(), 1.5],
  ['global-mlp', globalMlp(trained), 2.5],
])('%s recovers a daily season', (name, model, tolerance) => {
  // Unseen by the global model: a new level and phase.
  const { series, signal } = sine(336, 99, 40, 5);
  const f = model.fit({ history: series }).predict(48, [0.05, 0.5, 0.95]);

  it('follows the seasonal shape within the noise', () => {
    const mae = f.mean.reduce((s, v, h) => s + Math.abs(v - signal(336 + h)), 0) / 48;
    expect(mae).toBeLessThan(tolerance);
    expect(f.model).toBe(name);
  });

  it('returns ordered quantiles with positive width', () => {
    for (let h = 0; h < 48; h++) {
      expect(f.quantiles[0].values[h]).toBeLessThanOrEqual(f.quantiles[1].values[h]);
      expect(f.quantiles[1].values[h]).toBeLessThanOrEqual(f.quantiles[2].values[h]);
      expect(width(f, h)).toBeGreaterThan(0);
    }
  });
});

describe('global MLP', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const again = trainGlobalMlp(collection, SMALL_MLP);
    again.weights.forEach((w, l) => expect(Array.from(w)).toEqual(Array.from(trained.weights[l])));
    expect(again.lossByEpoch).toEqual(trained.lossByEpoch);
    const other = trainGlobalMlp(collection, { ...SMALL_MLP, seed: 2 });
    expect(Array.from(other.weights[0])).not.toEqual(Array.from(trained.weights[0]));
  });

  it('learns: the training loss falls', () => {
    expect(trained.lossByEpoch[trained.lossByEpoch.length - 1]).toBeLessThan(trained.lossByEpoch[0]);
  });
});

describe('no model sees its test window', () => {
  const config: EngineConfig = { candidates: ['seasonal-naive', 'theta', 'global-mlp'], horizonSteps: 24, origins: 2, strideSteps: 12 };

  it('global training ignores each series’ backtest span (poisoned values change nothing)', () => {
    const span = backtestSpanSteps(config);
    expect(span).toBe(36);
    const poisoned = collection.map((s) => ({ ...s, values: s.values.map((v, t) => (t >= s.values.length - span ? v * 1000 + 7 : v)) }));
    const clean = trainGlobalMlp(globalTrainingSeries(collection, config), SMALL_MLP);
    const dirty = trainGlobalMlp(globalTrainingSeries(poisoned, config), SMALL_MLP);
    clean.weights.forEach((w, l) => expect(Array.from(dirty.weights[l])).toEqual(Array.from(w)));
  });

  it('backtest folds and online forecasts ignore values after their origin', () => {
    const { series } = sine(300, 5);
    const cut = 260;
    const poisoned: Series = { ...series, values: series.values.map((v, t) => (t >= cut ? -1e6 : v)) };
    const engine = engineForecaster(config, HOUR, [trained]);
    const a = refitting(engine, { refitIntervalSeconds: 0 }).forecastAt(series, cut, 24, [0.1, 0.5, 0.9]);
    const b = refitting(engine, { refitIntervalSeconds: 0 }).forecastAt(poisoned, cut, 24, [0.1, 0.5, 0.9]);
    expect(b).toEqual(a);
    for (const model of [theta(), globalMlp(trained)]) {
      const folds = backtest(model, head(series, cut), [0.5], { horizonSteps: 24, origins: 3, strideSteps: 12 });
      const foldsPoisoned = backtest(model, head(poisoned, cut), [0.5], { horizonSteps: 24, origins: 3, strideSteps: 12 });
      expect(foldsPoisoned).toEqual(folds);
    }
  });
});

describe('automatic choice', () => {
  const { series } = sine(300, 21, 60, 2);
  const config: EngineConfig = { candidates: ['seasonal-naive', 'theta', 'global-mlp'], horizonSteps: 24, origins: 3, strideSteps: 12 };

  it('reports the winner, members and every candidate’s score; combinations compete', () => {
    const r = forecastSeries(series, config, 48, [0.025, 0.5, 0.975], [trained], true);
    const names = r.scores.map((s) => s.model);
    expect(names.slice(0, 3)).toEqual(['seasonal-naive', 'theta', 'global-mlp']);
    expect(names.some((n) => n.startsWith('median(')) && names.some((n) => n.startsWith('mean('))).toBe(true);
    const best = Math.min(...r.scores.map((s) => s.score ?? Infinity));
    expect(r.scores.find((s) => s.model === r.winner)?.score).toBe(best);
    expect(Object.keys(r.perModel ?? {}).sort()).toEqual(['global-mlp', 'seasonal-naive', 'theta']);
    expect(r.scaledErrors.auto).toHaveLength(3);
  });

  it('calibrated bands never narrow with the horizon and widen on a random walk', () => {
    const random = lcg(8);
    let level = 100;
    const values = Array.from({ length: 300 }, (_, t) => (level += 2 * random() - 1 + Math.sin((2 * Math.PI * t) / 24)));
    const r = forecastSeries({ startSeconds: 0, stepSeconds: HOUR, values }, { ...config, candidates: ['seasonal-naive', 'theta'] }, 48, [0.025, 0.975]);
    for (let h = 1; h < 48; h++) expect(width(r.forecast, h)).toBeGreaterThanOrEqual(width(r.forecast, h - 1) - 1e-9);
    expect(width(r.forecast, 47)).toBeGreaterThan(width(r.forecast, 0));
  });
});

describe('combinations and cross-series calibration (hand-computed)', () => {
  const grid = { model: 'x', startSeconds: 0, stepSeconds: 60 };
  const f = (mean: number[], lo: number[], hi: number[]): QuantileForecast => ({ ...grid, mean, quantiles: [{ level: 0.1, values: lo }, { level: 0.9, values: hi }] });

  it('takes the mean or the median step by step and level by level', () => {
    const fs = [f([1, 10], [0, 8], [2, 12]), f([2, 20], [1, 18], [3, 22]), f([6, 30], [5, 28], [7, 32])];
    expect(combineForecasts(fs, 'mean', 'm').mean).toEqual([3, 20]);
    const median = combineForecasts(fs, 'median', 'm');
    expect(median.mean).toEqual([2, 20]);
    expect(median.quantiles.map((q) => q.values)).toEqual([[1, 18], [3, 22]]);
  });

  it('pools scaled errors across series and applies them times each series’ scale', () => {
    // Two series, one fold each, two steps; pooled step 0: [-1, 1], step 1: [-2, 4].
    const sorted = pooledScaledErrors([[[1, -2]], [[-1, 4]]], 2);
    expect(sorted).toEqual([[-1, 1], [-2, 4]]);
    // level 0.9 with n = 2 → conformal level 0.5 + 0.4·3/2 = 1.1 → clamped to the max.
    const out = applyPooledConformal(f([10, 10], [9, 9], [11, 11]), sorted, 2, [0.9]);
    expect(out.quantiles[0].values).toEqual([12, 18]);
  });
});

describe('worker pool', () => {
  it('runs a forecast task off the main thread with the same result as in-thread', async () => {
    const { series } = sine(200, 3);
    const task = { kind: 'forecast' as const, series, config: { candidates: ['seasonal-naive', 'theta'] as const, horizonSteps: 24 }, horizonSteps: 24, levels: [0.1, 0.9] };
    const pool = createForecastPool({ size: 2 });
    try {
      const [a, b] = await Promise.all([pool.run(task), pool.run(task)]);
      const local = runTask(task) as typeof a;
      expect(a.forecast).toEqual(local.forecast);
      expect(b.winner).toBe(local.winner);
      await expect(pool.run({ ...task, series: { ...series, values: [] } })).rejects.toThrow(/could be fitted|needs/);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
