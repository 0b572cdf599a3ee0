/**
 * Automatic choice per series: every candidate is backtested from the same
 * rolling origins and scored on those folds by
 *   score = MASE + intervalWeight · MSIS,
 * MASE being the mean absolute error of the fold forecasts over the in-sample
 * seasonal-naive MAE of the history, and MSIS the scaled interval score of the
 * 95% band that split-conformal calibration would give, estimated by
 * cross-validation over the folds (each fold's band calibrated on the other
 * folds' errors). With `combineTopK` = k ≥ 2, the mean and the median of the best
 * k single models (by score) are candidates too, scored on their combined folds
 * at no extra fit. The best candidate is fitted on the whole history, and its
 * quantiles are calibrated on its own folds (split conformal), which costs no
 * extra fit. Candidates that fail are skipped.
 */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { InvalidInputError } from '../core/errors.ts';
import { backtest, type BacktestFold } from './backtest.ts';
import { combination, combinationName, combineForecasts, type CombinationRule } from './combine.ts';
import { CALIBRATION_LEVELS, conformalFromFolds, conformalLevel, type ConformalOptions } from './conformal.ts';
import { DAY_SECONDS, periodSteps } from './periods.ts';
import { fillGaps, laggedMae, sortedQuantile } from './stats.ts';

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
  /** Also weigh the mean and the median of the best k single models; default 0 (single models only). */
  readonly combineTopK?: number;
  /** Weight of the cross-validated MSIS in the score; default 0 (MASE alone). */
  readonly intervalWeight?: number;
  /** Return every single candidate's backtest folds with the fit (SelectedFit.folds); default false. */
  readonly keepFolds?: boolean;
  /** A clock (seconds) to time each candidate's backtest with (CandidateScore.seconds); none by default. */
  readonly clock?: () => number;
}

export interface CandidateScore {
  readonly model: string;
  /** Mean absolute error over the folds / in-sample seasonal-naive MAE; Infinity when the model failed. */
  readonly mase: number;
  /** Cross-validated scaled interval score of the calibrated 95% band (NaN with fewer than 2 folds). */
  readonly msis?: number;
  /** What the choice minimised: mase + intervalWeight · msis (msis counted only when finite). */
  readonly score?: number;
  /** Seconds the candidate's backtest took (single models, when a clock is given). */
  readonly seconds?: number;
}

