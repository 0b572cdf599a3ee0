/**
 * The dependency graph against hand-computed cases: a diamond with a second
 * entry point, as single rates, series and quantile forecasts; per-edge
 * traffic; and every kind of bad graph named in its error.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import type { QuantileForecast } from '../core/forecast.ts';
import { thrown } from '../../test/helpers.ts';
import {
  buildDependencyGraph,
  demandPerEntryRequest,
  edgeTraffic,
  entryPoints,
  propagateForecast,
  propagateRates,
  propagateSeries,
  roots,
  type DeclaredEdge,
} from './graph.ts';

/**
 * The diamond:        web
 *                 ×2 /   \ ×0.5
 *                   a     b   (b also has external demand)
 *                 ×3 \   / ×4
 *                     db
 * Per web request: a 2, b 0.5, db 2·3 + 0.5·4 = 8.
 */
const SERVICES = ['db', 'b', 'a', 'web'];
const DIAMOND: DeclaredEdge[] = [
  { from: 'web', to: 'a', callsPerRequest: 2, bytesPerCall: 1000 },
  { from: 'web', to: 'b', callsPerRequest: 0.5 },
  { from: 'a', to: 'db', callsPerRequest: 3, bytesPerCall: 200 },
  { from: 'b', to: 'db', callsPerRequest: 4 },
];
const diamond = () => buildDependencyGraph(SERVICES, DIAMOND, 'test');

describe('graph structure', () => {
  it('orders callers before callees, ties in declaration order', () => {
    const g = diamond();
    expect(g.order).toEqual(['web', 'b', 'a', 'db']);
    expect(roots(g)).toEqual(['web']);
    expect(entryPoints(g, { b: 1, web: 2 })).toEqual(['web', 'b']);
    expect(g.callers.get('db')!.map((e) => e.from)).toEqual(['a', 'b']);
    expect(g.callees.get('web')!.map((e) => e.to)).toEqual(['a', 'b']);
  });

  it('keeps services no edge touches', () => {
    const g = buildDependencyGraph(['lonely', ...SERVICES], DIAMOND, 'test');
    expect(g.order).toEqual(['lonely', 'web', 'b', 'a', 'db']);
    expect(propagateRates(g, { web: 10 }).get('lonely')).toBe(0);
  });
});

