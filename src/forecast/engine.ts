/**
 * The automatic forecasting engine as plain configuration, so that a worker
 * thread can rebuild it: which candidate models, how they are backtested,
 * combined and calibrated, and (optionally) trained global models.
 */
import type { Forecaster, QuantileForecast } from '../core/forecast.ts';
import { slice, type Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { autoArima } from './arima.ts';
import { autoEts } from './autoEts.ts';
import type { BacktestFold } from './backtest.ts';
import { conformalFromFolds } from './conformal.ts';
import { fillGaps, laggedMae } from './stats.ts';
import { globalMlp, type GlobalMlpModel } from './globalMlp.ts';
import { mstl } from './mstl.ts';
import { DAY_SECONDS, WEEK_SECONDS, periodSteps } from './periods.ts';
import { seasonalNaive } from './seasonalNaive.ts';
import { selectByBacktest, type CandidateScore, type SelectingForecaster } from './select.ts';
import { theta } from './theta.ts';

/** Single models by name; 'global-mlp' needs trained models. */
export const MODEL_NAMES = ['seasonal-naive', 'seasonal-naive-weekly', 'theta', 'auto-ets', 'mstl', 'auto-arima', 'global-mlp'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export interface EngineConfig {
  /** Candidate single models. */
  readonly candidates: readonly ModelName[];
  /** Horizon (steps) the candidates are backtested and calibrated on. */
  readonly horizonSteps: number;
  /** Rolling origins; default 3. */
  readonly origins?: number;
  /** Steps between origins; default half the horizon. */
  readonly strideSteps?: number;
  /** Mean/median of the best k single models compete too; default 3 (0 = off). */
  readonly combineTopK?: number;
  /** Weight of the cross-validated MSIS in the selection score; default 0.1. */
  readonly intervalWeight?: number;
}

/**
 * Steps at the end of a history that backtests score on: a model trained across
 * series for this engine must not have seen them (train on each series without them).
 */
export function backtestSpanSteps(config: EngineConfig): number {
  const origins = config.origins ?? 3;
  const stride = config.strideSteps ?? Math.max(1, Math.round(config.horizonSteps / 2));
  return config.horizonSteps + (origins - 1) * stride;
}

/**
 * The series a global model for this engine is trained on: each without its last
 * backtestSpanSteps values, so that the backtests that choose and calibrate
 * (and any later window) score it on values it has never seen.
 */
export function globalTrainingSeries(series: readonly Series[], config: EngineConfig): Series[] {
  const span = backtestSpanSteps(config);
  return series.map((s) => slice(s, 0, s.values.length - span));
}

/** One single model by name, for a series of step `stepSeconds`. */
export function singleModel(name: string, stepSeconds: number, globalModels: readonly GlobalMlpModel[] = []): Forecaster {
  switch (name) {
    case 'seasonal-naive':
      return seasonalNaive();
    case 'seasonal-naive-weekly': {
      const week = periodSteps(stepSeconds, WEEK_SECONDS);
      return seasonalNaive({ periodSteps: week, name: 'seasonal-naive-weekly' });
    }
    case 'theta':
      return theta();
    case 'auto-ets':
      return autoEts();
    case 'mstl':
      return mstl();
    case 'auto-arima':
      return autoArima();
    case 'global-mlp':
      if (globalModels.length === 0) throw new InvalidInputError('global-mlp', 'the global model has not been trained (no models given)');
      return globalMlp(globalModels);
    default:
      throw new InvalidInputError('model', `unknown model '${name}'; expected one of ${MODEL_NAMES.join(', ')}`);
  }
}

/** The engine's selecting forecaster (per series: backtest, choose or combine, calibrate). */
export function engineForecaster(config: EngineConfig, stepSeconds: number, globalModels: readonly GlobalMlpModel[] = [], clock?: () => number): SelectingForecaster {
  const candidates = config.candidates
    .filter((name) => name !== 'global-mlp' || globalModels.length > 0)
    .map((name) => singleModel(name, stepSeconds, globalModels));
  return selectByBacktest(candidates, {
    horizonSteps: config.horizonSteps,
    origins: config.origins ?? 3,
    strideSteps: config.strideSteps ?? Math.max(1, Math.round(config.horizonSteps / 2)),
    combineTopK: config.combineTopK ?? 3,
    intervalWeight: config.intervalWeight ?? 0.1,
    calibration: { widenWithHorizon: true },
    keepFolds: true,
    clock,
  });
}

export interface SeriesForecast {
  /** The automatic choice's forecast. */
  readonly forecast: QuantileForecast;
  readonly winner: string;
  readonly members: readonly string[];
  readonly scores: readonly CandidateScore[];
  /** Every single candidate's own forecast, calibrated on its own folds (when asked for). */
  readonly perModel?: Readonly<Record<string, QuantileForecast>>;
  /** In-sample seasonal-naive MAE at the daily period (the MASE scale). */
  readonly scale: number;
  /**
   * Backtest errors (actual − mean) / scale, by model then fold then step:
   * the winner's under 'auto', each single candidate's under its name.
   */
  readonly scaledErrors: Readonly<Record<string, number[][]>>;
}

/** Forecast one series with the engine; optionally every candidate's calibrated forecast too. */
export function forecastSeries(
  series: Series,
  config: EngineConfig,
  horizonSteps: number,
  levels: readonly number[],
  globalModels: readonly GlobalMlpModel[] = [],
  everyModel = false,
  clock?: () => number,
): SeriesForecast {
  const fit = engineForecaster(config, series.stepSeconds, globalModels, clock).fit({ history: series });
  const forecast = fit.predict(horizonSteps, levels);
  let perModel: Record<string, QuantileForecast> | undefined;
  if (everyModel && fit.folds) {
    perModel = {};
    for (const [name, folds] of fit.folds) {
      if (folds.length === 0) continue;
      try {
        const fitted = singleModel(name, series.stepSeconds, globalModels).fit({ history: series });
        perModel[name] = conformalFromFolds(fitted, folds, name, { widenWithHorizon: true }).predict(horizonSteps, levels);
      } catch {
        // A model that cannot fit this series has no row for it.
      }
    }
  }
  const y = fillGaps(series.values);
  const m = periodSteps(series.stepSeconds, DAY_SECONDS) ?? 1;
  const scale = laggedMae(y, y.length > 2 * m ? m : 1) || 1;
  const scaled = (folds: readonly BacktestFold[]) => folds.map((f) => f.actual.map((v, h) => (v - f.forecast.mean[h]) / scale));
  const scaledErrors: Record<string, number[][]> = { auto: scaled(fit.winnerFolds ?? []) };
  for (const [name, folds] of fit.folds ?? []) scaledErrors[name] = scaled(folds);
  return { forecast, winner: fit.winner, members: fit.members ?? [fit.winner], scores: fit.scores, perModel, scale, scaledErrors };
}
