/**
 * Classical seasonal decomposition and the seasonality test used by the M4
 * competition's benchmarks (Makridakis et al. 2020): a series is called seasonal
 * at period m when its lag-m autocorrelation exceeds the 90% two-sided limit
 * 1.645·sqrt((1 + 2·Σ_{k<m} r_k²) / n).
 */

/** Sample autocorrelations r_1..r_maxLag (index 0 holds r_0 = 1). */
export function autocorrelations(y: readonly number[], maxLag: number): number[] {
  const n = y.length;
  let mu = 0;
  for (const v of y) mu += v;
  mu /= n;
  let denom = 0;
  for (const v of y) denom += (v - mu) * (v - mu);
  const r = [1];
  for (let k = 1; k <= maxLag; k++) {
    let num = 0;
    for (let t = k; t < n; t++) num += (y[t] - mu) * (y[t - k] - mu);
    r.push(denom > 0 ? num / denom : 0);
  }
  return r;
}

/** The M4 benchmarks' 90% autocorrelation test for seasonality at period `m`. */
export function isSeasonal(y: readonly number[], m: number): boolean {
  const n = y.length;
  if (m < 2 || n < 3 * m) return false;
  const r = autocorrelations(y, m);
  let sum = 0;
  for (let k = 1; k < m; k++) sum += r[k] * r[k];
  const limit = 1.645 * Math.sqrt((1 + 2 * sum) / n);
  return Math.abs(r[m]) > limit;
}

export type SeasonalKind = 'multiplicative' | 'additive';

/**
 * Seasonal indices of a classical decomposition: the series divided by (or minus)
 * its centred moving average of order m (2×m when m is even), averaged per
 * position in the season and normalised to mean 1 (multiplicative) or 0 (additive).
 * `indices[t % m]` belongs to step t of `y`.
 */
export function seasonalIndices(y: readonly number[], m: number, kind: SeasonalKind): number[] {
  const n = y.length;
  const half = Math.floor(m / 2);
  const sums = new Array<number>(m).fill(0);
  const counts = new Array<number>(m).fill(0);
  for (let t = half; t < n - half; t++) {
    let trend: number;
    if (m % 2 === 0) {
      let s = 0.5 * (y[t - half] + y[t + half]);
      for (let k = t - half + 1; k < t + half; k++) s += y[k];
      trend = s / m;
    } else {
      let s = 0;
      for (let k = t - half; k <= t + half; k++) s += y[k];
      trend = s / m;
    }
    const ratio = kind === 'multiplicative' ? y[t] / trend : y[t] - trend;
    if (Number.isFinite(ratio)) {
      sums[t % m] += ratio;
      counts[t % m]++;
    }
  }
  const raw = sums.map((s, i) => (counts[i] ? s / counts[i] : kind === 'multiplicative' ? 1 : 0));
  const avg = raw.reduce((a, b) => a + b, 0) / m;
  return raw.map((v) => (kind === 'multiplicative' ? v / avg : v - avg));
}

/** A fitted seasonal adjustment: removes the seasonal pattern from history, restores it on forecasts. */
export interface SeasonalAdjustment {
  readonly periodSteps: number;
  readonly kind: SeasonalKind;
  /** The seasonally adjusted history. */
  readonly adjusted: number[];
  /** Put the pattern back on a value `stepsAhead` (0-based) after the history; */
  restore(value: number, stepsAhead: number): number;
  /** Factor applied to a spread (a standard deviation) at `stepsAhead`: the index (multiplicative) or 1. */
  spreadFactor(stepsAhead: number): number;
}

/**
 * Classical decomposition at period m: multiplicative when every value is
 * positive, else additive. Returns undefined when the series fails the test
 * (or when `test` is false, always decomposes).
 */
export function seasonalAdjustment(y: readonly number[], m: number, test = true): SeasonalAdjustment | undefined {
  if (m < 2 || y.length < 2 * m) return undefined;
  if (test && !isSeasonal(y, m)) return undefined;
  const kind: SeasonalKind = y.every((v) => v > 0) ? 'multiplicative' : 'additive';
  const indices = seasonalIndices(y, m, kind);
  const n = y.length;
  const adjusted = y.map((v, t) => (kind === 'multiplicative' ? v / indices[t % m] : v - indices[t % m]));
  return {
    periodSteps: m,
    kind,
    adjusted,
    restore: (value, h) => (kind === 'multiplicative' ? value * indices[(n + h) % m] : value + indices[(n + h) % m]),
    spreadFactor: (h) => (kind === 'multiplicative' ? indices[(n + h) % m] : 1),
  };
}