/** A fit that also says which candidate won and how each scored. */
export interface SelectedFit extends FittedForecaster {
  readonly winner: string;
  readonly scores: readonly CandidateScore[];
  /** The single models the winner is made of (one, or a combination's members). */
  readonly members?: readonly string[];
  /** Each single candidate's backtest folds (empty when it failed), with `keepFolds`. */
  readonly folds?: ReadonlyMap<string, readonly BacktestFold[]>;
  /** The winner's own backtest folds (a combination's are combined), with `keepFolds`. */
  readonly winnerFolds?: readonly BacktestFold[];
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

/**
 * Scaled interval score of the split-conformal (1 − alpha) band, cross-validated:
 * each fold's band is its mean plus quantiles of the other folds' errors (actual −
 * mean) at steps within ± poolHalfWidthSteps. NaN with fewer than two folds.
 */
export function foldConformalMsis(folds: readonly BacktestFold[], scale: number, poolHalfWidthSteps: number, alpha = 0.05): number {
  if (folds.length < 2) return NaN;
  const horizon = Math.min(...folds.map((f) => f.actual.length));
  const errors = folds.map((f) => f.actual.slice(0, horizon).map((y, h) => y - f.forecast.mean[h]));
  let sum = 0;
  let count = 0;
  folds.forEach((fold, i) => {
    for (let h = 0; h < horizon; h++) {
      const y = fold.actual[h];
      if (!Number.isFinite(y)) continue;
      const pool: number[] = [];
      for (let j = 0; j < folds.length; j++) {
        if (j === i) continue;
        for (let k = Math.max(0, h - poolHalfWidthSteps); k <= Math.min(horizon - 1, h + poolHalfWidthSteps); k++) {
          if (Number.isFinite(errors[j][k])) pool.push(errors[j][k]);
        }
      }
      if (pool.length === 0) continue;
      pool.sort((a, b) => a - b);
      const mean = fold.forecast.mean[h];
      const lower = mean + sortedQuantile(pool, conformalLevel(alpha / 2, pool.length));
      const upper = mean + sortedQuantile(pool, conformalLevel(1 - alpha / 2, pool.length));
      sum += upper - lower + (2 / alpha) * (Math.max(0, lower - y) + Math.max(0, y - upper));
      count++;
    }
  });
  return count === 0 ? NaN : sum / count / scale;
}

/** A candidate of the contest: one model or a combination of some, with its folds and scores. */
interface Entry {
  readonly name: string;
  readonly members: readonly number[];
  readonly rule?: CombinationRule;
  readonly folds: BacktestFold[];
  readonly mase: number;
  readonly msis: number;
  readonly score: number;
  readonly seconds?: number;
}

/** A Forecaster whose fits say what won. */
export interface SelectingForecaster extends Forecaster {
  fit(input: FitInput): SelectedFit;
}

export function selectByBacktest(candidates: readonly Forecaster[], options: SelectionOptions): SelectingForecaster {
  if (candidates.length === 0) throw new InvalidInputError('candidates', 'selection needs at least one model');
  const name = options.name ?? 'auto';
  const intervalWeight = options.intervalWeight ?? 0;
  const topK = options.combineTopK ?? 0;
  let previous: { lengthSteps: number; stepSeconds: number; startSeconds: number; entry: Entry; scores: CandidateScore[] } | undefined;
  const finish = (input: FitInput, entry: Entry, scores: CandidateScore[], folds?: Map<string, BacktestFold[]>): SelectedFit => {
    const members = entry.members.map((i) => candidates[i]);
    const model = entry.rule ? combination(members, entry.rule, options.calibration ? options.calibration.floor : undefined) : members[0];
    const fitted = model.fit(input);
    const label = `${name}:${entry.name}`;
    const final = options.calibration === false ? fitted : conformalFromFolds(fitted, entry.folds, label, options.calibration);
    return {
      winner: entry.name,
      scores,
      members: members.map((m) => m.name),
      folds,
      winnerFolds: folds ? entry.folds : undefined,
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
          return finish(input, previous.entry, previous.scores);
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
      const pool = options.calibration && options.calibration.poolHalfWidthSteps !== undefined
        ? options.calibration.poolHalfWidthSteps
        : Math.max(1, Math.round(horizonSteps / 8));
      const entry = (entryName: string, members: number[], folds: BacktestFold[], rule?: CombinationRule): Entry => {
        const mase = folds.length ? foldMase(folds, scale) : Infinity;
        const msis = intervalWeight > 0 && folds.length ? foldConformalMsis(folds, scale, pool) : NaN;
        const score = mase + (Number.isFinite(msis) ? intervalWeight * msis : 0);
        return { name: entryName, members, rule, folds, mase, msis, score };
      };
      const singles = candidates.map((model, index): Entry => {
        const started = options.clock?.();
        let folds: BacktestFold[] = [];
        try {
          folds = backtest(model, history, CALIBRATION_LEVELS, rolling);
        } catch {
          // A model that cannot fit this history scores Infinity.
        }
        const seconds = started === undefined ? undefined : options.clock!() - started;
        return { ...entry(model.name, [index], folds), seconds };
      });
      const entries = [...singles];
      const ranked = singles.filter((e) => Number.isFinite(e.score)).sort((a, b) => a.score - b.score);
      const foldCount = ranked.length ? ranked[0].folds.length : 0;
      // The best k, in candidate order (so a combination has one name whatever the ranking).
      const top = ranked
        .filter((e) => e.folds.length === foldCount)
        .slice(0, topK)
        .sort((a, b) => a.members[0] - b.members[0]);
      if (topK >= 2 && top.length >= 2) {
        for (const rule of ['median', 'mean'] as const) {
          if (rule === 'median' && top.length < 3) continue; // the median of two is their mean
          const folds = top[0].folds.map((fold, j) => ({
            originIndex: fold.originIndex,
            actual: fold.actual,
            forecast: combineForecasts(top.map((e) => e.folds[j].forecast), rule, rule),
          }));
          entries.push(entry(combinationName(rule, top.map((e) => e.name)), top.map((e) => e.members[0]), folds, rule));
        }
      }
      const order = entries.slice().sort((a, b) => a.score - b.score);
      const scores: CandidateScore[] = entries.map((e) => ({ model: e.name, mase: e.mase, msis: e.msis, score: e.score, seconds: e.seconds }));
      for (const best of order) {
        try {
          const folds = options.keepFolds ? new Map(singles.map((e) => [e.name, e.folds])) : undefined;
          const selected = finish(input, best, scores, folds);
          previous = { lengthSteps: history.values.length, stepSeconds: history.stepSeconds, startSeconds: history.startSeconds, entry: best, scores };
          return selected;
        } catch {
          continue;
        }
      }
      throw new InvalidInputError('history', `no candidate of '${name}' could be fitted`);
    },
  };
}
