/**
 * Split-conformal calibration of any model's quantiles. At fit time the model is
 * backtested from rolling origins on the tail of the history; the errors
 * (actual − mean) at each horizon step, pooled with neighbouring steps, form the
 * calibration set. A calibrated `level`-quantile is mean + the `level`-quantile of
 * those errors, with the finite-sample widening of split conformal prediction.
 *
 * With `scale: 'model'` (default) errors are first divided by the model's own
 * spread at that step (its interquartile range / 1.349), and multiplied back by the
 * spread of the final forecast: the model keeps its shape over the horizon and
 * across regimes, the calibration fixes the overall width. Steps where the model
 * reports no spread fall back to raw errors.
 */
import type { FitInput, FittedForecaster, Forecaster, QuantileForecast } from '../core/forecast.ts';
import { quantileAt } from '../core/forecast.ts';
import { backtest, type BacktestFold } from './backtest.ts';
import { buildForecast } from './quantiles.ts';
import { sortedQuantile } from './stats.ts';

export interface ConformalOptions {
  /** Errors pooled from steps within ± this many steps; default horizon / 8. */
  readonly poolHalfWidthSteps?: number;
  /** 'model' studentizes errors by the model's spread; 'none' uses raw errors. */
  readonly scale?: 'model' | 'none';
  /** Lower bound of every forecast value; default 0 (demand). */
  readonly floor?: number;
  /**
   * Make each quantile's distance from the mean non-decreasing with the horizon
   * (a running maximum over steps), so bands never narrow further ahead; default false.
   */
  readonly widenWithHorizon?: boolean;
}

export interface CalibrationOptions extends ConformalOptions {
  /** Horizon (steps) calibrated; later steps reuse the last step's errors. */
  readonly horizonSteps: number;
  /** Rolling origins backtested; default 8. */
  readonly origins?: number;
  /** Steps between origins; default horizonSteps / 2. */
  readonly strideSteps?: number;
  /** Name of the calibrated model; default `<model>+conformal`. */
  readonly name?: string;
}

/** Levels a backtest must ask for so that its folds can calibrate (the quartiles give the spread). */
export const CALIBRATION_LEVELS: readonly number[] = [0.25, 0.75];

const IQR_TO_SIGMA = 1 / 1.3489795003921634;

/** The model's spread (a sigma equivalent) per step, from its quartiles. */
function spread(forecast: QuantileForecast): number[] {
  return forecast.mean.map((_, h) => (quantileAt(forecast, 0.75, h) - quantileAt(forecast, 0.25, h)) * IQR_TO_SIGMA);
}

/** Calibration errors per horizon step, sorted, pooled over neighbouring steps. */
export function calibrationErrors(
  folds: readonly BacktestFold[],
  horizonSteps: number,
  poolHalfWidthSteps: number,
  studentize: boolean,
): number[][] {
  const perStep: number[][] = Array.from({ length: horizonSteps }, () => []);
  for (const fold of folds) {
    const s = studentize ? spread(fold.forecast) : [];
    for (let h = 0; h < horizonSteps; h++) {
      const e = fold.actual[h] - fold.forecast.mean[h];
      const divisor = studentize ? s[h] : 1;
      if (Number.isFinite(e) && divisor > 0) perStep[h].push(e / divisor);
    }
  }
  return perStep.map((_, h) => {
    const pooled: number[] = [];
    for (let k = Math.max(0, h - poolHalfWidthSteps); k <= Math.min(horizonSteps - 1, h + poolHalfWidthSteps); k++) {
      pooled.push(...perStep[k]);
    }
    return pooled.sort((a, b) => a - b);
  });
}

/** Split-conformal level: the (1 + 1/n)-widened level, so n calibration errors give ≥ nominal coverage. */
export function conformalLevel(level: number, n: number): number {
  return Math.min(1, Math.max(0, 0.5 + (level - 0.5) * ((n + 1) / n)));
}

/**
 * Calibrate a fitted model with backtest folds of the same model (forecasts that
 * include the quartiles, see CALIBRATION_LEVELS). With no folds, returns `fitted`.
 */
