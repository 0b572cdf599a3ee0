/** Assembling a QuantileForecast from a model's numbers: level checks, ordering, clamping. */
import type { QuantileForecast, QuantilePath } from '../core/forecast.ts';
import { InvalidInputError } from '../core/errors.ts';

export interface ForecastGrid {
  readonly model: string;
  readonly startSeconds: number;
  readonly stepSeconds: number;
}

/** Distinct levels in ascending order; throws when a level is outside (0, 1). */
export function checkedLevels(levels: readonly number[]): number[] {
  for (const level of levels) {
    if (!(level > 0 && level < 1)) throw new InvalidInputError('levels', `quantile level ${level} is not in (0, 1)`);
  }
  return [...new Set(levels)].sort((a, b) => a - b);
}

/**
 * A forecast from a mean path and a quantile function `quantile(level, step)`.
 * Quantiles are made monotone in level (a running maximum over ascending levels),
 * then every value is clamped at `floor` (0 for demand; -Infinity to disable).
 */
export function buildForecast(
  grid: ForecastGrid,
  mean: readonly number[],
  levels: readonly number[],
  quantile: (level: number, step: number) => number,
  floor = 0,
): QuantileForecast {
  const sorted = checkedLevels(levels);
  const paths: QuantilePath[] = [];
  let previous: number[] | undefined;
  for (const level of sorted) {
    const values = mean.map((_, step) => {
      const q = Math.max(quantile(level, step), floor);
      return previous ? Math.max(q, previous[step]) : q;
    });
    paths.push({ level, values });
    previous = values;
  }
  return { ...grid, mean: mean.map((v) => Math.max(v, floor)), quantiles: paths };
}

/** Shift every path of a forecast by `offset(step)` (then re-clamp at `floor`); order is preserved. */
export function shiftForecast(
  forecast: QuantileForecast,
  offset: (step: number) => number,
  floor = 0,
  startSeconds = forecast.startSeconds,
): QuantileForecast {
  const shift = (values: readonly number[]) => values.map((v, step) => Math.max(v + offset(step), floor));
  return {
    ...forecast,
    startSeconds,
    mean: shift(forecast.mean),
    quantiles: forecast.quantiles.map((q) => ({ level: q.level, values: shift(q.values) })),
  };
}