describe('propagation (hand-computed)', () => {
  it('a single rate: demand_B = external_B + Σ demand_A × ratio', () => {
    // web 100 → a 200; b 10 + 50 = 60; db 3·200 + 4·60 = 840.
    const d = propagateRates(diamond(), { web: 100, b: 10 });
    expect(Object.fromEntries(d)).toEqual({ web: 100, b: 60, a: 200, db: 840 });
  });

  it('demand per entry request sums the products of ratios over every path', () => {
    expect(Object.fromEntries(demandPerEntryRequest(diamond(), 'web'))).toEqual({ web: 1, b: 0.5, a: 2, db: 8 });
    expect(Object.fromEntries(demandPerEntryRequest(diamond(), 'b'))).toEqual({ web: 0, b: 1, a: 0, db: 4 });
  });

  it('a whole series, step by step', () => {
    const grid = { startSeconds: 3600, stepSeconds: 300 };
    const d = propagateSeries(diamond(), { web: { ...grid, values: [10, 20, 0] }, b: { ...grid, values: [1, 1, 1] } });
    // a = 2·web; b = 1 + 0.5·web; db = 3a + 4b.
    expect(d.get('a')).toEqual({ ...grid, values: [20, 40, 0] });
    expect(d.get('b')!.values).toEqual([6, 11, 1]);
    expect(d.get('db')!.values).toEqual([84, 164, 4]);
    expect(d.get('web')!.values).toEqual([10, 20, 0]);
  });

  it('series on different grids are refused, naming both', () => {
    const e = thrown(() =>
      propagateSeries(diamond(), { web: { startSeconds: 0, stepSeconds: 300, values: [1, 2] }, b: { startSeconds: 0, stepSeconds: 60, values: [1, 2] } }),
    );
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toContain('demand series of "b" (start 0, step 60 s, 2 values) is not on the grid of "web"');
  });

  const forecast = (mean: number[], q10: number[], q90: number[]): QuantileForecast => ({
    model: 'test',
    startSeconds: 0,
    stepSeconds: 3600,
    mean,
    quantiles: [
      { level: 0.1, values: q10 },
      { level: 0.9, values: q90 },
    ],
  });

  it('quantile forecasts from one entry point: every path scales by the same factor (exact)', () => {
    const d = propagateForecast(diamond(), { web: forecast([100, 200], [80, 150], [130, 260]) });
    const db = d.get('db')!;
    expect(db.mean).toEqual([800, 1600]);
    expect(db.quantiles).toEqual([
      { level: 0.1, values: [640, 1200] },
      { level: 0.9, values: [1040, 2080] },
    ]);
    expect(db.model).toBe('propagated(test)');
    expect(d.get('b')!.quantiles[1].values).toEqual([65, 130]);
  });

  it('quantile forecasts from two entry points add level by level (comonotone)', () => {
    // db = 8·web + 4·b_external (a's 2·web times 3, plus b's own forecast and 0.5·web, times 4).
    const d = propagateForecast(diamond(), { web: forecast([100, 200], [80, 150], [130, 260]), b: forecast([10, 10], [5, 6], [20, 18]) });
    const db = d.get('db')!;
    expect(db.mean).toEqual([8 * 100 + 4 * 10, 8 * 200 + 4 * 10]);
    expect(db.quantiles[0].values).toEqual([8 * 80 + 4 * 5, 8 * 150 + 4 * 6]);
    expect(db.quantiles[1].values).toEqual([8 * 130 + 4 * 20, 8 * 260 + 4 * 18]);
  });

  it('with independent Gaussian entry demands the comonotone band contains the true one (the documented claim)', () => {
    // web ~ N(100, 20²), b ~ N(10, 5²) independent; db = 8·web + 4·b ~ N(840, 160² + 20²).
    const z90 = 1.2815515655446004;
    const g = (mu: number, sd: number) => forecast([mu], [mu - z90 * sd], [mu + z90 * sd]);
    const db = propagateForecast(diamond(), { web: g(100, 20), b: g(10, 5) }).get('db')!;
    const trueSd = Math.hypot(8 * 20, 4 * 5);
    expect(db.mean[0]).toBeCloseTo(840, 9);
    expect(db.quantiles[1].values[0]).toBeGreaterThan(840 + z90 * trueSd);
    expect(db.quantiles[0].values[0]).toBeLessThan(840 - z90 * trueSd);
    // The comonotone band is exactly the one with the standard deviations added.
    expect(db.quantiles[1].values[0]).toBeCloseTo(840 + z90 * (8 * 20 + 4 * 5), 9);
  });

  it('forecasts with different quantile levels are refused', () => {
    const other: QuantileForecast = { ...forecast([1, 1], [1, 1], [1, 1]), quantiles: [{ level: 0.5, values: [1, 1] }] };
    const e = thrown(() => propagateForecast(diamond(), { web: forecast([1, 1], [1, 1], [1, 1]), b: other }));
    expect(e.message).toContain('forecast of "b" has quantile levels [0.5], not those of "web" [0.1, 0.9]');
  });

  it('traffic per edge: calls/s from the caller demand, bytes/s when bytesPerCall is known', () => {
    const g = diamond();
    const t = edgeTraffic(g, propagateRates(g, { web: 100, b: 10 }));
    expect(t).toEqual([
      { from: 'web', to: 'a', callsPerRequest: 2, callsPerSecond: 200, bytesPerSecond: 200_000 },
      { from: 'web', to: 'b', callsPerRequest: 0.5, callsPerSecond: 50 },
      { from: 'a', to: 'db', callsPerRequest: 3, callsPerSecond: 600, bytesPerSecond: 120_000 },
      { from: 'b', to: 'db', callsPerRequest: 4, callsPerSecond: 240 },
    ]);
    // Calls into a service add up to its propagated demand minus its external demand.
    expect(t.filter((x) => x.to === 'db').reduce((s, x) => s + x.callsPerSecond, 0)).toBe(840);
  });

  it('external demand must name known services and be ≥ 0', () => {
    expect(thrown(() => propagateRates(diamond(), { wbe: 1 })).message).toBe('external demand: external demand names unknown service "wbe" (known services: db, b, a, web)');
    expect(thrown(() => propagateRates(diamond(), { web: -1 })).message).toContain('demand of "web" must be a finite number ≥ 0');
  });
});

