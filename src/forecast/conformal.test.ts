import { describe, expect, it } from 'vitest';
import type { Forecaster } from '../core/forecast.ts';
import { slice } from '../core/series.ts';
import { calibrated, conformalLevel } from './conformal.ts';
import { constantForecaster } from './fake.ts';
import { mstl } from './mstl.ts';
import { readNabSeries } from './testData.ts';

describe('conformalLevel', () => {
  it('widens the level by (n + 1) / n around the median', () => {
    // 0.5 + 0.4 * 10/9
    expect(conformalLevel(0.9, 9)).toBeCloseTo(0.9444444444, 9);
    expect(conformalLevel(0.1, 9)).toBeCloseTo(0.0555555556, 9);
    expect(conformalLevel(0.99, 3)).toBe(1);
  });
});

describe('calibrated', () => {
  it('replaces a too-narrow band by quantiles of backtest errors (hand-computed)', () => {
    // History alternates 10, 14; the fake forecasts the last value (14) with sigma 0 ->
    // raw errors only (no model spread). Each origin's 2-step errors are {-4, 0} or {0, +4}.
    const values = Array.from({ length: 20 }, (_, t) => (t % 2 === 0 ? 10 : 14));
    const model = constantForecaster();
    const f = calibrated(model, { horizonSteps: 2, origins: 4, strideSteps: 1, poolHalfWidthSteps: 0 })
      .fit({ history: { startSeconds: 0, stepSeconds: 60, values } })
      .predict(2, [0.1, 0.9]);
    // origins (history lengths) 15..18: last values y14..y17 = 10,14,10,14, next values
    // y15..y18 = 14,10,14,10 -> step-1 errors 4,-4,4,-4 -> sorted -4,-4,4,4
    // level 0.9 -> 0.5+0.4*5/4 = 1 -> +4; level 0.1 -> 0 -> -4. Last value is 14.
    expect(f.mean).toEqual([14, 14]);
    expect(f.quantiles[0].values[0]).toBe(10);
    expect(f.quantiles[1].values[0]).toBe(18);
    expect(model.fits).toBe(5);
  });

  it('brings the 90% band of MSTL close to 90% on NYC taxi demand', () => {
    // The repository's slice: 2014-09-01 .. 09-22 at 30-minute steps.
    const taxi = readNabSeries(new URL('../../data/nab/nyc_taxi.csv', import.meta.url).pathname);
    const day = 48; // 30-minute steps
    const windowSteps = 8 * day;
    const evaluate = (model: Forecaster) => {
      let inside = 0;
      let total = 0;
      // 12 daily origins, 2014-09-09 .. 09-20
      for (let k = 0; k < 12; k++) {
        const origin = 8 * day + k * day;
        const f = model.fit({ history: slice(taxi, origin - windowSteps, origin) }).predict(day, [0.05, 0.95]);
        for (let h = 0; h < day; h++) {
          const y = taxi.values[origin + h];
          if (y >= f.quantiles[0].values[h] && y <= f.quantiles[1].values[h]) inside++;
          total++;
        }
      }
      return inside / total;
    };
    const coverage = evaluate(calibrated(mstl(), { horizonSteps: day, origins: 14 }));
    expect(coverage).toBeGreaterThan(0.84);
    expect(coverage).toBeLessThan(0.96);
  });
});
