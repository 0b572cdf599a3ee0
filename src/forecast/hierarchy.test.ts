import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { QuantileForecast } from '../core/forecast.ts';
import type { Series } from '../core/series.ts';
import { InvalidInputError } from '../core/errors.ts';
import {
  RECONCILIATION_METHODS,
  aggregateHistories,
  forecastHierarchy,
  reconcile,
  reconciliationMatrix,
  shrinkCovariance,
  summingMatrix,
  type Hierarchy,
} from './hierarchy.ts';
import { mstl } from './mstl.ts';
import { sharedDataDir } from './nabData.ts';
import { seededUniform, standardNormal } from './sampling.ts';
import { fillGaps } from './stats.ts';
import { readNabSeries } from './testData.ts';

/** A Gaussian forecast with the given means and sigmas per step, at `levels`. */
function gaussianForecast(mean: number[], sigma: number[], levels = [0.05, 0.25, 0.5, 0.75, 0.95]): QuantileForecast {
  const z: Record<number, number> = { 0.05: -1.6448536, 0.25: -0.6744898, 0.5: 0, 0.75: 0.6744898, 0.95: 1.6448536 };
  return {
    model: 'test',
    startSeconds: 0,
    stepSeconds: 3600,
    mean,
    quantiles: levels.map((level) => ({ level, values: mean.map((m, h) => m + z[level] * sigma[h]) })),
  };
}

// total = (web = web-eu + web-us) + api + (batch = (nightly = n1 + n2) + adhoc): three levels, 5 leaves.
const tree = summingMatrix({
  name: 'total',
  children: [
    { name: 'web', children: [{ name: 'web-eu' }, { name: 'web-us' }] },
    { name: 'api' },
    { name: 'batch', children: [{ name: 'nightly', children: [{ name: 'n1' }, { name: 'n2' }] }, { name: 'adhoc' }] },
  ],
});

function expectCoherent(h: Hierarchy, values: (name: string) => number, digits = 9): void {
  h.nodes.forEach((name, i) => {
    const sum = h.summing[i].reduce((s, w, j) => s + w * values(h.bottom[j]), 0);
    expect(Math.abs(values(name) - sum)).toBeLessThan(10 ** -digits * Math.max(1, Math.abs(sum)));
  });
}

describe('summingMatrix', () => {
  it('builds S for a three-level tree (hand-written)', () => {
    expect(tree.nodes).toEqual(['total', 'web', 'web-eu', 'web-us', 'api', 'batch', 'nightly', 'n1', 'n2', 'adhoc']);
    expect(tree.bottom).toEqual(['web-eu', 'web-us', 'api', 'n1', 'n2', 'adhoc']);
    expect(tree.summing).toEqual([
      [1, 1, 1, 1, 1, 1],
      [1, 1, 0, 0, 0, 0],
      [1, 0, 0, 0, 0, 0],
      [0, 1, 0, 0, 0, 0],
      [0, 0, 1, 0, 0, 0],
      [0, 0, 0, 1, 1, 1],
      [0, 0, 0, 1, 1, 0],
      [0, 0, 0, 1, 0, 0],
      [0, 0, 0, 0, 1, 0],
      [0, 0, 0, 0, 0, 1],
    ]);
  });

  it('rejects a duplicated name, naming where', () => {
    expect(() => summingMatrix({ name: 'a', children: [{ name: 'b' }, { name: 'b' }] })).toThrow(InvalidInputError);
    expect(() => summingMatrix({ name: 'a', children: [{ name: 'b' }, { name: 'b' }] })).toThrow(/'b' appears twice/);
  });
});

