import { describe, expect, it } from 'vitest';
import { ModelBuilder } from './lp.ts';
import { solveModels } from './parallelSolve.ts';

/** min Σ c_i x_i with x_1 + … + x_n ≥ demand, x_i ≤ cap: the cheapest columns filled first. */
function cheapestFill(costs: readonly number[], cap: number, demand: number) {
  const b = new ModelBuilder();
  const x = costs.map((c, i) => b.addVariable(`x${i}`, 0, cap, c, true));
  b.addConstraint('demand', x, x.map(() => 1), '>=', demand);
  return b.build();
}

describe('solveModels: independent models in worker threads', () => {
  it('answers in the jobs’ order with the optima one thread finds, whatever the number of workers', async () => {
    const models = [cheapestFill([3, 1, 2], 4, 6), cheapestFill([5, 4], 10, 3), cheapestFill([1, 1, 1, 2], 1, 4), cheapestFill([2], 5, 5)];
    const jobs = models.map((model) => ({ model, options: { via: 'arrays' as const, relax: true } }));
    const serial = await solveModels(jobs, 1);
    const parallel = await solveModels(jobs, 2);
    // Hand-solved: 1·4 + 2·2, 4·3, 1+1+1+2, 2·5.
    expect(serial.map((r) => r.objective)).toEqual([8, 12, 5, 10]);
    expect(parallel.map((r) => r.objective)).toEqual([8, 12, 5, 10]);
    expect(parallel.map((r) => Array.from(r.values))).toEqual(serial.map((r) => Array.from(r.values)));
    expect(parallel.map((r) => Array.from(r.rowDuals))).toEqual(serial.map((r) => Array.from(r.rowDuals)));
  });

  it('rejects with the worker’s error and stops the others', async () => {
    const ok = { model: cheapestFill([1, 2], 3, 4), options: { via: 'arrays' as const, relax: true } };
    // Lazy constraints on a MIP are refused inside the worker's solveModel.
    const bad = { model: cheapestFill([1, 2], 3, 4), options: { via: 'arrays' as const, lazy: [{ name: 'cut', indices: [0], coefficients: [1], sense: '<=' as const, rhs: 1 }] } };
    await expect(solveModels([ok, bad, ok], 2)).rejects.toThrow('lazy constraints need an LP passed as arrays');
  });
});
