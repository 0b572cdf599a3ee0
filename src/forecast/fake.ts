/** A fake Forecaster for tests of wrappers: a constant forecast with a fixed Gaussian spread. */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { endSeconds } from '../core/series.ts';
import { buildForecast } from './quantiles.ts';
import { normalQuantile } from './stats.ts';

/**
 * Forecasts `value` (or, when omitted, the last history value) at every step,
 * with quantiles value + z_level·sigma. Counts its fits in `fits`.
 */
export function constantForecaster(options: { value?: number; sigma?: number; name?: string } = {}): Forecaster & {
  fits: number;
} {
  const fake = {
    name: options.name ?? 'constant',
    fits: 0,
    fit({ history }: FitInput): FittedForecaster {
      fake.fits++;
      const level = options.value ?? history.values[history.values.length - 1];
      const sigma = options.sigma ?? 0;
      const grid = { model: fake.name, startSeconds: endSeconds(history), stepSeconds: history.stepSeconds };
      return {
        predict: (horizonSteps, levels) =>
          buildForecast(grid, new Array<number>(horizonSteps).fill(level), levels, (p) => level + normalQuantile(p) * sigma, -Infinity),
      };
    },
  };
  return fake;
}
