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
 *
 * Intervals: online split-conformal. Every corrected forecast issued is kept;
 * for the first `calibratedLeads` steps ahead, the quantile at level q is the
 * corrected mean plus the empirical quantile of that lead's errors (at the
 * split-conformal level, widened by (n + 1)/n around the median) over the
 * last `calibrationWindowSteps` decisions whose outcome is already known
 * (actual − issued mean; only values before the decision are used). With
 * fewer than `minCalibrationErrors` errors the model's own quantiles stand.
 */
import type { KnownEvent, QuantileForecast, Forecaster, FittedForecaster } from '../core/forecast.ts';
import { head, timeAt, type Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { checkedLevels, shiftForecast } from './quantiles.ts';
import { sortedQuantile } from './stats.ts';
import { conformalLevel } from './conformal.ts';

export interface RefittingOptions {
  /** A fit older than this (decision time − fit time, seconds) is replaced. */
  readonly refitIntervalSeconds: number;
  /** Half-life, in observed steps, of the error average; default 3. */
  readonly biasHalfLifeSteps?: number;
  /** Steps ahead over which the correction halves; default 12. */
  readonly biasDecayHalfLifeSteps?: number;
  /** Lower bound of corrected values; default 0 (demand). */
  readonly floor?: number;
  /** Known events, passed to every fit. */
  readonly events?: readonly KnownEvent[];
  /** Leads (steps ahead) whose quantiles are calibrated on recent errors; default 12. */
  readonly calibratedLeads?: number;
  /** Decisions whose errors calibrate the quantiles; default 288 (a day at 5-minute steps). */
  readonly calibrationWindowSteps?: number;
  /** Fewest errors before a lead is calibrated; default 48. */
  readonly minCalibrationErrors?: number;
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
  const alpha = 1 - Math.pow(2, -1 / (options.biasHalfLifeSteps ?? 3));
  const decay = Math.pow(2, -1 / (options.biasDecayHalfLifeSteps ?? 12));
  const floor = options.floor ?? 0;
  let state: FitState | undefined;
  let fitCount = 0;
  const calibratedLeads = options.calibratedLeads ?? 12;
  const windowSteps = options.calibrationWindowSteps ?? 288;
  const minErrors = options.minCalibrationErrors ?? 48;
  /** Corrected means issued, by decision index (first `calibratedLeads` leads). */
  const issued = new Map<number, readonly number[]>();

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
      const corrected = shiftForecast(window, (j) => bias * Math.pow(decay, j), floor, timeAt(series, decisionIndex));
      issued.set(decisionIndex, corrected.mean.slice(0, calibratedLeads));
      for (const d of issued.keys()) if (d < decisionIndex - windowSteps - calibratedLeads) issued.delete(d);
      return calibrateOnline(corrected, series.values, decisionIndex, issued, { windowSteps, minErrors, floor });
    },
  };
}

/**
 * Replace the first leads' quantiles with mean + empirical error quantiles from
 * forecasts issued before `decisionIndex` whose outcome is known.
 */
function calibrateOnline(
  forecast: QuantileForecast,
  values: readonly number[],
  decisionIndex: number,
  issued: ReadonlyMap<number, readonly number[]>,
  options: { windowSteps: number; minErrors: number; floor: number },
): QuantileForecast {
  const leads = Math.min(forecast.mean.length, Math.max(0, ...[...issued.values()].map((m) => m.length)));
  const quantiles = forecast.quantiles.map((q) => ({ level: q.level, values: q.values.slice() }));
  for (let j = 0; j < leads; j++) {
    const errors: number[] = [];
    for (let d = decisionIndex - options.windowSteps; d < decisionIndex; d++) {
      const mean = issued.get(d);
      if (!mean || j >= mean.length || d + j >= decisionIndex) continue;
      const e = values[d + j] - mean[j];
      if (Number.isFinite(e)) errors.push(e);
    }
    if (errors.length < options.minErrors) continue;
    errors.sort((a, b) => a - b);
    let previous = -Infinity;
    for (const q of quantiles) {
      const v = Math.max(forecast.mean[j] + sortedQuantile(errors, conformalLevel(q.level, errors.length)), options.floor, previous);
      q.values[j] = v;
      previous = v;
    }
  }
  return { ...forecast, quantiles };
}
