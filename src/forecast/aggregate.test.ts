import { describe, expect, it } from 'vitest';
import type { QuantileForecast } from '../core/forecast.ts';
import type { Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import { forecastOver, horizonSteps, resampleForecast } from './aggregate.ts';
import { seasonalNaive } from './seasonalNaive.ts';
import { readNabSeries } from './testData.ts';

const Z90 = 1.2815515655446004;

/** 6 fine steps of 10 minutes; quantiles at 0.1 / 0.5 / 0.9 around the mean ± Z90·σ (Gaussian). */
const fine: QuantileForecast = {
  model: 'hand',
  startSeconds: 1000,
  stepSeconds: 600,
  mean: [10, 20, 30, 40, 50, 60],
  quantiles: [
    { level: 0.1, values: [10, 20, 30, 40, 50, 60].map((m) => m - Z90 * 2) },
    { level: 0.5, values: [10, 20, 30, 40, 50, 60] },
    { level: 0.9, values: [10, 20, 30, 40, 50, 60].map((m) => m + Z90 * 2) },
  ],
};

describe('horizonSteps', () => {
  it.each([
    [3600, 300, 12],
    [3601, 300, 13],
    [7 * 86_400, 300, 2016],
    [60, 300, 1],
  ])('%d s at %d s steps → %d steps', (h, s, expected) => expect(horizonSteps(h, s)).toBe(expected));
  it('rejects a zero horizon', () => expect(() => horizonSteps(0, 300)).toThrow(InvalidInputError));
});

describe('resampleForecast to a coarser step (hand-computed)', () => {
  it('comonotonic: mean and quantiles are block means; a trailing partial block is dropped', () => {
    const f = resampleForecast({ ...fine, mean: [...fine.mean, 70], quantiles: fine.quantiles.map((q) => ({ ...q, values: [...q.values, 70] })) }, 1800);
    expect(f.stepSeconds).toBe(1800);
    expect(f.startSeconds).toBe(1000);
    expect(f.mean).toEqual([20, 50]);
    expect(f.quantiles[0].values[0]).toBeCloseTo(20 - Z90 * 2, 12);
    expect(f.quantiles[2].values[1]).toBeCloseTo(50 + Z90 * 2, 12);
  });

  it('ar1 Monte Carlo: independent Gaussian steps average to σ/√k, ρ→1 approaches comonotone', () => {
    // k = 3 independent N(·, 2²): the mean has σ = 2/√3 → 90% quantile = mean + 1.2816·1.1547 = mean + 1.4798.
    const indep = resampleForecast(fine, 1800, { dependence: { ar1: 0 }, samples: 20_000, seed: 7 });
    expect(indep.mean).toEqual([20, 50]);
    expect(indep.quantiles[2].values[0] - 20).toBeGreaterThan(1.4798 * 0.96);
    expect(indep.quantiles[2].values[0] - 20).toBeLessThan(1.4798 * 1.04);
    // ρ = 0.5: Var(mean) = σ²/9 · (3 + 2·(2·0.5 + 0.25)) = 4/9 · 5.5 → σ = 1.5635 → q90 offset 2.0037.
    const half = resampleForecast(fine, 1800, { dependence: { ar1: 0.5 }, samples: 20_000, seed: 7 });
    expect(half.quantiles[2].values[1] - 50).toBeGreaterThan(2.0037 * 0.96);
    expect(half.quantiles[2].values[1] - 50).toBeLessThan(2.0037 * 1.04);
    // Same seed, same numbers.
    expect(resampleForecast(fine, 1800, { dependence: { ar1: 0.5 }, samples: 20_000, seed: 7 })).toEqual(half);
  });

  it('rejects a step that is not a whole multiple or divisor, naming both steps', () => {
    expect(() => resampleForecast(fine, 900)).toThrow(/900 s is not a whole multiple of the forecast's step \(600 s\)/);
    expect(() => resampleForecast(fine, 400)).toThrow(/400 s does not divide/);
  });
});

describe('resampleForecast to a finer step (hand-computed)', () => {
  const coarse: QuantileForecast = { model: 'hand', startSeconds: 0, stepSeconds: 3600, mean: [10, 30], quantiles: [{ level: 0.9, values: [12, 36] }] };
  it('constant: every fine step repeats its coarse value', () => {
    const f = resampleForecast(coarse, 1800);
    expect(f.mean).toEqual([10, 10, 30, 30]);
    expect(f.quantiles[0].values).toEqual([12, 12, 36, 36]);
  });
  it('linear: interpolated between coarse-step centres, flat beyond them', () => {
    // Fine centres at 0.25, 0.75, 1.25, 1.75 coarse steps; coarse centres at 0.5 and 1.5.
    const f = resampleForecast(coarse, 1800, { interpolation: 'linear' });
    expect(f.mean).toEqual([10, 15, 25, 30]);
    expect(f.quantiles[0].values).toEqual([12, 18, 30, 36]);
  });
});

describe('forecastOver: minutes to a week at the series own step', () => {
  // The ELB request-count slice (NAB, 5-minute steps, two weeks).
  const elb: Series = readNabSeries('data/nab/elb_request_count_8c0756.csv');
  const fitted = seasonalNaive({ periodSteps: 2016 }).fit({ history: elb });

  it.each([
    [300, 300, 1],
    [3600, 300, 12],
    [86_400, 3600, 24],
    [7 * 86_400, 3600, 168],
  ])('horizon %d s at %d s steps gives %d steps', (h, step, count) => {
    const f = forecastOver(fitted, 300, h, step, [0.1, 0.9]);
    expect(f.stepSeconds).toBe(step);
    expect(f.mean).toHaveLength(count);
  });

  it('an hourly week ahead is the block mean of the 5-minute week ahead', () => {
    const own = fitted.predict(2016, [0.1, 0.9]);
    const hourly = forecastOver(fitted, 300, 7 * 86_400, 3600, [0.1, 0.9]);
    for (const b of [0, 50, 167]) {
      const block = own.mean.slice(12 * b, 12 * b + 12);
      expect(hourly.mean[b]).toBeCloseTo(block.reduce((a, v) => a + v, 0) / 12, 9);
    }
  });
});
