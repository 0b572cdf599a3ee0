/**
 * Horizons and resampling. Models forecast at the series' own step for any horizon
 * (minutes to a week and beyond); `resampleForecast` moves a QuantileForecast to a
 * coarser or finer step. Values are rates (e.g. requests per second), so a coarser
 * step holds the mean of the finer rates it covers.
 *
 * To a coarser step (k fine steps per coarse step):
 * - mean: the mean of the k fine means (exact: the mean of a mean is the mean of the means);
 * - quantiles: the quantiles of the mean of k dependent variables depend on their
 *   dependence, which a marginal forecast does not state. Two honest choices:
 *   'comonotonic' (default): all k steps at the same quantile (perfectly persistent
 *     errors), so the q-quantile of the mean is exactly the mean of the k q-quantiles
 *     (quantiles are additive for comonotone variables). Forecast errors at neighbouring
 *     steps are strongly positively dependent, so this is the conservative end for
 *     sizing; it is not a strict bound (quantiles are not sub-additive, Embrechts,
 *     Puccetti & Rüschendorf 2013), though for Gaussian marginals under any Gaussian
 *     dependence it is the widest: the mean's σ is at most the mean of the σs;
 *   { ar1: ρ }: Monte Carlo. Joint normal scores with correlation ρ^|i−j| between fine
 *     steps i and j (a Gaussian copula with AR(1) dependence; ρ = 0 is independence)
 *     are mapped through each step's quantile function (sampling.ts), averaged, and the
 *     empirical quantiles of the averages are reported (seeded: deterministic).
 *   A trailing partial coarse step is dropped: it would be a mean over fewer steps.
 * To a finer step (k fine steps per coarse step):
 * - 'constant' (default): each fine step repeats its coarse step's mean and quantiles
 *   (the rate is taken as flat inside the coarse step; the fine-step spread is then a
 *   lower bound, since variation inside the coarse step is unknown);
 * - 'linear': mean and quantiles interpolated linearly between coarse-step centres
 *   (held flat before the first centre and after the last); smoother, but a fine
 *   block's mean is no longer exactly its coarse value where the rate curves.
 */
import type { FittedForecaster, QuantileForecast, QuantilePath } from '../core/forecast.ts';
import { InvalidInputError } from '../core/errors.ts';
import { quantileFunction, seededUniform, standardNormal } from './sampling.ts';
import { sortedQuantile } from './stats.ts';

export type CoarserDependence = 'comonotonic' | { readonly ar1: number };

export interface ResampleOptions {
  /** Dependence between fine steps when aggregating; default 'comonotonic'. */
  readonly dependence?: CoarserDependence;
  /** Interpolation when refining; default 'constant'. */
  readonly interpolation?: 'constant' | 'linear';
  /** Monte-Carlo samples per coarse step (ar1 only); default 4000. */
  readonly samples?: number;
  /** Seed of the sampler (ar1 only); default 1. */
  readonly seed?: number;
}

/** Steps needed to cover `horizonSeconds` at `stepSeconds` (rounded up). */
export function horizonSteps(horizonSeconds: number, stepSeconds: number): number {
  if (!(horizonSeconds > 0)) throw new InvalidInputError('horizonSeconds', `must be > 0, got ${horizonSeconds}`);
  if (!(stepSeconds > 0)) throw new InvalidInputError('stepSeconds', `must be > 0, got ${stepSeconds}`);
  return Math.ceil(horizonSeconds / stepSeconds - 1e-9);
}

/** Resample a forecast to `stepSeconds`, a whole multiple or a whole divisor of its step. */
export function resampleForecast(forecast: QuantileForecast, stepSeconds: number, options: ResampleOptions = {}): QuantileForecast {
  const from = forecast.stepSeconds;
  if (stepSeconds === from) return forecast;
  if (!(stepSeconds > 0)) throw new InvalidInputError('resample.stepSeconds', `must be > 0, got ${stepSeconds}`);
  if (stepSeconds > from) {
    const k = stepSeconds / from;
    if (!Number.isInteger(k)) throw new InvalidInputError('resample.stepSeconds', `${stepSeconds} s is not a whole multiple of the forecast's step (${from} s)`);
    return coarser(forecast, k, stepSeconds, options);
  }
  const k = from / stepSeconds;
  if (!Number.isInteger(k)) throw new InvalidInputError('resample.stepSeconds', `${stepSeconds} s does not divide the forecast's step (${from} s) into whole steps`);
  return finer(forecast, k, stepSeconds, options.interpolation ?? 'constant');
}

