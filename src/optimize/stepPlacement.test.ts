import { describe, expect, it } from 'vitest';
import { generateInstance } from '../../bench/instances.ts';
import { buildContext, checkPlan } from './horizon.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';
import { StepPlacement } from './stepPlacement.ts';
import { hpool, hwork } from './testFixtures.ts';

describe('StepPlacement.evictFor: contention inside one step (hand-made)', () => {
  // One node of 4 CPU: 'batch' (priority 0) fills it; 'api' (priority 100) needs one 2-CPU instance.
  const setup = (batchMin: number) => {
    const ctx = buildContext({
      steps: 1,
      stepHours: 1,
      pools: [hpool('only', 4, 16, 0.2, { maxNodes: 1 })],
      workloads: [hwork('api', 2000, 1024, [1], { priority: 100, minInstances: 1 }), hwork('batch', 1000, 1024, [4], { priority: 0, minInstances: batchMin })],
    });
    const step = new StepPlacement(ctx, 0, Int32Array.of(1), undefined, new Int32Array(1));
    const [api, batch] = [ctx.workloadIndex.get('api')!, ctx.workloadIndex.get('batch')!];
    step.put(batch, 0, 4);
    const floor = (v: number) => ctx.guaranteed[0][v];
    return { step, api, batch, floor };
  };

  it('removes just enough lower-priority instances above their minimum', () => {
    const { step, api, batch, floor } = setup(0);
    expect(step.fits(api, 0, 1)).toBe(false);
    expect(step.evictFor(api, 0, floor)).toBe(true);
    expect(step.rows[batch].get(0)).toBe(2);
    expect(step.fits(api, 0, 1)).toBe(true);
  });

  it('never goes below a victim’s guaranteed minimum, and undoes a partial eviction', () => {
    const { step, api, batch, floor } = setup(3);
    // Only one batch instance may go: not enough for 2 CPUs, so nothing is removed.
    expect(step.evictFor(api, 0, floor)).toBe(false);
    expect(step.rows[batch].get(0)).toBe(4);
    expect(step.used[0][0]).toBe(4000);
  });

  it('never evicts a workload of equal or higher priority', () => {
    const ctx = buildContext({
      steps: 1,
      stepHours: 1,
      pools: [hpool('only', 4, 16, 0.2, { maxNodes: 1 })],
      workloads: [hwork('api', 2000, 1024, [1], { priority: 0 }), hwork('batch', 1000, 1024, [4], { priority: 0 })],
    });
    const [api, batch] = [ctx.workloadIndex.get('api')!, ctx.workloadIndex.get('batch')!];
    const step = new StepPlacement(ctx, 0, Int32Array.of(1), undefined, new Int32Array(1));
    step.put(batch, 0, 4);
    expect(step.evictFor(api, 0, () => 0)).toBe(false);
    expect(step.rows[batch].get(0)).toBe(4);
  });
});

describe('decomposition under a tight budget (generated instances)', () => {
  // Found by a stress run: with every step's budget at 70% of the unconstrained plan's spend, the greedy
  // placement used to leave guaranteed minimums unplaced or a spread workload in one zone ("internal: plan breaks constraints").
  for (const seed of [2, 3]) {
    it(`seed ${seed}: keeps every guaranteed minimum and spread within the budget`, async () => {
      const base = generateInstance({ workloads: 250, seed, steps: 12 });
      const free = await optimizeHorizon(base, { method: 'decomposition' });
      const input = { ...base, budgetPerStep: free.allocations.map((a) => a.costPerHour * base.stepHours * 0.7) };
      const tight = await optimizeHorizon(input, { method: 'decomposition' });
      expect(checkPlan(tight.context, tight.plan)).toEqual([]);
      const shortfall = Object.values(tight.shortfall).reduce((sum, s) => sum + s.reduce((a, b) => a + b, 0), 0);
      expect(shortfall).toBeGreaterThan(0);
      expect(tight.cost.total).toBeLessThanOrEqual(free.cost.total);
      // Lower priorities give up a larger share of what they need (priorities 100, 50, 0).
      const share = (priority: number) => {
        let short = 0;
        let need = 0;
        tight.context.workloads.forEach((w, wi) => {
          if (w.priority !== priority) return;
          for (let t = 0; t < input.steps; t++) (short += tight.shortfall[w.name][t]), (need += tight.context.req[t][wi]);
        });
        return short / need;
      };
      expect(share(100)).toBeLessThan(0.01);
      expect(share(100)).toBeLessThan(share(50));
      expect(share(50)).toBeLessThan(share(0) / 3);
    });
  }
});
