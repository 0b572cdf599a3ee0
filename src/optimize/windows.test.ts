import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAllocationFile } from '../config/allocationFile.ts';
import { solveDecomposed } from './decompose.ts';
import { type HorizonInput, type HorizonPlan, buildContext, checkPlan, evaluatePlan } from './horizon.ts';
import { buildHorizonModel } from './horizonModel.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';
import { hpool, hwork } from './testFixtures.ts';
import { improveByPoolGroups, improveByWindows } from './windows.ts';
import { generateInstance } from '../../bench/instances.ts';

const GiB = 1024;

describe('fix-and-optimize over time windows', () => {
  /**
   * One workload of 1-vCPU instances, 4, 4, 8, 8, 4, 4 over six steps, on
   * 4-vCPU nodes at $0.20/h (`a`) or $0.30/h (`b`), no churn or start price:
   * the optimum is 1, 1, 2, 2, 1, 1 nodes of `a` = 8 node-hours = $1.60.
   */
  const input: HorizonInput = {
    steps: 6,
    stepHours: 1,
    workloads: [hwork('w', 1000, 1 * GiB, [4, 4, 8, 8, 4, 4])],
    pools: [hpool('a', 4, 16, 0.2), hpool('b', 4, 16, 0.3)],
    costs: { churnPerNode: 0, migrationPerInstance: 0 },
  };

  it('recovers the hand-solved optimum from a wasteful plan, and never keeps a worse one', async () => {
    const ctx = buildContext(input);
    // Wasteful but valid: everything on the dearer pool, with an idle node every step.
    const wasteful: HorizonPlan = {
      nodes: ctx.req.map((r) => Int32Array.from([0, r[0] / 4 + 1])),
      open: ctx.req.map(() => [true, true]),
      reserved: new Int32Array(2),
      placement: ctx.req.map((r) => [new Map([[1, r[0]]])]),
    };
    expect(checkPlan(ctx, wasteful)).toEqual([]);
    expect(evaluatePlan(ctx, wasteful).objective).toBeCloseTo(0.3 * (2 + 2 + 3 + 3 + 2 + 2), 9);
    const result = await improveByWindows(ctx, buildHorizonModel(ctx), wasteful, { deadline: performance.now() + 60_000, windowSteps: 2, strideSteps: 2 });
    expect(checkPlan(ctx, result.plan)).toEqual([]);
    expect(evaluatePlan(ctx, result.plan).objective).toBeCloseTo(1.6, 9);
    expect([...result.plan.nodes.map((n) => [...n])]).toEqual([
      [1, 0],
      [1, 0],
      [2, 0],
      [2, 0],
      [1, 0],
      [1, 0],
    ]);
    // Three disjoint windows each improved once; the second sweep finds nothing.
    expect(result.improved).toBe(3);
    expect(result.windows).toBe(6);
  });

  it('stops at the deadline with the plan it was given', async () => {
    const ctx = buildContext(input);
    const optimum = (await optimizeHorizon(input)).plan;
    const result = await improveByWindows(ctx, buildHorizonModel(ctx), optimum, { deadline: performance.now() - 1 });
    expect(result).toEqual({ plan: optimum, windows: 0, improved: 0 });
  });

  it('improves the decomposition plan of the bundled example (11 services, 8 pools, 24 steps)', async () => {
    const ctx = buildContext(loadAllocationFile(resolve(import.meta.dirname, '../../examples/allocation.yaml')).input);
    const start = (await solveDecomposed(ctx, { aggregateMip: false }))!.plan;
    const result = await improveByWindows(ctx, buildHorizonModel(ctx), start, { deadline: performance.now() + 12_000 });
    expect(checkPlan(ctx, result.plan)).toEqual([]);
    expect(result.improved).toBeGreaterThan(0);
    expect(evaluatePlan(ctx, result.plan).objective).toBeLessThan(evaluatePlan(ctx, start).objective);
  });
});

describe('fix-and-optimize over pool groups', () => {
  /**
   * Three workloads of four 1-vCPU instances, one step; three 4-vCPU pools,
   * each its own pool group (its own provider): `a` at $0.20/h, `b` and `c`
   * at $0.30/h. The optimum puts all twelve instances on three nodes of `a`:
   * $0.60. The start gives each workload its own pool: $0.80.
   */
  const input: HorizonInput = {
    steps: 1,
    stepHours: 1,
    workloads: ['w1', 'w2', 'w3'].map((name) => hwork(name, 1000, 1 * GiB, [4])),
    pools: [hpool('a', 4, 16, 0.2, { provider: 'pa' }), hpool('b', 4, 16, 0.3, { provider: 'pb' }), hpool('c', 4, 16, 0.3, { provider: 'pc' })],
    costs: { churnPerNode: 0, migrationPerInstance: 0 },
  };
  const spreadOut = (ctx: ReturnType<typeof buildContext>): HorizonPlan => ({
    nodes: [Int32Array.from([1, 1, 1])],
    open: [[true, true, true]],
    reserved: new Int32Array(3),
    placement: [ctx.workloads.map((_, wi) => new Map([[wi, 4]]))],
  });

  it('reaches the hand-solved optimum two groups at a time', async () => {
    const ctx = buildContext(input);
    const start = spreadOut(ctx);
    expect(checkPlan(ctx, start)).toEqual([]);
    expect(evaluatePlan(ctx, start).objective).toBeCloseTo(0.8, 9);
    const result = await improveByPoolGroups(ctx, buildHorizonModel(ctx), start, { deadline: performance.now() + 60_000, groups: 2 });
    expect(checkPlan(ctx, result.plan)).toEqual([]);
    expect(evaluatePlan(ctx, result.plan).objective).toBeCloseTo(0.6, 9);
    expect([...result.plan.nodes[0]]).toEqual([3, 0, 0]);
    // Two groups in a neighbourhood cannot take all three workloads to `a` at once: at least two gains.
    expect(result.improved).toBeGreaterThanOrEqual(2);
    // It stops once the groups in use fit one neighbourhood and that gains nothing, long before the deadline.
    expect(result.windows).toBeLessThan(20);
  });

  it('stops at the deadline with the plan it was given', async () => {
    const ctx = buildContext(input);
    const start = spreadOut(ctx);
    const result = await improveByPoolGroups(ctx, buildHorizonModel(ctx), start, { deadline: performance.now() - 1 });
    expect(result).toEqual({ plan: start, windows: 0, improved: 0 });
  });

  it('on an exact solve past `exactLimit`, returns a valid plan no dearer than the decomposition', async () => {
    // 60 generated workloads, 150 pools, one step: ~6,000 placement variables, past an `exactLimit` of 1,000.
    const generated = generateInstance({ workloads: 60, seed: 3, steps: 1 });
    const decomposed = await optimizeHorizon(generated, { method: 'decomposition' });
    const exact = await optimizeHorizon(generated, { method: 'exact', exactLimit: 1000, timeLimitSeconds: 20 });
    expect(exact.method).toBe('exact');
    expect(checkPlan(exact.context, exact.plan)).toEqual([]);
    expect(exact.cost.objective).toBeLessThanOrEqual(decomposed.cost.objective + 1e-9);
    expect(exact.lowerBound).toBeLessThanOrEqual(exact.cost.objective + 1e-9);
  }, 120_000);
});
