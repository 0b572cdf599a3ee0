/** Forecasting models, wrappers and the registry the rest of headroom uses. */
import type { Forecaster } from '../core/forecast.ts';
import { InvalidInputError } from '../core/errors.ts';
import { mstl } from './mstl.ts';
import { seasonalNaive } from './seasonalNaive.ts';
import { singleModel } from './engine.ts';
import { theta } from './theta.ts';
import { selectByBacktest } from './select.ts';
import { DAY_SECONDS, WEEK_SECONDS, periodSteps } from './periods.ts';

export { seasonalNaive, type SeasonalNaiveOptions } from './seasonalNaive.ts';
export { mstl, type MstlOptions } from './mstl.ts';
export { autoEts, type AutoEtsOptions } from './autoEts.ts';
export { calibrated, conformalFromFolds, type CalibrationOptions, type ConformalOptions } from './conformal.ts';
export { refitting, type OnlineForecaster, type RefittingOptions } from './online.ts';
export { selectByBacktest, type SelectionOptions, type SelectedFit, type CandidateScore } from './select.ts';
export { backtest, rollingOrigins, type BacktestFold, type RollingOriginOptions } from './backtest.ts';
export { normalQuantile } from './stats.ts';
export { theta, type ThetaOptions } from './theta.ts';
export { autoArima, type AutoArimaOptions } from './arima.ts';
export { globalMlp, trainGlobalMlp, type GlobalMlpModel, type GlobalMlpOptions } from './globalMlp.ts';
export { combination, combineForecasts, type CombinationRule } from './combine.ts';
export { applyPooledConformal, pooledScaledErrors } from './conformal.ts';
export { engineForecaster, forecastSeries, globalTrainingSeries, backtestSpanSteps, MODEL_NAMES, type EngineConfig, type ModelName, type SeriesForecast } from './engine.ts';
export { forecastMany, type ManyOptions, type ManyResult } from './many.ts';
export { createForecastPool, type ForecastPool, type ForecastPoolOptions } from './pool.ts';
export { smape, mase, msis, owa, coverage, seasonalScale, M4_HOURLY_NAIVE2 } from './accuracy.ts';

export const FORECASTER_NAMES = ['seasonal-naive', 'mstl', 'auto-ets', 'auto', 'theta', 'auto-arima'] as const;
export type ForecasterName = (typeof FORECASTER_NAMES)[number];

export interface RegistryOptions {
  /** Horizon (steps) 'auto' compares candidates on; default one day in steps. */
  readonly horizonSteps?: number;
  /** Step of the series (seconds), to set the weekly season; default 3600. */
  readonly stepSeconds?: number;
  /** 'auto': re-run the model contest only when the history has grown by this many steps (see SelectionOptions). */
  readonly reselectAfterSteps?: number;
}

/**
 * 'auto': daily and weekly seasonal naive, MSTL and Theta, compared by backtests from
 * eight origins spread over the last day (so every time of day is scored) and
 * the winner calibrated on its own folds.
 */
export function autoForecaster(options: RegistryOptions = {}): Forecaster {
  const stepSeconds = options.stepSeconds ?? 3600;
  const week = periodSteps(stepSeconds, WEEK_SECONDS);
  const day = periodSteps(stepSeconds, DAY_SECONDS) ?? 24;
  const origins = 8;
  return selectByBacktest(
    [seasonalNaive(), ...(week ? [seasonalNaive({ periodSteps: week, name: 'seasonal-naive-weekly' })] : []), mstl(), theta()],
    { horizonSteps: options.horizonSteps, origins, strideSteps: Math.max(1, Math.round(day / origins)), reselectAfterSteps: options.reselectAfterSteps },
  );
}

/** A forecaster by its registry name; throws InvalidInputError naming the valid ones. */
export function forecasterByName(name: string, options: RegistryOptions = {}): Forecaster {
  if (!(FORECASTER_NAMES as readonly string[]).includes(name)) {
    throw new InvalidInputError('forecaster', `unknown model '${name}'; expected one of ${FORECASTER_NAMES.join(', ')}`);
  }
  return name === 'auto' ? autoForecaster(options) : singleModel(name, options.stepSeconds ?? 3600);
}
export { detectAnomalies, cleaned, cleanHistory, robustDecomposition, scoreAgainstWindows, type Anomaly, type AnomalyOptions, type AnomalyReport } from './anomaly.ts';
export { summingMatrix, reconcile, reconciliationMatrix, forecastHierarchy, aggregateHistories, RECONCILIATION_METHODS, type Hierarchy, type HierarchyNode, type ReconciliationMethod } from './hierarchy.ts';
export { withEvents, expandEvents, validateEvents, type EventEffect, type EventOptions, type FittedWithEvents, type CalendarEvent } from './events.ts';
export { resampleForecast, forecastOver, horizonSteps, type ResampleOptions } from './aggregate.ts';