describe('reconciliation on a hand-computed 2-member example', () => {
  // total = a + b; base forecasts total 10, a 3, b 5: incoherent by 2.
  const h = summingMatrix({ name: 'total', children: [{ name: 'a' }, { name: 'b' }] });
  const base = { total: gaussianForecast([10], [2]), a: gaussianForecast([3], [1]), b: gaussianForecast([5], [1]) };
  it.each([
    // OLS: SᵀS = [[2,1],[1,2]], Sᵀŷ = [13,15] → b̃ = [11/3, 17/3], total 28/3.
    ['ols', [28 / 3, 11 / 3, 17 / 3]],
    // WLS structural: Λ = diag(2,1,1) → SᵀΛ⁻¹S = [[1.5,.5],[.5,1.5]], SᵀΛ⁻¹ŷ = [8,10] → b̃ = [3.5, 5.5], total 9.
    ['wls-structural', [9, 3.5, 5.5]],
    ['bottom-up', [8, 3, 5]],
  ] as const)('%s gives %j', (method, expected) => {
    const r = reconcile(h, base, { method, samples: 500 });
    expect(r.total.mean[0]).toBeCloseTo(expected[0], 12);
    expect(r.a.mean[0]).toBeCloseTo(expected[1], 12);
    expect(r.b.mean[0]).toBeCloseTo(expected[2], 12);
  });
});

describe('reconcile on a three-level tree', () => {
  const random = standardNormal(seededUniform(3));
  const horizon = 6;
  // Incoherent base forecasts: every node its own noisy mean.
  const base: Record<string, QuantileForecast> = {};
  tree.nodes.forEach((name, i) => {
    const leaves = tree.summing[i].reduce((a, b) => a + b, 0);
    base[name] = gaussianForecast(
      Array.from({ length: horizon }, (_, t) => 10 * leaves + t + 2 * random()),
      Array.from({ length: horizon }, () => Math.sqrt(leaves)),
    );
  });
  const errors = Array.from({ length: 60 }, () => {
    const leafErrors = tree.bottom.map(() => random());
    return tree.summing.map((row) => row.reduce((s, w, j) => s + w * leafErrors[j], 0) + 0.3 * random());
  });

  it.each(RECONCILIATION_METHODS)('%s: members sum to groups at every step, and P is a projection (PS = S)', (method) => {
    const r = reconcile(tree, base, { method, errors, samples: 400 });
    for (let h = 0; h < horizon; h++) expectCoherent(tree, (name) => r[name].mean[h]);
    const p = reconciliationMatrix(tree, method, errors);
    for (let i = 0; i < tree.nodes.length; i++) {
      for (let j = 0; j < tree.bottom.length; j++) {
        const ps = p[i].reduce((s, v, k) => s + v * tree.summing[k][j], 0);
        expect(ps).toBeCloseTo(tree.summing[i][j], 9);
      }
    }
    for (const name of tree.nodes) {
      for (let k = 1; k < r[name].quantiles.length; k++) {
        r[name].quantiles[k].values.forEach((v, h) => expect(v).toBeGreaterThanOrEqual(r[name].quantiles[k - 1].values[h]));
      }
    }
  });

  it('bottom-up reproduces the member forecasts exactly', () => {
    const r = reconcile(tree, base, { method: 'bottom-up' });
    for (const leaf of tree.bottom) expect(r[leaf].mean).toEqual(base[leaf].mean.map((v) => v));
  });

  it('group quantiles follow the dependence: comonotone members add quantiles, independent ones add variances', () => {
    const como = reconcile(tree, base, { method: 'bottom-up', dependence: 'comonotonic', samples: 4000 });
    const indep = reconcile(tree, base, { method: 'bottom-up', dependence: 'independent', samples: 4000 });
    const q95 = (f: QuantileForecast) => f.quantiles.find((q) => q.level === 0.95)!.values[0];
    // Comonotone: the total's 95% quantile = Σ members' 95% quantiles (mean + 1.645·Σσ), σ_leaf = 1.
    expect(q95(como.total) - como.total.mean[0]).toBeCloseTo(1.6449 * 6, 0);
    // Independent: 1.645·sqrt(6).
    expect(q95(indep.total) - indep.total.mean[0]).toBeGreaterThan(1.6449 * Math.sqrt(6) * 0.93);
    expect(q95(indep.total) - indep.total.mean[0]).toBeLessThan(1.6449 * Math.sqrt(6) * 1.07);
  });
});