describe('bad graphs are named', () => {
  it('a two-service cycle, with its path', () => {
    const e = thrown(() =>
      buildDependencyGraph(
        ['frontend', 'cart'],
        [
          { from: 'frontend', to: 'cart', callsPerRequest: 1, where: 'shop.yaml: dependencies[0]' },
          { from: 'cart', to: 'frontend', callsPerRequest: 1, where: 'shop.yaml: dependencies[1]' },
        ],
        'shop.yaml',
      ),
    );
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toBe(
      'shop.yaml: the dependency graph has a cycle: frontend → cart → frontend (edges declared: frontend → cart at shop.yaml: dependencies[0]; cart → frontend at shop.yaml: dependencies[1])',
    );
  });

  it('a longer cycle behind an acyclic entry, and one downstream of it', () => {
    const edges = [
      ['x', 'a'],
      ['a', 'b'],
      ['b', 'c'],
      ['c', 'd'],
      ['d', 'b'],
      ['c', 'sink'],
    ].map(([from, to]) => ({ from, to, callsPerRequest: 1 }));
    const e = thrown(() => buildDependencyGraph(['x', 'a', 'b', 'c', 'd', 'sink'], edges, 'g'));
    expect(e.message).toBe('g: the dependency graph has a cycle: b → c → d → b');
  });

  it('a service calling itself', () => {
    const e = thrown(() => buildDependencyGraph(['a'], [{ from: 'a', to: 'a', callsPerRequest: 2 }], 'g'));
    expect(e.message).toBe('g: the dependency graph has a cycle: a → a');
  });

  it('an unknown service, with the edge and where it was declared', () => {
    const e = thrown(() =>
      buildDependencyGraph(['frontend', 'cart'], [{ from: 'frontend', to: 'cartz', callsPerRequest: 1, where: 'shop.yaml: dependencies[3]' }], 'shop.yaml'),
    );
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toBe('shop.yaml: dependencies[3]: edge frontend → cartz names unknown service "cartz" (known services: frontend, cart)');
  });

  it('duplicate edges, duplicate services and bad ratios', () => {
    const twice = [
      { from: 'a', to: 'b', callsPerRequest: 1, where: 'f: dependencies[0]' },
      { from: 'a', to: 'b', callsPerRequest: 2, where: 'f: dependencies[1]' },
    ];
    expect(thrown(() => buildDependencyGraph(['a', 'b'], twice, 'f')).message).toBe('f: dependencies[1]: edge a → b is declared twice (first at f: dependencies[0])');
    expect(thrown(() => buildDependencyGraph(['a', 'a'], [], 'f')).message).toBe('f: service "a" is declared twice');
    expect(thrown(() => buildDependencyGraph(['a', 'b'], [{ from: 'a', to: 'b', callsPerRequest: -1 }], 'f')).message).toContain('callsPerRequest must be a finite number ≥ 0, got -1');
    expect(thrown(() => buildDependencyGraph(['a', 'b'], [{ from: 'a', to: 'b', callsPerRequest: 1, bytesPerCall: Number.NaN }], 'f')).message).toContain('bytesPerCall');
  });
});
