/**
 * Forecast combinations: the mean or the median of several models' forecasts,
 * step by step, for the mean path and for every quantile level (averaging
 * quantiles, "Vincentisation", keeps a combined band as wide as its members'
 * typical band). Combinations of a few good models are the most reliable
 * winners of the M competitions.
 */
import type { FitInput, FittedForecaster, Forecaster, QuantileForecast } from '../core/forecast.ts';
import { quantileAt } from '../core/forecast.ts';
import { InvalidInputError } from '../core/errors.ts';
import { buildForecast } from './quantiles.ts';

export type CombinationRule = 'mean' | 'median';

function combineValues(values: number[], rule: CombinationRule): number {
  if (rule === 'mean') return values.reduce((a, b) => a + b, 0) / values.length;
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 ? values[mid] : 0.5 * (values[mid - 1] + values[mid]);
}

/**
 * One forecast from several on the same grid (the shortest horizon), at the
 * union of their levels; a member lacking a level contributes its interpolated quantile.
 */
export function combineForecasts(forecasts: readonly QuantileForecast[], rule: CombinationRule, name: string, floor = 0): QuantileForecast {
  if (forecasts.length === 0) throw new InvalidInputError('forecasts', 'a combination needs at least one forecast');
  const horizon = Math.min(...forecasts.map((f) => f.mean.length));
  const levels = [...new Set(forecasts.flatMap((f) => f.quantiles.map((q) => q.level)))];
  const mean = Array.from({ length: horizon }, (_, h) => combineValues(forecasts.map((f) => f.mean[h]), rule));
  const grid = { model: name, startSeconds: forecasts[0].startSeconds, stepSeconds: forecasts[0].stepSeconds };
  return buildForecast(grid, mean, levels, (level, h) => combineValues(forecasts.map((f) => quantileAt(f, level, h)), rule), floor);
}

/** Name of a combination, e.g. `median(theta+mstl)`. */
export function combinationName(rule: CombinationRule, members: readonly string[]): string {
  return `${rule}(${members.join('+')})`;
}

/** A forecaster that fits every member and combines their forecasts. */
export function combination(members: readonly Forecaster[], rule: CombinationRule, floor = 0): Forecaster {
  if (members.length === 0) throw new InvalidInputError('members', 'a combination needs at least one model');
  const name = combinationName(rule, members.map((m) => m.name));
  return {
    name,
    fit(input: FitInput): FittedForecaster {
      const fitted = members.map((m) => m.fit(input));
      return {
        predict: (horizonSteps, levels) => combineForecasts(fitted.map((f) => f.predict(horizonSteps, levels)), rule, name, floor),
      };
    },
  };
}
