/**
 * Anomalies in a history: spikes (short runs of points far from the seasonal
 * expectation) and level shifts (the deseasonalised level moves and stays).
 *
 * Method (robust seasonal-trend decomposition, then robust scores):
 * 1. Trend: a running median over one season (one week when the history holds
 *    three weeks, else one day), so neither a spike nor a one-day episode moves it;
 *    computed twice, as in STL's inner loop: on the values, then on the values minus
 *    the first seasonal profile.
 * 2. Seasonal profile: per phase of that season, the interquartile mean (the mean
 *    of the middle half) of (value − trend) over all cycles, robust to a spike in a
 *    quarter of the cycles. Expectation = trend + profile. The residual that scores
 *    step t uses the profile without step t (leave-one-out): a location estimate
 *    that includes the point pulls the middle residuals towards 0, which shrinks the
 *    MAD and inflates every z-score.
 * 3. Spikes: residual divided by a robust scale, 1.4826 · median absolute deviation
 *    (MAD; Hampel 1974; Leys et al. 2013), per phase of the day when the history holds
 *    `minCyclesForPhaseScale` days, else global. Runs of |z| ≥ `spikeThreshold`,
 *    bridged over gaps of `mergeGapSteps`, are one anomaly.
 * 4. Level shifts: on the seasonally adjusted series, the difference between the
 *    median of the `shiftWindowSteps` after t and the median of those before t, in
 *    units of the residual scale (a two-sample statistic with medians instead of
 *    means). Local maxima of |difference| ≥ `shiftThreshold`, at least one window
 *    apart, are level shifts, placed to the step by a CUSUM likelihood-ratio search
 *    (Hinkley 1970). The trend is then re-estimated within the segments between
 *    shifts, so a shift does not show up as a run of spikes around it. A change that
 *    reverts within half a window does not move the medians: it is a spike run.
 *
 * The scores are robust z-scores: about N(0,1) on clean Gaussian noise, so the
 * threshold sets the false-alarm rate (|z| ≥ 6: about 2e-9 per point).
 */
