import type { Series } from './series.ts';

/**
 * A known future (or past) event that shifts demand: a holiday, a campaign,
 * a release. Models that take regressors use it; others ignore it.
 */
export interface KnownEvent {
  readonly name: string;
  readonly startSeconds: number;
  readonly endSeconds: number;
  /** Expected multiplicative effect on demand while active, when known (1.5 = +50%). */
  readonly expectedMultiplier?: number;
}

/** One quantile path: the `level`-quantile (0 < level < 1) of demand at each forecast step. */
export interface QuantilePath {
  readonly level: number;
  readonly values: readonly number[];
}

/**
 * A probabilistic forecast on a regular grid: step i covers
 * [startSeconds + i*stepSeconds, startSeconds + (i+1)*stepSeconds).
 * `quantiles` is sorted by level; every path has `mean.length` values.
 */
export interface QuantileForecast {
  readonly model: string;
  readonly startSeconds: number;
  readonly stepSeconds: number;
  readonly mean: readonly number[];
  readonly quantiles: readonly QuantilePath[];
}

/** What a model sees when it fits: history only (never data after the decision time). */
export interface FitInput {
  readonly history: Series;
  readonly events?: readonly KnownEvent[];
}

/** A model fitted to one history; can predict any horizon at any quantile levels. */
export interface FittedForecaster {
  /**
   * Forecast the `horizonSteps` steps that follow the history, at the history's step.
   * `levels` are quantile probabilities in (0, 1), e.g. [0.05, 0.5, 0.95].
   */
  predict(horizonSteps: number, levels: readonly number[]): QuantileForecast;
}

/** One interface for every forecasting model: fit on history, then predict. */
export interface Forecaster {
  readonly name: string;
  fit(input: FitInput): FittedForecaster;
}

/**
 * The `level`-quantile of a forecast at step `index`, interpolating linearly
 * between the nearest available levels (and clamping outside them).
 */
export function quantileAt(forecast: QuantileForecast, level: number, index: number): number {
  const qs = forecast.quantiles;
  if (qs.length === 0) return forecast.mean[index];
  if (level <= qs[0].level) return qs[0].values[index];
  const last = qs[qs.length - 1];
  if (level >= last.level) return last.values[index];
  for (let k = 1; k < qs.length; k++) {
    if (level <= qs[k].level) {
      const lo = qs[k - 1];
      const hi = qs[k];
      const w = (level - lo.level) / (hi.level - lo.level);
      return lo.values[index] + w * (hi.values[index] - lo.values[index]);
    }
  }
  return last.values[index];
}
