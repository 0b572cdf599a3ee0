import { describe, expect, it } from 'vitest';
import type { Series } from '../core/series.ts';
import { forecasterByName, refitting } from './index.ts';
import { readNabSeries } from './testData.ts';

const taxi = readNabSeries(new URL('../../data/nab/nyc_taxi.csv', import.meta.url).pathname);

/** The series with every value from index `from` on replaced by nonsense. */
const poisoned = (s: Series, from: number): Series => ({ ...s, values: s.values.map((v, i) => (i >= from ? 1e9 + i : v)) });

describe('refitting (online forecasts)', () => {
  it.each(['seasonal-naive', 'auto'])('never reads data from after the decision (%s)', (model) => {
    const cut = 14 * 48 + 5; // two weeks of 30-minute steps, plus a few
    const make = () => refitting(forecasterByName(model, { horizonSteps: 8, stepSeconds: 1800, reselectAfterSteps: 48 }), { refitIntervalSeconds: 3 * 3600 });
    const clean = make();
    const dirty = make();
    const bad = poisoned(taxi, cut);
    for (let d = cut - 30; d <= cut; d++) {
      const a = clean.forecastAt(taxi, d, 8, [0.05, 0.5, 0.95]);
      const b = dirty.forecastAt(bad, d, 8, [0.05, 0.5, 0.95]);
      expect(b).toEqual(a);
    }
  });

  it('covers about 90% with its 5%..95% band one step ahead on real taxi demand', () => {
    const f = refitting(forecasterByName('auto', { horizonSteps: 4, stepSeconds: 1800, reselectAfterSteps: 48 }), { refitIntervalSeconds: 6 * 3600 });
    let inside = 0;
    let total = 0;
    for (let d = 14 * 48; d < 21 * 48 - 1; d++) {
      const fc = f.forecastAt(taxi, d, 4, [0.05, 0.95]);
      const y = taxi.values[d];
      if (y >= fc.quantiles[0].values[0] && y <= fc.quantiles[1].values[0]) inside++;
      total++;
    }
    expect(inside / total).toBeGreaterThan(0.84);
    expect(inside / total).toBeLessThan(0.96);
  });

  it('rejects a decision index outside the series', () => {
    const f = refitting(forecasterByName('seasonal-naive'), { refitIntervalSeconds: 3600 });
    expect(() => f.forecastAt(taxi, 0, 4, [0.5])).toThrow(/decisionIndex/);
    expect(() => f.forecastAt(taxi, taxi.values.length + 1, 4, [0.5])).toThrow(/decisionIndex/);
  });
});
