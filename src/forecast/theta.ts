/**
 * The standard Theta method (Assimakopoulos & Nikolopoulos 2000), as run for the
 * M4 competition's benchmark "Theta" (Makridakis et al. 2020, benchmark code in
 * Mcompetitions/M4-methods): when the series passes the 90% autocorrelation test
 * at the daily period it is seasonally adjusted by classical multiplicative
 * decomposition; the adjusted series is split into two theta lines, θ = 0 (the
 * least-squares linear trend) and θ = 2 (2·y − trend); θ = 2 is extrapolated by
 * simple exponential smoothing with optimised α, θ = 0 by the trend line; the
 * forecast is their equal-weight mean, then re-seasonalised.
 *
 * Intervals: Hyndman & Billah (2003) showed this forecast equals SES with drift
 * b/2, so the spread at step h is that of SES, σ·sqrt(1 + (h − 1)·α²), σ the
 * standard deviation of the one-step SES errors of the adjusted series, scaled by
 * the seasonal index. Gaussian; `calibrated` or selection fixes the width.
 */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { endSeconds } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { seasonalAdjustment } from './decompose.ts';
import { DAY_SECONDS, periodSteps } from './periods.ts';
import { buildForecast } from './quantiles.ts';
import { fillGaps, normalQuantile } from './stats.ts';

export interface ThetaOptions {
  /** Season length in steps; default one day. */
  readonly seasonSteps?: number;
  /** Lower bound of every forecast value; default 0 (demand). */
  readonly floor?: number;
}

/** Least-squares line through (t, y_t), t = 0..n−1: intercept a and slope b. */
export function linearTrend(y: readonly number[]): { intercept: number; slope: number } {
  const n = y.length;
  const tMean = (n - 1) / 2;
  let yMean = 0;
  for (const v of y) yMean += v;
  yMean /= n;
  let sxy = 0;
  let sxx = 0;
  for (let t = 0; t < n; t++) {
    sxy += (t - tMean) * (y[t] - yMean);
    sxx += (t - tMean) * (t - tMean);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  return { intercept: yMean - slope * tMean, slope };
}

/** Simple exponential smoothing from level y_0: final level and sum of squared one-step errors. */
export function sesRun(y: readonly number[], alpha: number): { level: number; sse: number } {
  let level = y[0];
  let sse = 0;
  for (let t = 1; t < y.length; t++) {
    const e = y[t] - level;
    sse += e * e;
    level += alpha * e;
  }
  return { level, sse };
}

/** α in [0.01, 1] minimising the SSE of one-step SES errors (golden-section search). */
export function optimalAlpha(y: readonly number[]): number {
  const phi = (Math.sqrt(5) - 1) / 2;
  let lo = 0.01;
  let hi = 1;
  let x1 = hi - phi * (hi - lo);
  let x2 = lo + phi * (hi - lo);
  let f1 = sesRun(y, x1).sse;
  let f2 = sesRun(y, x2).sse;
  for (let i = 0; i < 40; i++) {
    if (f1 <= f2) {
      hi = x2;
      x2 = x1;
      f2 = f1;
      x1 = hi - phi * (hi - lo);
      f1 = sesRun(y, x1).sse;
    } else {
      lo = x1;
      x1 = x2;
      f1 = f2;
      x2 = lo + phi * (hi - lo);
      f2 = sesRun(y, x2).sse;
    }
  }
  return (lo + hi) / 2;
}

export function theta(options: ThetaOptions = {}): Forecaster {
  return {
    name: 'theta',
    fit({ history }: FitInput): FittedForecaster {
      const y = fillGaps(history.values);
      const n = y.length;
      if (n < 3) throw new InvalidInputError('history', `theta needs at least 3 values, got ${n}`);
      const season = options.seasonSteps ?? periodSteps(history.stepSeconds, DAY_SECONDS);
      const adjustment = season !== undefined ? seasonalAdjustment(y, season) : undefined;
      const x = adjustment ? adjustment.adjusted : y;
      const { intercept, slope } = linearTrend(x);
      const line2 = x.map((v, t) => 2 * v - (intercept + slope * t));
      const alpha = optimalAlpha(line2);
      const { level } = sesRun(line2, alpha);
      // One-step errors of SES on the adjusted series itself give the spread.
      const sigma = Math.sqrt(sesRun(x, optimalAlpha(x)).sse / Math.max(1, n - 2));
      const grid = { model: 'theta', startSeconds: endSeconds(history), stepSeconds: history.stepSeconds };
      return {
        predict(horizonSteps, levels) {
          const point: number[] = [];
          const spread: number[] = [];
          for (let h = 0; h < horizonSteps; h++) {
            const adjustedForecast = 0.5 * (intercept + slope * (n + h)) + 0.5 * level;
            point.push(adjustment ? adjustment.restore(adjustedForecast, h) : adjustedForecast);
            const s = sigma * Math.sqrt(1 + h * alpha * alpha);
            spread.push(adjustment ? s * adjustment.spreadFactor(h) : s);
          }
          return buildForecast(grid, point, levels, (lvl, h) => point[h] + normalQuantile(lvl) * spread[h], options.floor ?? 0);
        },
      };
    },
  };
}