import type { FitInput, FittedForecaster, Forecaster } from '../core/forecast.ts';
import { timeAt, type Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { DAY_SECONDS, WEEK_SECONDS, periodSteps } from './periods.ts';
import { fillGaps } from './stats.ts';

export type AnomalyKind = 'spike' | 'level-shift';

export interface Anomaly {
  readonly kind: AnomalyKind;
  /** Start of the first anomalous step (spike) or of the first step at the new level (shift), epoch seconds. */
  readonly startSeconds: number;
  /** End of the last anomalous step (spike), or startSeconds + one step (shift), epoch seconds. */
  readonly endSeconds: number;
  /** Index range [startIndex, endIndex) in the history. */
  readonly startIndex: number;
  readonly endIndex: number;
  /** Largest |robust z| in the run (spike) or |level change| / residual scale (shift). */
  readonly score: number;
  /** +1 above the expectation / upward shift, −1 below / downward. */
  readonly direction: 1 | -1;
  /** Spike: the largest residual (value − expectation); shift: the level change; in the series' unit. */
  readonly magnitude: number;
}

export interface AnomalyOptions {
  /** Season in steps; default a week when the history holds 3 weeks, else a day when it holds 3 days, else none. */
  readonly periodSteps?: number;
  /** Robust z at or above which a point is a spike; default 6. */
  readonly spikeThreshold?: number;
  /** Level change (in residual scales) at or above which a shift is reported; default 6. */
  readonly shiftThreshold?: number;
  /** Steps on each side compared for a level shift; default one day (or 24 steps). */
  readonly shiftWindowSteps?: number;
  /** Flagged points this many steps apart or closer join one spike run; default one hour in steps (at least 2). */
  readonly mergeGapSteps?: number;
  /** Days of history needed before the scale is estimated per phase of the day; default 7. */
  readonly minCyclesForPhaseScale?: number;
  /**
   * Report at most this many anomalies per week of history (rounded up), the highest
   * scores first; default unlimited. Heavy-tailed metrics have many bursts above any
   * fixed threshold; a budget keeps the report to the most unusual ones.
   */
  readonly maxPerWeek?: number;
  /** Which kinds to report; default both. */
  readonly kinds?: readonly AnomalyKind[];
}

/** The decomposition the detector works on; exposed for cleaning and for inspection. */
export interface RobustDecomposition {
  readonly periodSteps: number;
  /** trend + seasonal profile at every step. */
  readonly expected: number[];
  /** value − expected at every step (gaps filled by interpolation first). */
  readonly residual: number[];
  /** Robust scale (1.4826·MAD) of the residual at every step. */
  readonly scale: number[];
  /** Value minus the seasonal profile (trend + remainder). */
  readonly adjusted: number[];
}

export interface AnomalyReport {
  readonly anomalies: Anomaly[];
  readonly decomposition: RobustDecomposition;
}

const MAD_TO_SIGMA = 1.4826;

/** k-th smallest (0-based) of `a`, in place (Hoare's quickselect). */
function select(a: number[], k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** Median of values (a copy is partially sorted); NaN for an empty list. */
export function median(values: readonly number[]): number {
  const n = values.length;
  if (n === 0) return NaN;
  const a = values.slice();
  const upper = select(a, n >> 1);
  if (n % 2 === 1) return upper;
  let lower = -Infinity;
  for (let i = 0; i < n >> 1; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

/**
 * 1.4826 · median |x − median(x)|: a consistent estimate of σ for Gaussian data.
 * Metrics that sit on one value most of the time (an idle CPU at 0.066%) have a
 * MAD of 0; then the next Gaussian-consistent tail quantile that is positive is
 * used instead: the 90% or 99% quantile of |x − median| divided by 1.645 or 2.576.
 */
export function robustScale(values: readonly number[]): number {
  const m = median(values);
  const deviations = values.map((v) => Math.abs(v - m)).sort((a, b) => a - b);
  const n = deviations.length;
  for (const [p, z] of [[0.5, 1 / MAD_TO_SIGMA], [0.9, 1.6449], [0.99, 2.5758]] as const) {
    const q = deviations[Math.min(n - 1, Math.floor(p * n))];
    if (q > 0) return q / z;
  }
  return 0;
}

/** Mean of the values between the 25% and 75% order statistics (both included). */
export function interquartileMean(values: readonly number[]): number {
  const a = values.slice().sort((x, y) => x - y);
  const lo = Math.floor(a.length / 4);
  const hi = Math.max(lo + 1, a.length - lo);
  let sum = 0;
  for (let i = lo; i < hi; i++) sum += a[i];
  return sum / (hi - lo);
}

/**
 * For each value, the interquartile mean of all the others (O(n log n) overall:
 * one sort, prefix sums, and the removed value's rank decides which order
 * statistics the middle half of the rest covers). With one value, that value.
 */
export function leaveOneOutInterquartileMeans(values: readonly number[]): number[] {
  const m = values.length;
  if (m <= 1) return values.slice();
  const order = values.map((_, i) => i).sort((i, j) => values[i] - values[j]);
  const sorted = order.map((i) => values[i]);
  const prefix = [0];
  for (const v of sorted) prefix.push(prefix[prefix.length - 1] + v);
  const lo = Math.floor((m - 1) / 4);
  const hi = Math.max(lo + 1, m - 1 - lo);
  const out = new Array<number>(m);
  order.forEach((original, rank) => {
    let sum: number;
    if (rank < lo) sum = prefix[hi + 1] - prefix[lo + 1];
    else if (rank >= hi) sum = prefix[hi] - prefix[lo];
    else sum = prefix[hi + 1] - prefix[lo] - sorted[rank];
    out[original] = sum / (hi - lo);
  });
  return out;
}

/**
 * Centred running median of window `width` (clipped at the ends), evaluated every
 * `stride` steps and linearly interpolated between, so long windows stay cheap.
 */
export function runningMedian(y: readonly number[], width: number, stride = Math.max(1, Math.floor(width / 8))): number[] {
  const n = y.length;
  const half = Math.floor(width / 2);
  const anchors: number[] = [];
  for (let i = 0; i < n; i += stride) anchors.push(i);
  if (anchors[anchors.length - 1] !== n - 1) anchors.push(n - 1);
  // Near the ends the window keeps its full width (shifted inwards) rather than
  // being clipped: a clipped window covers part of a season and its median would
  // follow the seasonal pattern.
  const span = Math.min(n, 2 * half + 1);
  const at = anchors.map((i) => {
    const from = Math.min(Math.max(0, i - half), n - span);
    return median(y.slice(from, from + span));
  });
  const out = new Array<number>(n);
  for (let k = 0; k < anchors.length - 1; k++) {
    const a = anchors[k];
    const b = anchors[k + 1];
    for (let i = a; i < b; i++) out[i] = at[k] + ((at[k + 1] - at[k]) * (i - a)) / (b - a);
  }
  out[n - 1] = at[at.length - 1];
  return out;
}

/** The default season: a week with 3 weeks of history, else a day with 3 days, else 0 (none). */
export function defaultAnomalyPeriod(stepSeconds: number, lengthSteps: number): number {
  for (const seconds of [WEEK_SECONDS, DAY_SECONDS]) {
    const p = periodSteps(stepSeconds, seconds);
    if (p !== undefined && lengthSteps >= 3 * p) return p;
  }
  return 0;
}

/**
 * Robust decomposition of a history into expectation and residual (see the module
 * comment). `breaks` are indices where the level shifts: the trend is a running
 * median within each segment between them, so a shift is not smeared into the
 * residuals around it.
 */
export function robustDecomposition(history: Series, options: AnomalyOptions = {}, breaks: readonly number[] = []): RobustDecomposition {
  const y = fillGaps(history.values);
  const n = y.length;
  const period = options.periodSteps ?? defaultAnomalyPeriod(history.stepSeconds, n);
  if (period < 0 || !Number.isInteger(period)) throw new InvalidInputError('anomaly.periodSteps', `must be a whole number of steps ≥ 0, got ${period}`);
  const day = periodSteps(history.stepSeconds, DAY_SECONDS) ?? 24;
  const width = period >= 2 ? period : Math.min(n, day);
  const bounds = [0, ...[...breaks].filter((b) => b > 0 && b < n).sort((a, b) => a - b), n];
  const segmentwiseTrend = (x: readonly number[]) => {
    const out: number[] = [];
    for (let k = 0; k + 1 < bounds.length; k++) out.push(...runningMedian(x.slice(bounds[k], bounds[k + 1]), width));
    return out;
  };
  // Two rounds, as in STL's inner loop (Cleveland et al. 1990): the trend of the
  // raw values gives a first seasonal profile; the trend is then re-estimated on
  // the values without that profile, so a segment shorter than a season (after a
  // level shift) still gets a trend that does not follow the seasonal pattern.
  let trend = segmentwiseTrend(y);
  if (period >= 2) {
    const first = new Array<number>(period).fill(0);
    const byPhase: number[][] = Array.from({ length: period }, () => []);
    for (let t = 0; t < n; t++) byPhase[t % period].push(y[t] - trend[t]);
    for (let p = 0; p < period; p++) first[p] = byPhase[p].length ? interquartileMean(byPhase[p]) : 0;
    trend = segmentwiseTrend(y.map((v, t) => v - first[t % period]));
  }
  const profile = new Array<number>(Math.max(period, 1)).fill(0);
  // Leave-one-out profile value for each step: the residual that scores step t is
  // measured against a profile that did not see y[t], so the middle residuals are
  // not pulled towards 0 (which would shrink the MAD and inflate every z-score).
  const looProfile = new Array<number>(n).fill(0);
  if (period >= 2) {
    const byPhase: number[][] = Array.from({ length: period }, () => []);
    for (let t = 0; t < n; t++) byPhase[t % period].push(y[t] - trend[t]);
    for (let p = 0; p < period; p++) profile[p] = byPhase[p].length ? interquartileMean(byPhase[p]) : 0;
    const centre = median(profile);
    for (let p = 0; p < period; p++) profile[p] -= centre;
    for (let p = 0; p < period; p++) {
      const loo = leaveOneOutInterquartileMeans(byPhase[p]);
      for (let k = 0; k < loo.length; k++) looProfile[p + k * period] = loo[k] - centre;
    }
  }
  const seasonal = (t: number) => (period >= 2 ? profile[t % period] : 0);
  const expected = y.map((_, t) => trend[t] + seasonal(t));
  const residual = y.map((v, t) => v - trend[t] - looProfile[t]);
  const adjusted = y.map((v, t) => v - seasonal(t));
  const global = robustScale(residual);
  const days = Math.floor(n / day);
  let scale: number[];
  if (days >= (options.minCyclesForPhaseScale ?? 7)) {
    // Demand is noisier at the busy hours than at night: scale per phase of the day,
    // pooled over neighbouring phases until ~300 residuals back each estimate (the MAD
    // of fewer is too noisy: a scale 15% low triples the false alarms at |z| ≥ 3),
    // and never below a fifth of the global scale.
    const halfWidth = Math.min(Math.floor(day / 4), Math.max(0, Math.ceil((300 / days - 1) / 2)));
    const phaseScale = Array.from({ length: day }, (_, p) => {
      const pooled: number[] = [];
      for (let t = 0; t < n; t++) {
        const d = Math.abs((((t % day) - p + day + Math.floor(day / 2)) % day) - Math.floor(day / 2));
        if (d <= halfWidth) pooled.push(residual[t]);
      }
      return Math.max(robustScale(pooled), global / 5);
    });
    scale = y.map((_, t) => phaseScale[t % day]);
  } else {
    scale = new Array<number>(n).fill(global);
  }
  return { periodSteps: period, expected, residual, scale, adjusted };
}

/** Level shifts: local maxima of the before/after median difference (see the module comment). */
function levelShifts(d: RobustDecomposition, w: number, threshold: number): { index: number; stat: number; sigma: number }[] {
  const n = d.adjusted.length;
  const sigma = robustScale(d.residual);
  if (w < 2 || n < 2 * w || !(sigma > 0)) return [];
  const stat = new Array<number>(n).fill(0);
  for (let t = w; t <= n - w; t++) stat[t] = (median(d.adjusted.slice(t, t + w)) - median(d.adjusted.slice(t - w, t))) / sigma;
  // Greedily from the largest |stat|, keep points at least w from every kept one.
  const candidates: number[] = [];
  for (let t = w; t <= n - w; t++) if (Math.abs(stat[t]) >= threshold) candidates.push(t);
  candidates.sort((a, b) => Math.abs(stat[b]) - Math.abs(stat[a]) || a - b);
  const taken: number[] = [];
  for (const t of candidates) if (taken.every((u) => Math.abs(u - t) >= w)) taken.push(t);
  return taken.map((t) => {
    const index = refineChange(d.adjusted, t - w, Math.min(n, t + w), Math.max(t - Math.floor(w / 2), 1), Math.min(t + Math.floor(w / 2), n - 1));
    return { index, stat: stat[index] !== 0 ? stat[index] : stat[t], sigma };
  });
}

/**
 * Where in [lo, hi] a single change in mean of x[a..b) is most likely: the maximum
 * of the standardised CUSUM statistic sqrt(k(m−k)/m)·|mean(x[a..c)) − mean(x[c..b))|,
 * the likelihood-ratio estimate of one change in a Gaussian mean (Hinkley 1970).
 * The median statistic finds the change robustly; this places it to the step.
 */
function refineChange(x: readonly number[], a: number, b: number, lo: number, hi: number): number {
  const prefix = [0];
  for (let i = a; i < b; i++) prefix.push(prefix[prefix.length - 1] + x[i]);
  const m = b - a;
  let best = lo;
  let bestStat = -1;
  for (let c = Math.max(lo, a + 1); c <= Math.min(hi, b - 1); c++) {
    const k = c - a;
    const stat = Math.sqrt((k * (m - k)) / m) * Math.abs(prefix[k] / k - (prefix[m] - prefix[k]) / (m - k));
    if (stat > bestStat) {
      bestStat = stat;
      best = c;
    }
  }
  return best;
}

/**
 * Spikes and level shifts in `history`, with the decomposition they were found on.
 * Two passes: shifts are found on a first decomposition, then the trend is
 * re-estimated within the segments between them and spikes are scored on that.
 */
export function detectAnomalies(history: Series, options: AnomalyOptions = {}): AnomalyReport {
  const n = history.values.length;
  if (n < 8) throw new InvalidInputError('history', `anomaly detection needs at least 8 values, got ${n}`);
  const spikeThreshold = options.spikeThreshold ?? 6;
  const shiftThreshold = options.shiftThreshold ?? 6;
  const mergeGap = options.mergeGapSteps ?? Math.max(2, Math.round(3600 / history.stepSeconds));
  const kinds = new Set(options.kinds ?? ['spike', 'level-shift']);
  if (!(spikeThreshold > 0)) throw new InvalidInputError('anomaly.spikeThreshold', `must be > 0, got ${spikeThreshold}`);
  if (!(shiftThreshold > 0)) throw new InvalidInputError('anomaly.shiftThreshold', `must be > 0, got ${shiftThreshold}`);
  const step = history.stepSeconds;
  const w = options.shiftWindowSteps ?? periodSteps(step, DAY_SECONDS) ?? 24;
  const shifts = levelShifts(robustDecomposition(history, options), w, shiftThreshold);
  const d = robustDecomposition(history, options, shifts.map((s) => s.index));
  const anomalies: Anomaly[] = [];
  const make = (kind: AnomalyKind, start: number, end: number, score: number, magnitude: number): Anomaly => ({
    kind,
    startSeconds: timeAt(history, start),
    endSeconds: timeAt(history, end),
    startIndex: start,
    endIndex: end,
    score,
    direction: magnitude >= 0 ? 1 : -1,
    magnitude,
  });

  if (kinds.has('spike')) {
    let runStart = -1;
    let runEnd = -1;
    let best = 0;
    let bestResidual = 0;
    const flush = () => {
      if (runStart >= 0) anomalies.push(make('spike', runStart, runEnd + 1, best, bestResidual));
      runStart = -1;
      best = 0;
    };
    for (let t = 0; t < n; t++) {
      const s = d.scale[t];
      const z = s > 0 ? Math.abs(d.residual[t]) / s : d.residual[t] !== 0 ? Infinity : 0;
      if (!(z >= spikeThreshold) || !Number.isFinite(history.values[t])) continue;
      if (runStart >= 0 && t - runEnd > mergeGap) flush();
      if (runStart < 0) runStart = t;
      runEnd = t;
      if (z > best) {
        best = z;
        bestResidual = d.residual[t];
      }
    }
    flush();
  }
  if (kinds.has('level-shift')) {
    for (const s of shifts) anomalies.push(make('level-shift', s.index, s.index + 1, Math.abs(s.stat), s.stat * s.sigma));
  }
  let kept = anomalies;
  if (options.maxPerWeek !== undefined) {
    if (!(options.maxPerWeek >= 0)) throw new InvalidInputError('anomaly.maxPerWeek', `must be ≥ 0, got ${options.maxPerWeek}`);
    const budget = Math.ceil((options.maxPerWeek * n * step) / WEEK_SECONDS);
    kept = [...anomalies].sort((a, b) => b.score - a.score).slice(0, budget);
  }
  kept.sort((a, b) => a.startIndex - b.startIndex || a.kind.localeCompare(b.kind));
  return { anomalies: kept, decomposition: d };
}

/**
 * The history with every spike step replaced by its seasonal expectation
 * (trend + profile). Level shifts are kept: they are the new normal.
 */
export function cleanHistory(history: Series, options: AnomalyOptions = {}): { history: Series; anomalies: Anomaly[] } {
  const { anomalies, decomposition } = detectAnomalies(history, { ...options, kinds: ['spike'] });
  const values = history.values.slice();
  for (const a of anomalies) for (let t = a.startIndex; t < a.endIndex; t++) values[t] = decomposition.expected[t];
  return { history: { ...history, values }, anomalies };
}

/** A forecaster that fits `inner` on the history with its spikes replaced by their seasonal expectation. */
export function cleaned(inner: Forecaster, options: AnomalyOptions = {}): Forecaster {
  return {
    name: `${inner.name}+cleaned`,
    fit(input: FitInput): FittedForecaster {
      if (input.history.values.length < 8) return inner.fit(input);
      return inner.fit({ ...input, history: cleanHistory(input.history, options).history });
    },
  };
}

/** A labelled anomaly window, epoch seconds, both ends inclusive (as NAB labels them). */
export interface AnomalyWindow {
  readonly startSeconds: number;
  readonly endSeconds: number;
}

export interface WindowScore {
  /** Labelled windows with at least one detection overlapping them. */
  readonly truePositives: number;
  /** Labelled windows with none. */
  readonly falseNegatives: number;
  /** Detections overlapping no labelled window. */
  readonly falsePositives: number;
  /** TP / (TP + FP); NaN when nothing was detected and no window exists. */
  readonly precision: number;
  /** TP / (TP + FN); NaN when there are no windows. */
  readonly recall: number;
  /** Harmonic mean of precision and recall (0 when both are 0). */
  readonly f1: number;
}

/** precision, recall and F1 from counts (NaN where undefined, F1 0 when P = R = 0). */
export function prf(truePositives: number, falsePositives: number, falseNegatives: number): Pick<WindowScore, 'precision' | 'recall' | 'f1'> {
  const precision = truePositives + falsePositives > 0 ? truePositives / (truePositives + falsePositives) : NaN;
  const recall = truePositives + falseNegatives > 0 ? truePositives / (truePositives + falseNegatives) : NaN;
  const f1 = Number.isNaN(precision) || Number.isNaN(recall) ? NaN : precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/**
 * Window-level scoring: a window counts as detected when a detection's span
 * [startSeconds, endSeconds) overlaps it; a detection overlapping no window is a
 * false positive (several detections in one window count once, as one hit).
 */
export function scoreAgainstWindows(detections: readonly Pick<Anomaly, 'startSeconds' | 'endSeconds'>[], windows: readonly AnomalyWindow[]): WindowScore {
  const overlaps = (a: Pick<Anomaly, 'startSeconds' | 'endSeconds'>, w: AnomalyWindow) => a.startSeconds <= w.endSeconds && a.endSeconds > w.startSeconds;
  const truePositives = windows.filter((w) => detections.some((a) => overlaps(a, w))).length;
  const falsePositives = detections.filter((a) => !windows.some((w) => overlaps(a, w))).length;
  const falseNegatives = windows.length - truePositives;
  return { truePositives, falseNegatives, falsePositives, ...prf(truePositives, falsePositives, falseNegatives) };
}
