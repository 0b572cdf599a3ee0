/**
 * Forecast accuracy as the M4 competition scored it (Makridakis, Spiliotis &
 * Assimakopoulos 2020, and the organisers' evaluation code):
 * - sMAPE (percent): mean over steps of 200·|y − f| / (|y| + |f|);
 * - MASE: mean |y − f| divided by the in-sample MAE of the seasonal naive
 *   forecast at period m (m = 24 on hourly data);
 * - MSIS (α = 0.05 for 95% intervals): mean over steps of
 *   (U − L) + (2/α)(L − y)·[y < L] + (2/α)(y − U)·[y > U], divided by the same scale;
 * - OWA: the mean of sMAPE and MASE, each divided by Naive2's, computed on the
 *   averages over all series (not per series).
 */
import { InvalidInputError } from '../core/errors.ts';

/** Naive2's scores on M4 hourly (the competition's published figures). */
export const M4_HOURLY_NAIVE2 = { smape: 18.383, mase: 2.395 } as const;

function checkLengths(what: string, actual: readonly number[], forecast: readonly number[]): void {
  if (actual.length === 0 || actual.length !== forecast.length) {
    throw new InvalidInputError(what, `needs equally long, non-empty actual and forecast (got ${actual.length} and ${forecast.length})`);
  }
}

/** Symmetric MAPE in percent; a step where both are 0 counts as 0. */
export function smape(actual: readonly number[], forecast: readonly number[]): number {
  checkLengths('smape', actual, forecast);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const denom = Math.abs(actual[i]) + Math.abs(forecast[i]);
    sum += denom === 0 ? 0 : (200 * Math.abs(actual[i] - forecast[i])) / denom;
  }
  return sum / actual.length;
}

/** In-sample MAE of the seasonal naive forecast at period m (the MASE/MSIS denominator). */
export function seasonalScale(insample: readonly number[], m: number): number {
  if (insample.length <= m) throw new InvalidInputError('insample', `needs more than m = ${m} values, got ${insample.length}`);
  let sum = 0;
  for (let t = m; t < insample.length; t++) sum += Math.abs(insample[t] - insample[t - m]);
  return sum / (insample.length - m);
}

export function mase(insample: readonly number[], actual: readonly number[], forecast: readonly number[], m: number): number {
  checkLengths('mase', actual, forecast);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) sum += Math.abs(actual[i] - forecast[i]);
  return sum / actual.length / seasonalScale(insample, m);
}

/** Mean scaled interval score of the (lower, upper) band at miscoverage `alpha` (0.05 for 95%). */
export function msis(
  insample: readonly number[],
  actual: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
  m: number,
  alpha = 0.05,
): number {
  checkLengths('msis', actual, lower);
  checkLengths('msis', actual, upper);
  let sum = 0;
  for (let i = 0; i < actual.length; i++) {
    const y = actual[i];
    sum += upper[i] - lower[i];
    if (y < lower[i]) sum += (2 / alpha) * (lower[i] - y);
    if (y > upper[i]) sum += (2 / alpha) * (y - upper[i]);
  }
  return sum / actual.length / seasonalScale(insample, m);
}

/** Share of actual values inside [lower, upper] (bounds included). */
export function coverage(actual: readonly number[], lower: readonly number[], upper: readonly number[]): number {
  checkLengths('coverage', actual, lower);
  checkLengths('coverage', actual, upper);
  let inside = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i] >= lower[i] && actual[i] <= upper[i]) inside++;
  return inside / actual.length;
}

/** OWA of mean sMAPE and mean MASE against a reference's (Naive2's) means. */
export function owa(meanSmape: number, meanMase: number, reference: { smape: number; mase: number } = M4_HOURLY_NAIVE2): number {
  return 0.5 * (meanSmape / reference.smape + meanMase / reference.mase);
}
