/**
 * Forecasting at every decision time without refitting at every decision time.
 *
 * `refitting(model, …)` fits on the values before the decision index, keeps that
 * fit's long forecast, and until the fit is `refitIntervalSeconds` old answers
 * later decisions from the remaining part of it, corrected by the recent error.
 *
 * Correction: an exponentially weighted mean `b` of (actual − forecast mean) over
 * the steps observed since the fit (half-life `biasHalfLifeSteps`, starting from 0
 * so one odd step moves it little), added to every quantile and the mean, damped
 * with the horizon as b·2^(−j / biasDecayHalfLifeSteps) for step j ahead. Additive,
 * not multiplicative: demand can be near zero, where a ratio of actual to forecast
 * explodes, and a common shift keeps the quantiles ordered. Damped, because a level
 * error seen over the last minutes says less about the hours ahead, which the
 * (seasonal) fit already describes.
 */
import type { KnownEvent, QuantileForecast, Forecaster, FittedForecaster } from '../core/forecast.ts';
import { head, timeAt, type Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { checkedLevels, shiftForecast } from './quantiles.ts';

export interface RefittingOptions {
  /** A fit older than this (decision time − fit time, seconds) is replaced. */
  readonly refitIntervalSeconds: number;
  /** Half-life, in observed steps, of the error average; default 6. */
  readonly biasHalfLifeSteps?: number;
  /** Steps ahead over which the correction halves; default 12. */
  readonly biasDecayHalfLifeSteps?: number;
  /** Lower bound of corrected values; default 0 (demand). */
  readonly floor?: number;
  /** Known events, passed to every fit. */
  readonly events?: readonly KnownEvent[];
}

/** A forecaster that is asked again and again along one series (use one instance per series). */
export interface OnlineForecaster {
  readonly name: string;
  /**
   * Forecast `horizonSteps` steps from the start of step `decisionIndex`, using
   * only `series.values[0 .. decisionIndex − 1]`.
   */
  forecastAt(series: Series, decisionIndex: number, horizonSteps: number, levels: readonly number[]): QuantileForecast;
  /** Number of fits made so far. */
  readonly fitCount: number;
}

interface FitState {
  readonly fitIndex: number;
  readonly fitted: FittedForecaster;
  readonly lengthSteps: number;
  readonly cache: Map<string, QuantileForecast>;
}

export function refitting(model: Forecaster, options: RefittingOptions): OnlineForecaster {
  if (!(options.refitIntervalSeconds >= 0)) {
    throw new InvalidInputError('refitIntervalSeconds', `must be a non-negative number, got ${options.refitIntervalSeconds}`);
  }
  const alpha = 1 - Math.pow(2, -1 / (options.biasHalfLifeSteps ?? 6));
  const decay = Math.pow(2, -1 / (options.biasDecayHalfLifeSteps ?? 12));
  const floor = options.floor ?? 0;
  let state: FitState | undefined;
  let fitCount = 0;

  function fitAt(series: Series, decisionIndex: number, horizonSteps: number): FitState {
    const fitted = model.fit({ history: head(series, decisionIndex), events: options.events });
    fitCount++;
    const intervalSteps = Math.ceil(options.refitIntervalSeconds / series.stepSeconds);
    return { fitIndex: decisionIndex, fitted, lengthSteps: horizonSteps + intervalSteps, cache: new Map() };
  }

  return {
    name: `${model.name}+refit`,
    get fitCount() {
      return fitCount;
    },
    forecastAt(series, decisionIndex, horizonSteps, levels) {
      if (!Number.isInteger(decisionIndex) || decisionIndex < 1 || decisionIndex > series.values.length) {
        throw new InvalidInputError('decisionIndex', `${decisionIndex} is not in [1, ${series.values.length}]`);
      }
      const ageSteps = state ? decisionIndex - state.fitIndex : -1;
      if (
        !state ||
        ageSteps < 0 ||
        (ageSteps > 0 && ageSteps * series.stepSeconds >= options.refitIntervalSeconds) ||
        ageSteps + horizonSteps > state.lengthSteps
      ) {
        state = fitAt(series, decisionIndex, horizonSteps);
      }
      const sorted = checkedLevels(levels);
      const key = sorted.join(',');
      let long = state.cache.get(key);
      if (!long) {
        long = state.fitted.predict(state.lengthSteps, sorted);
        state.cache.set(key, long);
      }
      const age = decisionIndex - state.fitIndex;
      let bias = 0;
      for (let t = state.fitIndex; t < decisionIndex; t++) {
        const error = series.values[t] - long.mean[t - state.fitIndex];
        if (Number.isFinite(error)) bias += alpha * (error - bias);
      }
      const window: QuantileForecast = {
        ...long,
        mean: long.mean.slice(age, age + horizonSteps),
        quantiles: long.quantiles.map((q) => ({ level: q.level, values: q.values.slice(age, age + horizonSteps) })),
      };
      return shiftForecast(window, (j) => bias * Math.pow(decay, j), floor, timeAt(series, decisionIndex));
    },
  };
}
