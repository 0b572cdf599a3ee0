import { describe, expect, it } from 'vitest';
import type { Forecaster, QuantileForecast } from '../core/forecast.ts';
import type { Series } from '../core/series.ts';
import { autoEts } from './autoEts.ts';
import { mstl } from './mstl.ts';
import { seasonalNaive } from './seasonalNaive.ts';
import { lcg } from './testData.ts';

const HOUR = 3600;

/** 50 + 10·sin(2πt/24) + uniform noise in [-1, 1), hourly, 14 days (336 steps). */
function noisySine(length = 336, seed = 7): { series: Series; signal: (t: number) => number } {
  const random = lcg(seed);
  const signal = (t: number) => 50 + 10 * Math.sin((2 * Math.PI * t) / 24);
  const values = Array.from({ length }, (_, t) => signal(t) + (2 * random() - 1));
  return { series: { startSeconds: 1_700_000_000, stepSeconds: HOUR, values }, signal };
}

function expectWellFormed(f: QuantileForecast, horizon: number, levels: number[]): void {
  expect(f.mean).toHaveLength(horizon);
  expect(f.quantiles.map((q) => q.level)).toEqual([...levels].sort((a, b) => a - b));
  for (let h = 0; h < horizon; h++) {
    for (let k = 1; k < f.quantiles.length; k++) {
      expect(f.quantiles[k].values[h]).toBeGreaterThanOrEqual(f.quantiles[k - 1].values[h]);
    }
  }
}

describe('seasonalNaive', () => {
  // 6-hour steps: one day = 4 steps; three days of history.
  const history: Series = { startSeconds: 0, stepSeconds: 21_600, values: [10, 20, 30, 40, 12, 18, 33, 40, 11, 22, 30, 44] };

  it('repeats the last day and widens by sqrt(seasons ahead) (hand-computed)', () => {
    // errors y_t - y_{t-4}: 2,-2,3,0,-1,4,-3,4; sorted -3,-2,-1,0,2,3,4,4 -> q0.1 = -2.3, q0.9 = 4
    const f = seasonalNaive().fit({ history }).predict(6, [0.9, 0.1]);
    expect(f.startSeconds).toBe(12 * 21_600);
    expect(f.mean).toEqual([11, 22, 30, 44, 11, 22]);
    const [lo, hi] = f.quantiles;
    expect(lo.level).toBe(0.1);
    expect(lo.values[0]).toBeCloseTo(8.7, 10);
    expect(hi.values[0]).toBeCloseTo(15, 10);
    expect(lo.values[4]).toBeCloseTo(11 - 2.3 * Math.SQRT2, 10);
    expect(hi.values[4]).toBeCloseTo(11 + 4 * Math.SQRT2, 10);
  });

  it('falls back to naive with less than two days, and clamps at zero', () => {
    const short: Series = { startSeconds: 0, stepSeconds: 21_600, values: [5, 1, 4, 2] };
    // naive errors: -4, 3, -2; q0.05 = -4 + 0.1*1 = -3.9 -> 2 - 3.9 < 0 -> clamped
    const f = seasonalNaive().fit({ history: short }).predict(3, [0.05]);
    expect(f.mean).toEqual([2, 2, 2]);
    expect(f.quantiles[0].values[0]).toBe(0);
  });

  it('recovers a period-24 sine within the noise amplitude', () => {
    const { series, signal } = noisySine();
    const f = seasonalNaive().fit({ history: series }).predict(48, [0.5]);
    f.mean.forEach((v, h) => expect(Math.abs(v - signal(336 + h))).toBeLessThanOrEqual(1));
  });
});

describe.each<[string, Forecaster, number]>([
  // tolerance: mean absolute error against the noise-free signal over 48 steps
  ['mstl', mstl(), 0.6],
  ['auto-ets', autoEts(), 0.8],
  ['seasonal-naive', seasonalNaive(), 0.7],
])('%s on a noisy period-24 sine', (name, model, tolerance) => {
  const { series, signal } = noisySine();
  const levels = [0.05, 0.25, 0.5, 0.75, 0.95];
  const f = model.fit({ history: series }).predict(48, levels);

  it('forecasts the seasonal shape', () => {
    const mae = f.mean.reduce((s, v, h) => s + Math.abs(v - signal(336 + h)), 0) / 48;
    expect(mae).toBeLessThan(tolerance);
  });

  it('returns ordered quantiles that do not narrow with horizon (same hour of day)', () => {
    expectWellFormed(f, 48, levels);
    const width = (h: number) => f.quantiles[4].values[h] - f.quantiles[0].values[h];
    for (let h = 0; h < 24; h++) {
      expect(width(h)).toBeGreaterThan(0);
      expect(width(h + 24)).toBeGreaterThanOrEqual(width(h) - 1e-9);
    }
    expect(f.model).toBe(name);
  });
});

describe('mstl with long periods', () => {
  it('fits 5-minute data with daily (288) and weekly (2016) periods', () => {
    const random = lcg(3);
    const values = Array.from({ length: 4100 }, (_, t) => 100 + 20 * Math.sin((2 * Math.PI * t) / 288) + 5 * Math.sin((2 * Math.PI * t) / 2016) + random());
    const f = mstl().fit({ history: { startSeconds: 0, stepSeconds: 300, values } }).predict(288, [0.1, 0.9]);
    const truth = (t: number) => 100.5 + 20 * Math.sin((2 * Math.PI * t) / 288) + 5 * Math.sin((2 * Math.PI * t) / 2016);
    const mae = f.mean.reduce((s, v, h) => s + Math.abs(v - truth(4100 + h)), 0) / 288;
    expect(mae).toBeLessThan(1);
  });
});
