/**
 * Automatic choice per series: every candidate is backtested from the same
 * rolling origins, scored by MASE (mean absolute error over the folds, scaled by
 * the in-sample seasonal-naive error of the history), and the best is fitted on
 * the whole history. Its quantiles are then calibrated on its own folds
 * (split conformal), which costs no extra fit. Candidates that fail are skipped.
 */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { InvalidInputError } from '../core/errors.ts';
import { backtest, type BacktestFold } from './backtest.ts';
import { CALIBRATION_LEVELS, conformalFromFolds, type ConformalOptions } from './conformal.ts';
import { DAY_SECONDS, periodSteps } from './periods.ts';
import { fillGaps, laggedMae } from './stats.ts';

export interface SelectionOptions {
  /** Horizon (steps) the candidates are compared on; default one day in steps (24 when a day is not whole steps). */
  readonly horizonSteps?: number;
  /** Rolling origins; default 4. */
  readonly origins?: number;
  /** Steps between origins; default horizonSteps / 2. */
  readonly strideSteps?: number;
  /** Name of the chosen forecaster; default 'auto'. */
  readonly name?: string;
  /** Calibration of the winner's quantiles; false keeps the model's own. */
  readonly calibration?: ConformalOptions | false;
  /**
   * Keep the last winner (and its backtest folds for calibration) for fits on
   * a history that extends the last selection's by fewer than this many steps:
   * online use refits often but need not re-run the contest each time. Default 0
   * (select on every fit). Makes the forecaster stateful: use one per series.
   */
  readonly reselectAfterSteps?: number;
}

export interface CandidateScore {
  readonly model: string;
  /** Mean absolute error over the folds / in-sample seasonal-naive MAE; Infinity when the model failed. */
  readonly mase: number;
}

/** A fit that also says which candidate won and how each scored. */
export interface SelectedFit extends FittedForecaster {
  readonly winner: string;
  readonly scores: readonly CandidateScore[];
}

/** Mean absolute error of fold forecasts (their means), divided by `scale`. */
export function foldMase(folds: readonly BacktestFold[], scale: number): number {
  let sum = 0;
  let count = 0;
  for (const fold of folds) {
    fold.actual.forEach((y, h) => {
      const e = Math.abs(y - fold.forecast.mean[h]);
      if (Number.isFinite(e)) {
        sum += e;
        count++;
      }
    });
  }
  return count === 0 ? Infinity : sum / count / scale;
}

export function selectByBacktest(candidates: readonly Forecaster[], options: SelectionOptions): Forecaster & {
  fit(input: FitInput): SelectedFit;
} {
  if (candidates.length === 0) throw new InvalidInputError('candidates', 'selection needs at least one model');
  const name = options.name ?? 'auto';
  let previous: { lengthSteps: number; stepSeconds: number; startSeconds: number; winner: number; folds: BacktestFold[]; scores: CandidateScore[] } | undefined;
  const finish = (input: FitInput, index: number, folds: BacktestFold[], scores: CandidateScore[]): SelectedFit => {
    const model = candidates[index];
    const fitted = model.fit(input);
    const label = `${name}:${model.name}`;
    const final = options.calibration === false ? fitted : conformalFromFolds(fitted, folds, label, options.calibration);
    return {
      winner: model.name,
      scores,
      predict: (horizonSteps, levels) => ({ ...final.predict(horizonSteps, levels), model: label }),
    };
  };
  return {
    name,
    fit(input: FitInput): SelectedFit {
      const { history } = input;
      const reuse = options.reselectAfterSteps ?? 0;
      if (
        previous &&
        previous.stepSeconds === history.stepSeconds &&
        previous.startSeconds === history.startSeconds &&
        history.values.length >= previous.lengthSteps &&
        history.values.length < previous.lengthSteps + reuse
      ) {
        try {
          return finish(input, previous.winner, previous.folds, previous.scores);
        } catch {
          previous = undefined;
        }
      }
      const daySteps = periodSteps(history.stepSeconds, DAY_SECONDS);
      const horizonSteps = options.horizonSteps ?? daySteps ?? 24;
      const rolling = {
        horizonSteps,
        origins: options.origins ?? 4,
        strideSteps: options.strideSteps ?? Math.max(1, Math.round(horizonSteps / 2)),
      };
      const y = fillGaps(history.values);
      const m = daySteps ?? 1;
      const lag = y.length > 2 * m ? m : 1;
      const scale = laggedMae(y, lag) || 1;
      const results = candidates.map((model) => {
        try {
          const folds = backtest(model, history, CALIBRATION_LEVELS, rolling);
          return { model, folds, mase: foldMase(folds, scale) };
        } catch {
          return { model, folds: [] as BacktestFold[], mase: Infinity };
        }
      });
      const order = results.slice().sort((a, b) => a.mase - b.mase);
      const scores = results.map((r) => ({ model: r.model.name, mase: r.mase }));
      for (const best of order) {
        try {
          const index = candidates.indexOf(best.model);
          const selected = finish(input, index, best.folds, scores);
          previous = { lengthSteps: history.values.length, stepSeconds: history.stepSeconds, startSeconds: history.startSeconds, winner: index, folds: best.folds, scores };
          return selected;
        } catch {
          continue;
        }
      }
      throw new InvalidInputError('history', `no candidate of '${name}' could be fitted`);
    },
  };
}
