import { describe, expect, it } from 'vitest';
import { generateInstance } from '../../bench/instances.ts';
import { lcg } from '../forecast/testData.ts';
import { buildContext, checkPlan, type HorizonInput, type HorizonPool, type HorizonWorkload } from './horizon.ts';
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

describe('small tight instances: a decomposition that breaks a hard constraint gives way to the exact model', () => {
  /** Random 8-workload, 8-pool, 3-step instances with quotas, tags, reservations, minimums, zone/provider spread and often a budget. */
  function tightInstance(seed: number): HorizonInput {
    const rand = lcg(seed);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
    const pools: HorizonPool[] = [];
    for (const provider of ['x', 'y'])
      for (const zone of ['a', 'b'])
        for (const [cpu, mem, price] of [
          [4, 8, 0.17],
          [8, 64, 0.5],
        ] as const)
          pools.push(hpool(`${provider}-${zone}-${cpu}x${mem}`, cpu, mem, price * (provider === 'y' ? 0.9 + 0.2 * rand() : 1), { provider, zone, maxNodes: 1 + Math.floor(rand() * 4), tags: provider === 'x' ? ['pci'] : [], ...(rand() < 0.5 ? { reservedCostPerHour: price * 0.6 } : {}) }));
    const workloads: HorizonWorkload[] = Array.from({ length: 8 }, (_, i) => {
      const base = 1 + Math.floor(rand() * 6);
      return hwork(`w${i}`, pick([250, 500, 1000, 2000]), pick([512, 1024, 4096, 8192]), Array.from({ length: 3 }, () => Math.max(1, base + Math.floor(rand() * 3) - 1)), {
        tags: rand() < 0.3 ? ['pci'] : [],
        priority: pick([0, 1, 2]),
        minInstances: rand() < 0.4 ? 1 : 0,
        ...(rand() < 0.3 && base >= 3 ? { spread: { domain: pick(['zone', 'provider'] as const), survivingInstances: 1 } } : {}),
      });
    });
    return { steps: 3, stepHours: 1, workloads, pools, costs: { churnPerNode: 0.01, migrationPerInstance: 0.001 }, ...(rand() < 0.5 ? { budgetPerStep: 0.6 + rand() } : {}) };
  }

  // Seeds whose greedy placement, within a budget that leaves no node to spare, broke a zone spread or a guarantee.
  for (const seed of [26, 28]) {
    it(`seed ${seed}: a valid plan, and the bound stays below the exact optimum`, async () => {
      const input = tightInstance(seed);
      const exact = await optimizeHorizon(input, { method: 'exact' });
      const result = await optimizeHorizon(input, { method: 'decomposition' });
      expect(checkPlan(result.context, result.plan)).toEqual([]);
      expect(result.lowerBound).toBeLessThanOrEqual(exact.cost.objective * (1 + 1e-6) + 1e-6);
      expect(result.cost.objective).toBeGreaterThanOrEqual(exact.lowerBound * (1 - 1e-6) - 1e-6);
    });
  }
});
