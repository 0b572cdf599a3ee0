/**
 * Rolling-origin evaluation on the tail of a history: fit on the first `origin`
 * values, forecast the next `horizonSteps`, compare with what happened.
 */
import type { Forecaster, QuantileForecast } from '../core/forecast.ts';
import { head, type Series } from '../core/series.ts';

export interface RollingOriginOptions {
  /** Steps forecast from each origin. */
  readonly horizonSteps: number;
  /** Number of origins (fewer when the history is short). */
  readonly origins: number;
  /** Steps between consecutive origins; default `horizonSteps`. */
  readonly strideSteps?: number;
  /** Fewest history steps a model is fitted on; default 2·horizonSteps. */
  readonly minTrainSteps?: number;
}

/**
 * Origins (history lengths) in ascending order: the last leaves exactly
 * `horizonSteps` values to compare with, the others step back by `strideSteps`.
 */
export function rollingOrigins(lengthSteps: number, options: RollingOriginOptions): number[] {
  const stride = Math.max(1, options.strideSteps ?? options.horizonSteps);
  const minTrain = options.minTrainSteps ?? 2 * options.horizonSteps;
  const origins: number[] = [];
  for (let k = 0; k < options.origins; k++) {
    const origin = lengthSteps - options.horizonSteps - k * stride;
    if (origin < minTrain) break;
    origins.unshift(origin);
  }
  return origins;
}

export interface BacktestFold {
  /** History length the model was fitted on. */
  readonly originIndex: number;
  readonly forecast: QuantileForecast;
  /** The `horizonSteps` values that followed the origin. */
  readonly actual: readonly number[];
}

/** Fit and forecast from every rolling origin. Throws what the model throws. */
export function backtest(
  model: Forecaster,
  history: Series,
  levels: readonly number[],
  options: RollingOriginOptions,
): BacktestFold[] {
  return rollingOrigins(history.values.length, options).map((origin) => ({
    originIndex: origin,
    forecast: model.fit({ history: head(history, origin) }).predict(options.horizonSteps, levels),
    actual: history.values.slice(origin, origin + options.horizonSteps),
  }));
}