describe('shrinkCovariance', () => {
  it('shrinks little when correlations are strong and well estimated, fully when there are none to see', () => {
    const random = standardNormal(seededUniform(9));
    const strong = Array.from({ length: 200 }, () => {
      const c = random();
      return [c + 0.1 * random(), c + 0.1 * random()];
    });
    expect(shrinkCovariance(strong).lambda).toBeLessThan(0.05);
    const hand = shrinkCovariance([
      [1, 0],
      [0, 1],
      [-1, 0],
      [0, -1],
    ]);
    // Zero sample correlation: nothing to shrink but λ is defined as 1 (all weight on the diagonal).
    expect(hand.lambda).toBe(1);
    expect(hand.covariance).toEqual([
      [0.5, 0],
      [0, 0.5],
    ]);
  });
});

describe('aggregateHistories', () => {
  it('sums members into groups', () => {
    const h = summingMatrix({ name: 't', children: [{ name: 'a' }, { name: 'b' }] });
    const s = (values: number[]): Series => ({ startSeconds: 0, stepSeconds: 60, values });
    const out = aggregateHistories(h, { a: s([1, 2, 3]), b: s([10, 20, 30]) });
    expect(out.t.values).toEqual([11, 22, 33]);
    expect(() => aggregateHistories(h, { a: s([1]), b: { startSeconds: 60, stepSeconds: 60, values: [1] } })).toThrow(/one grid/);
  });
});

const shared = sharedDataDir();
describe.skipIf(!shared)('real hierarchy: AAPL + AMZN + GOOG tweet volumes (NAB realTweets, hourly)', () => {
  it('reconciled MSTL forecasts are coherent and at least as accurate as the base forecasts', () => {
    const names = ['AAPL', 'AMZN', 'GOOG'];
    const leaves: Record<string, Series> = {};
    for (const n of names) {
      const s = readNabSeries(join(shared!, 'nab', 'realTweets', `Twitter_volume_${n}.csv`));
      const v = fillGaps(s.values);
      const hours = Math.floor(v.length / 12);
      leaves[n] = { startSeconds: s.startSeconds, stepSeconds: 3600, values: Array.from({ length: hours }, (_, k) => v.slice(12 * k, 12 * k + 12).reduce((a, b) => a + b, 0)) };
    }
    const length = Math.min(...names.map((n) => leaves[n].values.length));
    const h = summingMatrix({ name: 'tweets', children: names.map((name) => ({ name })) });
    const totals: Record<string, number> = { base: 0, ...Object.fromEntries(RECONCILIATION_METHODS.map((m) => [m, 0])) };
    const days = 5;
    for (let k = 0; k < days; k++) {
      const origin = length - 24 * (k + 1);
      // The four weeks before the origin (enough for MSTL's weekly season, and quick to fit).
      const from = origin - 4 * 168;
      const history = Object.fromEntries(names.map((n) => [n, { ...leaves[n], startSeconds: leaves[n].startSeconds + from * 3600, values: leaves[n].values.slice(from, origin) }]));
      const all = aggregateHistories(h, leaves);
      const { base, errors } = forecastHierarchy(h, history, mstl(), 24, [0.1, 0.5, 0.9], { method: 'mint-shrink', errorOrigins: 3, errorStrideSteps: 24, samples: 200 });
      // Mean over nodes of MAE relative to the node's mean level, so the total does not dominate.
      const score = (f: Record<string, QuantileForecast>) =>
        h.nodes.reduce((s, name) => {
          const actual = all[name].values.slice(origin, origin + 24);
          const level = actual.reduce((a, b) => a + b, 0) / 24;
          return s + f[name].mean.reduce((a, v, t) => a + Math.abs(v - actual[t]), 0) / 24 / level;
        }, 0) / h.nodes.length;
      totals.base += score(base) / days;
      for (const method of RECONCILIATION_METHODS) {
        const r = reconcile(h, base, { method, errors, samples: 200 });
        for (let t = 0; t < 24; t++) expectCoherent(h, (name) => r[name].mean[t]);
        totals[method] += score(r) / days;
      }
    }
    // Measured (last 5 days, day-ahead): relative MAE base 0.734, bottom-up 0.734, ols 0.724,
    // wls-structural 0.725, mint-shrink 0.735 (its covariance rests on 72 error vectors of bursty series).
    expect(totals.ols).toBeLessThan(totals.base * 0.995);
    expect(totals['wls-structural']).toBeLessThan(totals.base * 0.995);
    for (const method of RECONCILIATION_METHODS) expect(totals[method]).toBeLessThan(totals.base * 1.005);
  });
});
