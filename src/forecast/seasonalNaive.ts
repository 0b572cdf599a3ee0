/**
 * Seasonal naive: every step repeats the value one season earlier
 * (Hyndman & Athanasopoulos, FPP3 §5.2). The season is one day in steps when
 * the history holds at least two days; otherwise the model is plain naive.
 * A longer season (a week) may be asked for; it is used once the history
 * holds one season plus `MIN_ERRORS` steps to estimate errors from.
 *
 * Quantiles come from the empirical distribution of in-sample seasonal-naive
 * errors, scaled by sqrt(k + 1) where k is the number of whole seasons ahead
 * (FPP3 §5.5: a step k seasons ahead accumulates k + 1 seasonal random-walk errors).
 */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { endSeconds } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { buildForecast } from './quantiles.ts';
import { periodSteps, DAY_SECONDS } from './periods.ts';
import { fillGaps, sortedFinite, sortedQuantile } from './stats.ts';

/** Fewest in-sample seasonal errors an explicit season needs. */
export const MIN_ERRORS = 24;

export interface SeasonalNaiveOptions {
  /** Season length in steps; default one day (when the history holds two), else 1 (naive). */
  readonly periodSteps?: number;
  /** Model name (default 'seasonal-naive'), to tell variants apart in selection. */
  readonly name?: string;
  /** Lower bound of every forecast value; default 0 (demand). */
  readonly floor?: number;
}

export function seasonalNaive(options: SeasonalNaiveOptions = {}): Forecaster {
  const name = options.name ?? 'seasonal-naive';
  return {
    name,
    fit({ history }: FitInput): FittedForecaster {
      const y = fillGaps(history.values);
      const n = y.length;
      if (n === 0) throw new InvalidInputError('history', 'seasonal naive needs at least one value');
      const daily = periodSteps(history.stepSeconds, DAY_SECONDS);
      const fallback = daily !== undefined && n >= 2 * daily ? daily : 1;
      const m = options.periodSteps !== undefined && n >= options.periodSteps + MIN_ERRORS ? options.periodSteps : fallback;
      const errors = sortedFinite(y.slice(m).map((v, t) => v - y[t]));
      const grid = { model: name, startSeconds: endSeconds(history), stepSeconds: history.stepSeconds };
      return {
        predict(horizonSteps, levels) {
          const point = Array.from({ length: horizonSteps }, (_, h) => y[n - m + (h % m)]);
          return buildForecast(
            grid,
            point,
            levels,
            (level, h) => point[h] + (errors.length ? sortedQuantile(errors, level) : 0) * Math.sqrt(Math.floor(h / m) + 1),
            options.floor ?? 0,
          );
        },
      };
    },
  };
}
