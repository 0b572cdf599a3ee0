import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAllocationFile } from '../config/allocationFile.ts';
import { InfeasibleError } from '../core/errors.ts';
import { lcg } from '../forecast/testData.ts';
import { lpWindows, unavoidableStarts } from './aggregateModel.ts';
import { solveDecomposed } from './decompose.ts';
import type { HorizonInput, HorizonPool, HorizonWorkload } from './horizon.ts';
import { buildContext, checkPlan } from './horizon.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';
import { hpool, hwork } from './testFixtures.ts';
import { applyAlternative } from './whatif.ts';

/** Random small multi-step instances: 2 providers × 2 zones, 2 node shapes, tags, reservations, churn, spread. */

/** Lets the test runner's messages through between long synchronous (WebAssembly) solves. */
const yieldToRunner = () => new Promise((resolve) => setTimeout(resolve, 0));
function randomInstance(seed: number, workloads = 3, steps = 2): HorizonInput {
  const rand = lcg(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)];
  const pools: HorizonPool[] = [];
  for (const provider of ['x', 'y']) {
    for (const zone of ['a', 'b']) {
      for (const [cpu, mem, price] of [
        [4, 8, 0.17],
        [8, 64, 0.5],
      ] as const) {
        pools.push(
          hpool(`${provider}-${zone}-${cpu}x${mem}`, cpu, mem, price * (provider === 'y' ? 0.9 + 0.2 * rand() : 1), {
            provider,
            zone,
            maxNodes: 6,
            tags: provider === 'x' ? ['pci'] : [],
            ...(rand() < 0.5 ? { reservedCostPerHour: price * 0.6 } : {}),
          }),
        );
      }
    }
  }
  const ws: HorizonWorkload[] = Array.from({ length: workloads }, (_, i) => {
    const base = 1 + Math.floor(rand() * 6);
    return hwork(`w${i}`, pick([250, 500, 1000, 2000]), pick([512, 1024, 4096, 8192]), Array.from({ length: steps }, () => Math.max(1, base + Math.floor(rand() * 3) - 1)), {
      tags: rand() < 0.3 ? ['pci'] : [],
      priority: pick([0, 1]),
      ...(rand() < 0.3 && base >= 3 ? { spread: { domain: 'zone' as const, survivingInstances: 1 } } : {}),
    });
  });
  return { steps, stepHours: 1, workloads: ws, pools, costs: { churnPerNode: 0.01, migrationPerInstance: 0.001 } };
}

