import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { cleaned, cleanHistory, detectAnomalies, median, robustScale, scoreAgainstWindows } from './anomaly.ts';
import { readNabWindows, sharedDataDir } from './nabData.ts';
import { mstl } from './mstl.ts';
import { seasonalNaive } from './seasonalNaive.ts';
import { lcg, readNabSeries } from './testData.ts';

const HOUR = 3600;
const START = 1_700_006_400; // a Wednesday 00:00 UTC

/** Standard normal draws from a seeded uniform generator (Box–Muller). */
function gaussian(seed: number): () => number {
  const u = lcg(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** Hourly demand with daily and weekly seasonality and N(0, 1) noise, 6 weeks. */
function seasonalSeries(seed = 11, length = 6 * 168): number[] {
  const noise = gaussian(seed);
  return Array.from({ length }, (_, t) => 100 + 30 * Math.sin((2 * Math.PI * t) / 24) + 10 * Math.sin((2 * Math.PI * t) / 168) + noise());
}

describe('robust statistics', () => {
  it.each([
    [[3, 1, 2], 2],
    [[4, 1, 3, 2], 2.5],
    [[5], 5],
  ])('median(%j) = %d', (values, expected) => expect(median(values)).toBe(expected));

  it('robustScale is 1.4826·MAD, falling back to a tail quantile when the MAD is 0', () => {
    // |x − 3| = 2,1,0,1,2 → MAD 1.
    expect(robustScale([1, 2, 3, 4, 5])).toBeCloseTo(1.4826, 10);
    // 19 equal values and one 10 higher: MAD 0, 90% quantile of |dev| 0, 99% quantile 10 → 10 / 2.5758.
    expect(robustScale([...new Array(19).fill(0.066), 10.066])).toBeCloseTo(10 / 2.5758, 6);
  });
});

describe('detectAnomalies on a synthetic seasonal series', () => {
  const values = seasonalSeries();
  const spikes = [300, 701];
  for (const t of spikes) values[t] += 12; // 12σ above the expectation
  const shiftAt = 840;
  for (let t = shiftAt; t < values.length; t++) values[t] += 15; // the level moves up 15σ and stays
  const history: Series = { startSeconds: START, stepSeconds: HOUR, values };

  it('finds both spikes at their timestamps and the level shift within two steps', () => {
    const { anomalies } = detectAnomalies(history);
    const found = anomalies.filter((a) => a.kind === 'spike');
    expect(found.map((a) => a.startSeconds)).toEqual(spikes.map((t) => START + t * HOUR));
    expect(found.map((a) => a.endSeconds)).toEqual(spikes.map((t) => START + (t + 1) * HOUR));
    expect(found.every((a) => a.direction === 1 && a.magnitude > 9 && a.magnitude < 15)).toBe(true);
    const shifts = anomalies.filter((a) => a.kind === 'level-shift');
    expect(shifts).toHaveLength(1);
    expect(Math.abs(shifts[0].startIndex - shiftAt)).toBeLessThanOrEqual(2);
    expect(shifts[0].direction).toBe(1);
    expect(shifts[0].magnitude).toBeGreaterThan(12);
    expect(shifts[0].magnitude).toBeLessThan(18);
  });

  it('maxPerWeek keeps the highest scores within the budget (6 weeks × 0.2 → 2 anomalies)', () => {
    const { anomalies } = detectAnomalies(history, { maxPerWeek: 0.2 });
    expect(anomalies).toHaveLength(2);
    // The 15σ shift and the larger-scored of the two 12σ spikes.
    expect(anomalies.map((a) => a.kind).sort()).toEqual(['level-shift', 'spike']);
  });

  it('cleanHistory replaces the spikes by the seasonal expectation and keeps the shift', () => {
    const { history: clean, anomalies } = cleanHistory(history);
    expect(anomalies).toHaveLength(2);
    for (const t of spikes) expect(Math.abs(clean.values[t] - (values[t] - 12))).toBeLessThan(4);
    // After the shift the values are untouched (still 15 higher).
    expect(clean.values.slice(shiftAt)).toEqual(values.slice(shiftAt));
  });
});

describe('false alarms on clean noise', () => {
  // Gaussian noise: P(|z| ≥ 6) ≈ 2e-9 per point, so 40 000 points should give no spike,
  // and at threshold 3 the flagged share should be near P(|z| ≥ 3) = 0.27%.
  const series = Array.from({ length: 20 }, (_, k) => {
    const noise = gaussian(100 + k);
    return { startSeconds: START, stepSeconds: HOUR, values: Array.from({ length: 2000 }, () => 50 + noise()) };
  });

  it('reports no anomaly at the default thresholds in 20 × 2000 points of white noise', () => {
    const count = series.reduce((s, h) => s + detectAnomalies(h).anomalies.length, 0);
    expect(count).toBe(0);
  });

  it('flags about 0.27% of points at |z| ≥ 3 (the robust scale is calibrated)', () => {
    let flagged = 0;
    for (const h of series) {
      const { anomalies } = detectAnomalies(h, { spikeThreshold: 3, mergeGapSteps: 0, kinds: ['spike'] });
      flagged += anomalies.reduce((s, a) => s + (a.endIndex - a.startIndex), 0);
    }
    const rate = flagged / 40_000;
    expect(rate).toBeGreaterThan(0.0015);
    expect(rate).toBeLessThan(0.005);
  });
});

describe('scoreAgainstWindows (hand-computed)', () => {
  const windows = [
    { startSeconds: 100, endSeconds: 200 },
    { startSeconds: 500, endSeconds: 600 },
    { startSeconds: 900, endSeconds: 1000 },
  ];
  it('counts a window once however many detections fall inside, and detections outside as false positives', () => {
    const detections = [
      { startSeconds: 150, endSeconds: 160 },
      { startSeconds: 190, endSeconds: 250 },
      { startSeconds: 90, endSeconds: 100 }, // ends where the window starts: [90, 100) does not overlap
      { startSeconds: 600, endSeconds: 610 }, // starts on the inclusive end: overlaps
      { startSeconds: 700, endSeconds: 710 },
    ];
    const s = scoreAgainstWindows(detections, windows);
    expect(s).toMatchObject({ truePositives: 2, falseNegatives: 1, falsePositives: 2 });
    expect(s.precision).toBeCloseTo(0.5, 12);
    expect(s.recall).toBeCloseTo(2 / 3, 12);
    expect(s.f1).toBeCloseTo(4 / 7, 12);
  });
});

describe('cleaned(forecaster)', () => {
  it('keeps a spike in the last day out of a seasonal-naive forecast', () => {
    const values = seasonalSeries(5, 4 * 168);
    const spikeAt = values.length - 10;
    values[spikeAt] += 40;
    const history: Series = { startSeconds: START, stepSeconds: HOUR, values };
    const raw = seasonalNaive().fit({ history }).predict(24, [0.5]);
    const clean = cleaned(seasonalNaive()).fit({ history }).predict(24, [0.5]);
    const h = 24 - 10; // the step that repeats the spike
    expect(raw.mean[h] - clean.mean[h]).toBeGreaterThan(35);
    expect(cleaned(seasonalNaive()).name).toBe('seasonal-naive+cleaned');
  });

  it('rejects a bad threshold with a typed error naming the option', () => {
    const history: Series = { startSeconds: START, stepSeconds: HOUR, values: seasonalSeries(3, 100) };
    expect(() => detectAnomalies(history, { spikeThreshold: 0 })).toThrow(InvalidInputError);
    expect(() => detectAnomalies(history, { spikeThreshold: 0 })).toThrow(/anomaly\.spikeThreshold/);
  });
});

const shared = sharedDataDir();
describe.skipIf(!shared)('NYC taxi (NAB realKnownCause, full file)', () => {
  it('detects every labelled window (marathon, Thanksgiving, Christmas, New Year, blizzard) with few false alarms', () => {
    const series = readNabSeries(join(shared!, 'nab', 'realKnownCause', 'nyc_taxi.csv'));
    const windows = readNabWindows(shared!).get('realKnownCause/nyc_taxi.csv')!;
    expect(windows).toHaveLength(5);
    const score = scoreAgainstWindows(detectAnomalies(series).anomalies, windows);
    // Measured with the defaults: 5 of 5 windows, 11 detections outside them (precision 0.31).
    expect(score.recall).toBeGreaterThanOrEqual(0.8);
    expect(score.falsePositives).toBeLessThanOrEqual(15);
  });
});

describe('cleaning before fitting on a bursty real trace (AAPL tweet volume, data/nab slice)', () => {
  it('cleaned(mstl()) forecasts the next day with a lower MAE than mstl() alone', () => {
    const raw = readNabSeries('data/nab/twitter_volume_aapl.csv');
    // 30-minute means of the 5-minute counts.
    const v = raw.values;
    const s: Series = { startSeconds: raw.startSeconds, stepSeconds: 1800, values: Array.from({ length: Math.floor(v.length / 6) }, (_, i) => v.slice(6 * i, 6 * i + 6).reduce((a, b) => a + b, 0) / 6) };
    const window = 2 * 336;
    let plain = 0;
    let clean = 0;
    for (let o = window; o + 48 <= s.values.length; o += 48) {
      const history: Series = { ...s, startSeconds: s.startSeconds + (o - window) * 1800, values: s.values.slice(o - window, o) };
      const actual = s.values.slice(o, o + 48);
      const mae = (f: readonly number[]) => f.reduce((a, x, t) => a + Math.abs(x - actual[t]), 0) / 48;
      plain += mae(mstl().fit({ history }).predict(48, [0.5]).mean);
      clean += mae(cleaned(mstl()).fit({ history }).predict(48, [0.5]).mean);
    }
    // Measured over the 7 origins of the third week: summed MAE 566 without cleaning, 400 with (−29%).
    expect(clean).toBeLessThan(0.85 * plain);
  });
});