export function conformalFromFolds(
  fitted: FittedForecaster,
  folds: readonly BacktestFold[],
  name: string,
  options: ConformalOptions = {},
): FittedForecaster {
  if (folds.length === 0) return fitted;
  const horizon = Math.min(...folds.map((f) => f.actual.length));
  const studentize = (options.scale ?? 'model') === 'model';
  const poolHalfWidth = options.poolHalfWidthSteps ?? Math.max(1, Math.round(horizon / 8));
  const scaled = studentize ? calibrationErrors(folds, horizon, poolHalfWidth, true) : [];
  const raw = calibrationErrors(folds, horizon, poolHalfWidth, false);
  return {
    predict(horizonSteps, levels) {
      const base = fitted.predict(horizonSteps, CALIBRATION_LEVELS);
      const s = spread(base);
      const quantile = (level: number, h: number): number => {
        const k = Math.min(h, horizon - 1);
        const useScaled = studentize && s[h] > 0 && scaled[k].length > 0;
        const errors = useScaled ? scaled[k] : raw[k];
        if (errors.length === 0) return base.mean[h];
        return base.mean[h] + sortedQuantile(errors, conformalLevel(level, errors.length)) * (useScaled ? s[h] : 1);
      };
      const grid = { model: name, startSeconds: base.startSeconds, stepSeconds: base.stepSeconds };
      if (!options.widenWithHorizon) return buildForecast(grid, base.mean, levels, quantile, options.floor ?? 0);
      // Offsets from the mean, made monotone in |offset| over the horizon, level by level.
      const offsets = new Map<number, number[]>();
      for (const level of levels) {
        const path: number[] = [];
        let widest = 0;
        for (let h = 0; h < horizonSteps; h++) {
          const offset = quantile(level, h) - base.mean[h];
          widest = level >= 0.5 ? Math.max(widest, offset) : Math.min(widest, offset);
          path.push(widest);
        }
        offsets.set(level, path);
      }
      return buildForecast(grid, base.mean, levels, (level, h) => base.mean[h] + offsets.get(level)![h], options.floor ?? 0);
    },
  };
}

/** `model` with quantiles calibrated on its own rolling-origin backtest errors. */
export function calibrated(model: Forecaster, options: CalibrationOptions): Forecaster {
  const horizon = options.horizonSteps;
  const name = options.name ?? `${model.name}+conformal`;
  return {
    name,
    fit(input: FitInput): FittedForecaster {
      const folds = backtest(model, input.history, CALIBRATION_LEVELS, {
        horizonSteps: horizon,
        origins: options.origins ?? 8,
        strideSteps: options.strideSteps ?? Math.max(1, Math.round(horizon / 2)),
      });
      return conformalFromFolds(model.fit(input), folds, name, options);
    },
  };
}

/**
 * Cross-series split conformal. Per series, the backtest errors of a model scaled
 * by that series' scale (its in-sample seasonal-naive MAE, the MASE denominator)
 * are exchangeable enough across a collection of similar series to pool: their
 * per-step quantiles, from hundreds of series rather than a few folds, calibrate
 * every series' band as mean + quantile · scale. `errors[s][f][h]` is series s,
 * fold f, step h; steps within ± poolHalfWidthSteps are pooled.
 */
export function pooledScaledErrors(errors: readonly (readonly (readonly number[])[])[], horizonSteps: number, poolHalfWidthSteps = 0): number[][] {
  const perStep: number[][] = Array.from({ length: horizonSteps }, () => []);
  for (const series of errors) {
    for (const fold of series) {
      for (let h = 0; h < Math.min(horizonSteps, fold.length); h++) if (Number.isFinite(fold[h])) perStep[h].push(fold[h]);
    }
  }
  return perStep.map((_, h) => {
    const pooled: number[] = [];
    for (let k = Math.max(0, h - poolHalfWidthSteps); k <= Math.min(horizonSteps - 1, h + poolHalfWidthSteps); k++) pooled.push(...perStep[k]);
    return pooled.sort((a, b) => a - b);
  });
}

/**
 * A forecast's quantiles replaced by mean + (pooled scaled error quantile) · scale,
 * made non-narrowing over the horizon. Steps past the calibrated horizon reuse its last step.
 */
export function applyPooledConformal(
  forecast: QuantileForecast,
  sortedErrors: readonly (readonly number[])[],
  scale: number,
  levels: readonly number[],
  floor = 0,
): QuantileForecast {
  const last = sortedErrors.length - 1;
  const offsets = new Map<number, number[]>();
  for (const level of levels) {
    let widest = 0;
    offsets.set(
      level,
      forecast.mean.map((_, h) => {
        const errors = sortedErrors[Math.min(h, last)];
        const offset = errors.length ? sortedQuantile(errors, conformalLevel(level, errors.length)) * scale : 0;
        widest = level >= 0.5 ? Math.max(widest, offset) : Math.min(widest, offset);
        return widest;
      }),
    );
  }
  const grid = { model: forecast.model, startSeconds: forecast.startSeconds, stepSeconds: forecast.stepSeconds };
  return buildForecast(grid, forecast.mean, levels, (level, h) => forecast.mean[h] + offsets.get(level)![h], floor);
}