describe('decomposition: lower bound and gap against the exact optimum', () => {
  it('lower bound ≤ exact optimum ≤ decomposition cost, gap = (cost − bound) / cost', async () => {
    for (let seed = 1; seed <= 5; seed++) {
      await yieldToRunner();
      const input = randomInstance(seed);
      // The exact MIP brackets the optimum: lowerBound ≤ optimum ≤ objective, within 0.1%.
      const exact = await optimizeHorizon(input, { method: 'exact', mipRelGap: 1e-3 });
      expect(exact.lowerBound).toBeLessThanOrEqual(exact.cost.objective + 1e-9);
      expect(exact.gap).toBeLessThanOrEqual(1e-3 + 1e-9);
      await yieldToRunner();
      const dec = await optimizeHorizon(input, { method: 'decomposition' });
      expect(dec.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(exact.cost.objective * (1 + 1e-6) + 1e-6);
      expect(dec.cost.objective, `seed ${seed}`).toBeGreaterThanOrEqual(exact.lowerBound * (1 - 1e-6) - 1e-6);
      expect(dec.gap).toBeCloseTo((dec.cost.objective - dec.lowerBound) / dec.cost.objective, 12);
    }
  });

  it('both methods agree on a hand-solved instance and the decomposition finds the optimum', async () => {
    // 20 × (1 CPU, 4 GiB) → 1 large + 1 small = $0.90 per step, 2 steps.
    const input: HorizonInput = { steps: 2, stepHours: 1, workloads: [hwork('web', 1000, 4096, [20, 20])], pools: [hpool('small', 4, 16, 0.2), hpool('large', 16, 64, 0.7)] };
    const dec = await optimizeHorizon(input, { method: 'decomposition' });
    expect(dec.cost.total).toBeCloseTo(1.8, 9);
    expect(dec.lowerBound).toBeLessThanOrEqual(1.8 + 1e-9);
    expect(dec.lowerBound).toBeGreaterThan(1.5); // the LP relaxation: 20 CPU at $0.04375 per CPU = $0.875 per step
  });
});

describe('compliance tags are never violated (property over random instances)', () => {
  it('every instance of a tagged workload runs in a pool offering all its tags, with both methods', async () => {
    let placements = 0;
    for (let seed = 100; seed < 105; seed++) {
      const input = randomInstance(seed, 6, 2);
      for (const method of ['exact', 'decomposition'] as const) {
        await yieldToRunner();
        let r;
        try {
          // Any feasible plan must respect tags, so the exact solve need not prove optimality.
          r = await optimizeHorizon(input, { method, mipRelGap: 0.01, timeLimitSeconds: 5 });
        } catch (e) {
          if (e instanceof InfeasibleError) continue;
          throw e;
        }
        for (const allocation of r.allocations) {
          for (const w of input.workloads) {
            for (const [poolName, n] of Object.entries(allocation.instances[w.name])) {
              const pool = input.pools.find((p) => p.name === poolName)!;
              expect(w.tags.every((t) => pool.tags.includes(t)), `${method} seed ${seed}: '${w.name}' in '${poolName}'`).toBe(true);
              if (w.tags.length) placements += n;
            }
          }
        }
      }
    }
    expect(placements).toBeGreaterThan(10);
  });
});

describe('decomposition: hard constraints', () => {
  it('zone spread holds after disaggregation: losing any zone leaves the surviving count', async () => {
    const pools = ['a', 'b', 'c'].map((z, i) => hpool(`p-${z}`, 4, 16, 0.2 + 0.05 * i, { zone: z }));
    const input: HorizonInput = { steps: 2, stepHours: 1, workloads: [hwork('api', 1000, 1024, [6, 9], { spread: { domain: 'zone', survivingInstances: 4 } })], pools };
    const r = await optimizeHorizon(input, { method: 'decomposition' });
    r.allocations.forEach((a, t) => {
      const counts = Object.values(a.instances.api);
      const total = counts.reduce((x, y) => x + y, 0);
      expect(total).toBe(input.workloads[0].instances[t]);
      expect(counts.length).toBeGreaterThanOrEqual(2);
      for (const c of counts) expect(total - c).toBeGreaterThanOrEqual(4);
    });
  });

  it('maintenance: no nodes in a pool while it is down', async () => {
    const pools = [hpool('cheap', 4, 16, 0.1), hpool('dear', 4, 16, 0.3)];
    const input: HorizonInput = {
      steps: 3,
      stepHours: 1,
      workloads: [hwork('w', 1000, 1024, [8, 8, 8])],
      pools,
      maintenance: [{ name: 'patch', pool: 'cheap', fromStep: 1, toStep: 2 }],
    };
    const r = await optimizeHorizon(input, { method: 'decomposition' });
    expect(r.allocations.map((a) => a.nodesByPool)).toEqual([
      { cheap: 2, dear: 0 },
      { cheap: 0, dear: 2 },
      { cheap: 2, dear: 0 },
    ]);
  });
});

describe('decomposition: pool floors', () => {
  it('an open pool keeps its minNodes through a maintenance window that leaves room for them (bundled example, with traffic)', async () => {
    // Failed before: trimming a step to what its placements need took the data
    // centre below its floor of 2 while two of its six servers were down.
    const example = loadAllocationFile(resolve(import.meta.dirname, '../../examples/allocation.yaml'));
    const traffic = [
      { from: 'frontend', to: 'productcatalogservice', gibPerHour: 40 },
      { from: 'frontend', to: 'currencyservice', gibPerHour: 25 },
      { from: 'frontend', to: 'cartservice', gibPerHour: 10 },
      { from: 'cartservice', to: 'redis-cart', gibPerHour: 12 },
      { from: 'checkoutservice', to: 'paymentservice', gibPerHour: 2 },
    ];
    const input = applyAlternative(
      { ...example.input, traffic, costs: { ...example.input.costs, crossZonePerGiB: 0.01, crossProviderPerGiB: 0.08 } },
      { name: 'firmware', maintenance: [{ name: 'dc-firmware', pool: 'dc-fra-rack', fromStep: 2, toStep: 5, nodesDown: 2 }] },
    );
    const ctx = buildContext(input);
    const solved = (await solveDecomposed(ctx, {}))!;
    expect(checkPlan(ctx, solved.plan)).toEqual([]);
    const dc = ctx.pools.findIndex((p) => p.name === 'dc-fra-rack');
    solved.plan.nodes.forEach((n, t) => {
      if (solved.plan.open[t][dc]) expect(n[dc]).toBeGreaterThanOrEqual(2);
    });
  });
});

describe('start bound: instance starts every plan must make', () => {
  it('counts growth against the running instances, by hand', () => {
    const pools = [hpool('p', 4, 16, 0.2), hpool('q', 4, 16, 0.25)];
    const input: HorizonInput = {
      steps: 4,
      stepHours: 1,
      // a: 2 running now → needs 3, 1, 4, 4: starts 1 + 0 + 3 + 0 = 4. b: none running → 2, 2, 5, 1: 2 + 0 + 3 + 0 = 5.
      workloads: [hwork('a', 500, 512, [3, 1, 4, 4]), hwork('b', 500, 512, [2, 2, 5, 1])],
      pools,
      current: { nodesByPool: { p: 1 }, instances: { a: { p: 1, q: 1, gone: 7 } }, costPerHour: 0.2, shortfall: {} },
    };
    expect(unavoidableStarts(buildContext(input))).toBe(9);
  });

  it('with a dear migration price the bound stays ≤ the exact optimum and rises by the starts', async () => {
    let raised = 0;
    for (let seed = 21; seed <= 24; seed++) {
      await yieldToRunner();
      const base = randomInstance(seed, 3, 3);
      const input: HorizonInput = { ...base, costs: { churnPerNode: 0.01, migrationPerInstance: 0.05 } };
      const exact = await optimizeHorizon(input, { method: 'exact', mipRelGap: 1e-4 });
      await yieldToRunner();
      const dec = await optimizeHorizon(input, { method: 'decomposition' });
      expect(dec.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(exact.cost.objective * (1 + 1e-6) + 1e-6);
      // Every instance starts at step 0 (nothing runs now): the exact plan pays at least that.
      const starts = unavoidableStarts(buildContext(input));
      expect(exact.cost.migration).toBeGreaterThanOrEqual(starts * 0.05 - 1e-9);
      // Against the same instance without a migration price, the bound rises by the starts' price (no shortfall here).
      const plain = await optimizeHorizon({ ...base, costs: { churnPerNode: 0.01 } }, { method: 'decomposition' });
      if (exact.cost.shortfallPenalty === 0) {
        expect(dec.lowerBound - plain.lowerBound, `seed ${seed}`).toBeCloseTo(starts * 0.05, 6);
        raised++;
      }
    }
    expect(raised).toBeGreaterThan(0);
  });
});

describe('decomposition under contention (classes keep priorities apart)', () => {
  it('with a budget that forces shortfall, bound ≤ exact optimum ≤ decomposition objective', async () => {
    let short = 0;
    for (let seed = 41; seed <= 43; seed++) {
      await yieldToRunner();
      const base = randomInstance(seed, 4, 2);
      // Half of what the demand needs at the cheapest price per CPU: some instances must go short.
      const cpuNeeded = base.workloads.reduce((sum, w) => sum + (Math.max(...w.instances) * w.perInstance.cpuMillicores) / 1000, 0);
      const input: HorizonInput = { ...base, budgetPerStep: 0.5 * cpuNeeded * 0.0425, workloads: base.workloads.map((w) => ({ ...w, minInstances: 0, spread: undefined })) };
      const exact = await optimizeHorizon(input, { method: 'exact', mipRelGap: 1e-4 });
      await yieldToRunner();
      const dec = await optimizeHorizon(input, { method: 'decomposition' });
      expect(dec.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(exact.cost.objective * (1 + 1e-6) + 1e-6);
      expect(dec.cost.objective, `seed ${seed}`).toBeGreaterThanOrEqual(exact.lowerBound * (1 - 1e-6) - 1e-6);
      if (exact.cost.shortfallPenalty > 0) short++;
    }
    expect(short).toBeGreaterThan(0);
  });
});

describe('group-move bound (moveWeight)', () => {
  it('with any weight λ the bound stays ≤ the exact optimum and the plan ≥ the exact bound', async () => {
    for (let seed = 61; seed <= 64; seed++) {
      await yieldToRunner();
      const base = randomInstance(seed, 3, 3);
      // A dear migration price so that the migration part of the bound matters.
      const input: HorizonInput = { ...base, costs: { churnPerNode: 0.01, migrationPerInstance: 0.05 } };
      const exact = await optimizeHorizon(input, { method: 'exact', mipRelGap: 1e-4 });
      const bounds: number[] = [];
      for (const moveWeight of [0, 0.5, 1]) {
        await yieldToRunner();
        const dec = await optimizeHorizon(input, { method: 'decomposition', moveWeight });
        expect(dec.lowerBound, `seed ${seed} λ ${moveWeight}`).toBeLessThanOrEqual(exact.cost.objective * (1 + 1e-6) + 1e-6);
        expect(dec.cost.objective, `seed ${seed} λ ${moveWeight}`).toBeGreaterThanOrEqual(exact.lowerBound * (1 - 1e-6) - 1e-6);
        bounds.push(dec.lowerBound);
      }
    }
  });

  it('a large LP tie-break (0.05 $ per vCPU-step) still leaves a valid bound: its most is subtracted', async () => {
    for (let seed = 71; seed <= 73; seed++) {
      await yieldToRunner();
      const input = randomInstance(seed, 3, 2);
      const exact = await optimizeHorizon(input, { method: 'exact', mipRelGap: 1e-4 });
      const plain = await optimizeHorizon(input, { method: 'decomposition', tieBreak: 0 });
      const tilted = await optimizeHorizon(input, { method: 'decomposition', tieBreak: 0.05 });
      expect(tilted.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(exact.cost.objective * (1 + 1e-6) + 1e-6);
      expect(tilted.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(plain.lowerBound + 1e-9);
    }
  });

  it('both roundings of the LP nodes (per group, per pool) give valid plans ≥ the exact bound', async () => {
    for (let seed = 81; seed <= 83; seed++) {
      await yieldToRunner();
      const input = randomInstance(seed, 5, 2);
      const exact = await optimizeHorizon(input, { method: 'exact', mipRelGap: 1e-4 });
      for (const rounding of ['group', 'pool'] as const) {
        // No aggregated MIP, so the LP's fractional nodes are rounded (optimizeHorizon checks every hard constraint).
        const dec = await optimizeHorizon(input, { method: 'decomposition', aggregateMip: false, rounding });
        expect(dec.cost.objective, `seed ${seed} ${rounding}`).toBeGreaterThanOrEqual(exact.lowerBound * (1 - 1e-6) - 1e-6);
        expect(dec.lowerBound, `seed ${seed} ${rounding}`).toBeLessThanOrEqual(exact.cost.objective * (1 + 1e-6) + 1e-6);
      }
    }
  });

  it('counts a forced change of provider the start bound cannot see (by hand)', async () => {
    // One instance at both steps; provider x is down at step 1, provider y at step 0:
    // every plan starts it twice (at 0 in x, at 1 in y). Start bound: 1 start; group moves: 2.
    const input: HorizonInput = {
      steps: 2,
      stepHours: 1,
      workloads: [hwork('w', 1000, 1024, [1, 1])],
      pools: [hpool('x', 4, 16, 0.2, { provider: 'x' }), hpool('y', 4, 16, 0.2, { provider: 'y' })],
      maintenance: [
        { name: 'x-down', pool: 'x', fromStep: 1, toStep: 2 },
        { name: 'y-down', pool: 'y', fromStep: 0, toStep: 1 },
      ],
      costs: { migrationPerInstance: 1 },
    };
    const exact = await optimizeHorizon(input, { method: 'exact' });
    expect(exact.cost.total).toBeCloseTo(0.2 + 0.2 + 2, 9);
    const startOnly = await optimizeHorizon(input, { method: 'decomposition', moveWeight: 0 });
    const moves = await optimizeHorizon(input, { method: 'decomposition', moveWeight: 1 });
    expect(moves.lowerBound).toBeLessThanOrEqual(exact.cost.total + 1e-9);
    expect(moves.lowerBound - startOnly.lowerBound).toBeCloseTo(1, 6);
  });
});

describe('decomposition: aggregated LP in windows on long horizons', () => {
  it('cuts the steps into even windows', () => {
    expect(lpWindows(168, 24)).toEqual(Array.from({ length: 7 }, (_, i) => [24 * i, 24 * (i + 1)]));
    expect(lpWindows(100, 24)).toEqual([
      [0, 20],
      [20, 40],
      [40, 60],
      [60, 80],
      [80, 100],
    ]);
    expect(lpWindows(24, 24)).toEqual([[0, 24]]);
    expect(lpWindows(10, 0)).toEqual([[0, 10]]);
  });

  it('a window pays nothing for change into its first step: the bound falls by exactly the churn there', async () => {
    // 1 CPU / 4 GiB instances, demand 8, 8, 4, 4 on 4-CPU nodes at $0.20: the
    // LP runs 2, 2, 1, 1 nodes ($1.20), adds 2 (churn 0.10) and drops 1 at
    // step 2 (0.05). In two windows of two steps that drop opens the second.
    const input: HorizonInput = { steps: 4, stepHours: 1, workloads: [hwork('web', 1000, 4096, [8, 8, 4, 4])], pools: [hpool('small', 4, 16, 0.2)], costs: { churnPerNode: 0.05 } };
    const ctx = buildContext(input);
    const one = (await solveDecomposed(ctx, { lpWindowSteps: 0 }))!;
    const two = (await solveDecomposed(ctx, { lpWindowSteps: 2 }))!;
    expect(one.aggregate.windows).toBe(1);
    expect(two.aggregate.windows).toBe(2);
    expect(one.lowerBound).toBeCloseTo(1.35, 6);
    expect(one.lowerBound - two.lowerBound).toBeCloseTo(0.05, 9);
    // The plan is the horizon's, whatever the windows: 2, 2, 1, 1 nodes and every change paid.
    expect(two.plan.nodes.map((n) => n[0])).toEqual([2, 2, 1, 1]);
    expect(checkPlan(ctx, two.plan)).toEqual([]);
  });

  it('on random instances the windows bound the exact optimum and the one-LP bound from below, and the plan holds', async () => {
    for (let seed = 1; seed <= 4; seed++) {
      await yieldToRunner();
      const input = randomInstance(seed, 3, 6);
      const ctx = buildContext(input);
      const exact = await optimizeHorizon(input, { method: 'exact', mipRelGap: 1e-3 });
      // Against the one LP's bound (these tiny models would also get the aggregated MIP's, which windows skip).
      const one = (await solveDecomposed(ctx, { lpWindowSteps: 0, aggregateMip: false }))!;
      const windowed = (await solveDecomposed(ctx, { lpWindowSteps: 2 }))!;
      expect(windowed.aggregate.windows).toBe(3);
      expect(windowed.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(one.lowerBound + 1e-9);
      expect(windowed.lowerBound, `seed ${seed}`).toBeLessThanOrEqual(exact.cost.objective * (1 + 1e-6) + 1e-6);
      expect(windowed.lowerBound, `seed ${seed}`).toBeGreaterThan(0.8 * one.lowerBound);
      expect(checkPlan(ctx, windowed.plan), `seed ${seed}`).toEqual([]);
      // One marginal price per step, from the step's own window.
      expect(windowed.marginalCostPerInstance).toHaveLength(6);
    }
  });

  it('solved at once in worker threads, the windows give the plan and bound they give one after another', async () => {
    for (const seed of [1, 2]) {
      const ctx = buildContext(randomInstance(seed, 3, 6));
      const serial = (await solveDecomposed(ctx, { lpWindowSteps: 2, lpWorkers: 1 }))!;
      const parallel = (await solveDecomposed(ctx, { lpWindowSteps: 2, lpWorkers: 2 }))!;
      expect(parallel.lowerBound, `seed ${seed}`).toBe(serial.lowerBound);
      expect(parallel.plan, `seed ${seed}`).toEqual(serial.plan);
      expect(parallel.marginalCostPerInstance, `seed ${seed}`).toEqual(serial.marginalCostPerInstance);
    }
  });

  it('is the default only on horizons longer than 96 steps', async () => {
    const input = (steps: number): HorizonInput => ({ steps, stepHours: 1, workloads: [hwork('web', 1000, 4096, Array.from({ length: steps }, (_, t) => 4 + (t % 24 < 12 ? 4 : 0)))], pools: [hpool('small', 4, 16, 0.2)] });
    expect((await solveDecomposed(buildContext(input(96))))!.aggregate.windows).toBe(1);
    expect((await solveDecomposed(buildContext(input(168))))!.aggregate.windows).toBe(7);
  });
});
