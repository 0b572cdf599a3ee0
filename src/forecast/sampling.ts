/**
 * Sampling from quantile forecasts for Monte-Carlo steps (reconciling, aggregating):
 * seeded randomness (the same seed gives the same numbers) and a forecast's
 * quantile function at one step.
 */
import type { QuantileForecast } from '../core/forecast.ts';
import { normalQuantile } from './stats.ts';

/** Uniform numbers in [0, 1) from mulberry32 (a 32-bit generator with good equidistribution for its size). */
export function seededUniform(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal draws from a uniform generator (Box–Muller, one draw per two uniforms). */
export function standardNormal(uniform: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/**
 * The quantile function of a forecast at one step, as a function of a normal score z
 * (level = Φ(z)): linear in z between the given levels and extrapolated linearly
 * beyond the outermost two, so tails continue at the forecast's own spread (exact for
 * a Gaussian forecast). With one level it is constant; with none, the mean.
 */
export function quantileFunction(forecast: QuantileForecast, step: number): (z: number) => number {
  const qs = forecast.quantiles;
  if (qs.length === 0) return () => forecast.mean[step];
  if (qs.length === 1) return () => qs[0].values[step];
  const zs = qs.map((q) => normalQuantile(q.level));
  const vs = qs.map((q) => q.values[step]);
  return (z) => {
    let k = 1;
    while (k < zs.length - 1 && z > zs[k]) k++;
    const w = (z - zs[k - 1]) / (zs[k] - zs[k - 1]);
    return vs[k - 1] + w * (vs[k] - vs[k - 1]);
  };
}
