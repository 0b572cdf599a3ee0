/**
 * HiGHS aborting on the exact model (its 2 GiB WebAssembly heap full, as it
 * does on the exact model of 100 benchmark workloads × 150 pools × 24 steps
 * after minutes). Filling the heap for real takes that long, so here the
 * exact solve throws the error the solver seam turns an abort into; the
 * decomposition, the windows and the checks all run for real.
 */
import { describe, expect, it, vi } from 'vitest';
import { generateInstance } from '../../bench/instances.ts';
import { checkPlan } from './horizon.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';
import { SolverAbortedError } from './solver.ts';
import { hpool, hwork } from './testFixtures.ts';

vi.mock('./horizonModel.ts', async (importOriginal) => {
  const real = await importOriginal<typeof import('./horizonModel.ts')>();
  return {
    ...real,
    solveExact: async () => {
      throw new SolverAbortedError(681_066, 368_740, 'Aborted()');
    },
  };
});

describe('optimizeHorizon: HiGHS aborts on the exact model', () => {
  it("answers with the decomposition's plan and bound, and says why", async () => {
    const input = generateInstance({ workloads: 12, seed: 3, steps: 6 });
    const decomposed = await optimizeHorizon(input, { method: 'decomposition', aggregateMipSeconds: 0.8 });
    const r = await optimizeHorizon(input, { method: 'exact', timeLimitSeconds: 4 });
    expect(r.exactAborted).toMatch(/681,066 columns × 368,740 rows/);
    expect(checkPlan(r.context, r.plan)).toEqual([]);
    // The start is the decomposition's plan (the windows may only improve it);
    // the bound is the decomposition's (its aggregated MIP had less time here).
    expect(r.cost.objective).toBeLessThanOrEqual(decomposed.cost.objective + 1e-9);
    expect(r.lowerBound).toBeGreaterThan(0.95 * decomposed.lowerBound);
    expect(r.lowerBound).toBeLessThanOrEqual(r.cost.objective);
  });

  it('with no plan to fall back on, the abort reaches the caller, named', async () => {
    // One workload, one pool, one step: too small for the decomposition's start.
    const input = { steps: 1, stepHours: 1, workloads: [hwork('web', 1000, 4096, [3])], pools: [hpool('small', 4, 16, 0.2)] };
    await expect(optimizeHorizon(input, { method: 'exact' })).rejects.toThrow(SolverAbortedError);
  });
});