function coarser(f: QuantileForecast, k: number, stepSeconds: number, options: ResampleOptions): QuantileForecast {
  const buckets = Math.floor(f.mean.length / k);
  const blockMean = (values: readonly number[], b: number) => {
    let s = 0;
    for (let i = b * k; i < (b + 1) * k; i++) s += values[i];
    return s / k;
  };
  const mean = Array.from({ length: buckets }, (_, b) => blockMean(f.mean, b));
  const dependence = options.dependence ?? 'comonotonic';
  let quantiles: QuantilePath[];
  if (dependence === 'comonotonic') {
    quantiles = f.quantiles.map((q) => ({ level: q.level, values: Array.from({ length: buckets }, (_, b) => blockMean(q.values, b)) }));
  } else {
    const rho = dependence.ar1;
    if (!(rho >= 0 && rho < 1)) throw new InvalidInputError('resample.dependence.ar1', `must be in [0, 1), got ${rho}`);
    const count = options.samples ?? 4000;
    const normal = standardNormal(seededUniform(options.seed ?? 1));
    const innovation = Math.sqrt(1 - rho * rho);
    const paths: number[][] = f.quantiles.map(() => new Array<number>(buckets));
    for (let b = 0; b < buckets; b++) {
      const fns = Array.from({ length: k }, (_, i) => quantileFunction(f, b * k + i));
      const means = new Array<number>(count);
      for (let s = 0; s < count; s++) {
        let z = normal();
        let sum = fns[0](z);
        for (let i = 1; i < k; i++) {
          z = rho * z + innovation * normal();
          sum += fns[i](z);
        }
        means[s] = sum / k;
      }
      means.sort((x, y) => x - y);
      f.quantiles.forEach((q, l) => (paths[l][b] = sortedQuantile(means, q.level)));
    }
    quantiles = f.quantiles.map((q, l) => ({ level: q.level, values: paths[l] }));
  }
  return { ...f, stepSeconds, mean, quantiles };
}

function finer(f: QuantileForecast, k: number, stepSeconds: number, interpolation: 'constant' | 'linear'): QuantileForecast {
  const n = f.mean.length * k;
  const spread = (values: readonly number[]): number[] => {
    if (interpolation === 'constant') return Array.from({ length: n }, (_, i) => values[Math.floor(i / k)]);
    // Fine step i is centred at (i + 0.5)/k coarse steps; coarse step j at j + 0.5.
    return Array.from({ length: n }, (_, i) => {
      const x = (i + 0.5) / k - 0.5;
      if (x <= 0) return values[0];
      if (x >= values.length - 1) return values[values.length - 1];
      const j = Math.floor(x);
      return values[j] + (x - j) * (values[j + 1] - values[j]);
    });
  };
  return { ...f, stepSeconds, mean: spread(f.mean), quantiles: f.quantiles.map((q) => ({ level: q.level, values: spread(q.values) })) };
}

/**
 * Forecast `horizonSeconds` ahead at the model's own step, then resample to
 * `stepSeconds` (a multiple or divisor of the history's step). The horizon is
 * rounded up to whole steps of both grids.
 */
export function forecastOver(
  fitted: FittedForecaster,
  historyStepSeconds: number,
  horizonSeconds: number,
  stepSeconds: number,
  levels: readonly number[],
  options: ResampleOptions = {},
): QuantileForecast {
  const coarse = Math.max(historyStepSeconds, stepSeconds);
  const ownSteps = horizonSteps(horizonSteps(horizonSeconds, coarse) * coarse, historyStepSeconds);
  return resampleForecast(fitted.predict(ownSteps, levels), stepSeconds, options);
}
