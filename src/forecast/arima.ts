/**
 * Automatic ARIMA via the `arima` package (an Emscripten/WASM build of the C
 * library ctsa: Hyndman–Khandakar stepwise search over (p, d, q) by AICc, KPSS
 * unit-root tests for d). Its seasonal search at period 24 takes 45–200 s per
 * M4 hourly series on this machine, far over the 10-minute budget for 414 series,
 * so the season is handled as in the M4 benchmarks and in `autoEts`: classical
 * decomposition at the daily period when the 90% autocorrelation test finds it,
 * non-seasonal auto ARIMA on the adjusted series (about 1 s), the seasonal
 * pattern restored on the forecast. Only the last `maxHistorySteps` values are
 * fitted (default three weeks), which keeps the search fast.
 *
 * Quantiles are Gaussian: ctsa returns the forecast error variance per step.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { endSeconds } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { seasonalAdjustment } from './decompose.ts';
import { DAY_SECONDS, periodSteps } from './periods.ts';
import { buildForecast } from './quantiles.ts';
import { fillGaps, normalQuantile } from './stats.ts';

export interface AutoArimaOptions {
  /** Season length in steps; default one day. */
  readonly seasonSteps?: number;
  /** Values fitted (the most recent); default three weeks of steps, at most 2016. */
  readonly maxHistorySteps?: number;
  /** Largest AR and MA orders searched; default 3. */
  readonly maxOrder?: number;
  /** Lower bound of every forecast value; default 0 (demand). */
  readonly floor?: number;
}

interface ArimaInstance {
  train(ts: number[]): ArimaInstance;
  predict(length: number): [number[], number[]];
  destroy(): void;
}
type ArimaConstructor = new (options: Record<string, number | boolean>) => ArimaInstance;

let constructorCache: ArimaConstructor | undefined;

/**
 * The package's ARIMA class, built from its synchronous WASM module with the
 * module's stdout silenced (ctsa prints blank lines even when not verbose). The
 * package exports only its entry point, so its files are required by path.
 */
function arimaClass(): ArimaConstructor {
  if (!constructorCache) {
    const require = createRequire(import.meta.url);
    const root = dirname(require.resolve('arima'));
    const createModule = require(join(root, 'wasm/native-sync.js')) as (options: object) => unknown;
    const wasmBinary = require(join(root, 'wrapper/native.bin.js')) as Uint8Array;
    const load = require(join(root, 'load.js')) as (module: unknown) => ArimaConstructor;
    const silent = () => undefined;
    constructorCache = load(createModule({ wasmBinary, print: silent, printErr: silent }));
  }
  return constructorCache;
}

/** Auto ARIMA on `x`, forecasting `steps`: mean and standard deviation per step. */
function arimaPath(x: number[], maxOrder: number, steps: number): { mean: number[]; sigma: number[] } {
  const ARIMA = arimaClass();
  const model = new ARIMA({ auto: true, p: maxOrder, d: 2, q: maxOrder, P: 0, D: 0, Q: 0, s: 0, verbose: false });
  try {
    model.train(x);
    const [mean, variance] = model.predict(steps);
    if (!mean.every(Number.isFinite)) throw new InvalidInputError('history', 'auto-arima produced a non-finite forecast');
    return { mean, sigma: variance.map((v) => Math.sqrt(Math.max(0, v))) };
  } finally {
    model.destroy();
  }
}

export function autoArima(options: AutoArimaOptions = {}): Forecaster {
  return {
    name: 'auto-arima',
    fit({ history }: FitInput): FittedForecaster {
      const all = fillGaps(history.values);
      const season = options.seasonSteps ?? periodSteps(history.stepSeconds, DAY_SECONDS);
      const keep = options.maxHistorySteps ?? Math.min(2016, 21 * (season ?? 24));
      const y = all.slice(Math.max(0, all.length - keep));
      if (y.length < 20) throw new InvalidInputError('history', `auto-arima needs at least 20 values, got ${y.length}`);
      const adjustment = season !== undefined ? seasonalAdjustment(y, season) : undefined;
      const x = adjustment ? adjustment.adjusted : y;
      const order = options.maxOrder ?? 3;
      // The WASM model is freed after each use, so a forecast longer than the
      // first (a week) re-runs the search on the same values (same answer).
      let path = arimaPath(x, order, Math.max(168, 2 * (season ?? 24)));
      const grid = { model: 'auto-arima', startSeconds: endSeconds(history), stepSeconds: history.stepSeconds };
      return {
        predict(horizonSteps, levels) {
          if (horizonSteps > path.mean.length) path = arimaPath(x, order, horizonSteps);
          const fitted = path;
          const point = fitted.mean.slice(0, horizonSteps).map((v, h) => (adjustment ? adjustment.restore(v, h) : v));
          const spread = fitted.sigma.slice(0, horizonSteps).map((s, h) => (adjustment ? s * adjustment.spreadFactor(h) : s));
          return buildForecast(grid, point, levels, (lvl, h) => point[h] + normalQuantile(lvl) * spread[h], options.floor ?? 0);
        },
      };
    },
  };
}
