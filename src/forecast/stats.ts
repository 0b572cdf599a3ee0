/** Small numeric helpers shared by the models. Pure functions on plain arrays. */

/**
 * Inverse of the standard normal CDF (Acklam's rational approximation, relative
 * error below 1.15e-9 over (0, 1)). `p` must be in (0, 1); 0 and 1 give ∓Infinity.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`normalQuantile: probability ${p} is outside [0, 1]`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const pLow = 0.02425;
  if (p < pLow) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pLow) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/**
 * The `p`-quantile of ascending-sorted values, interpolating linearly between
 * order statistics (Hyndman & Fan type 7, the default of R and numpy).
 */
export function sortedQuantile(sorted: readonly number[], p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = Math.min(Math.max(p, 0), 1) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/** Ascending copy, dropping non-finite values. */
export function sortedFinite(values: readonly number[]): number[] {
  return values.filter(Number.isFinite).sort((x, y) => x - y);
}

export function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Mean of |x_t - x_{t-lag}|: the in-sample MAE of the naive forecast at that lag. */
export function laggedMae(values: readonly number[], lag: number): number {
  let sum = 0;
  let count = 0;
  for (let t = lag; t < values.length; t++) {
    const d = values[t] - values[t - lag];
    if (Number.isFinite(d)) {
      sum += Math.abs(d);
      count++;
    }
  }
  return count === 0 ? NaN : sum / count;
}

/**
 * Replace non-finite values by linear interpolation between the nearest finite
 * neighbours (constant extrapolation at the ends). All-missing input gives zeros.
 */
export function fillGaps(values: readonly number[]): number[] {
  const out = values.slice();
  const n = out.length;
  let prev = -1;
  for (let i = 0; i <= n; i++) {
    if (i < n && !Number.isFinite(out[i])) continue;
    if (i - prev > 1) {
      const left = prev >= 0 ? out[prev] : i < n ? out[i] : 0;
      const right = i < n ? out[i] : left;
      for (let j = prev + 1; j < i; j++) {
        const w = prev >= 0 && i < n ? (j - prev) / (i - prev) : 0;
        out[j] = prev >= 0 ? left + w * (right - left) : right;
      }
    }
    prev = i;
  }
  return out;
}
