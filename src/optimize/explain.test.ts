import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAllocationFile } from '../config/allocationFile.ts';
import { solveDecomposed } from './decompose.ts';
import { explainHorizon } from './explain.ts';
import { type HorizonInput, buildContext, checkPlan, evaluatePlan } from './horizon.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';
import { hpool, hwork } from './testFixtures.ts';
import { applyAlternative, whatIf } from './whatif.ts';

const GiB = 1024;

describe('explainHorizon', () => {
  it('says why a pci workload pays more, and prices one more instance as its share of a node', async () => {
    const input: HorizonInput = {
      steps: 1,
      stepHours: 1,
      workloads: [hwork('payments', 1000, 1 * GiB, [8], { tags: ['pci'] }), hwork('web', 1000, 1 * GiB, [8])],
      pools: [hpool('cheap', 4, 16, 0.2), hpool('secure', 4, 16, 0.4, { tags: ['pci'] })],
    };
    const result = await optimizeHorizon(input);
    const [payments, web] = await explainHorizon(result);
    expect(payments.pools).toEqual([{ pool: 'secure', instances: 8, costPerInstanceHour: 0.1, reason: 'cheapest eligible pool per instance' }]);
    expect(payments.passedOver).toEqual(["'cheap' (0.05/h per instance): does not offer tag pci"]);
    expect(payments.binding).toContain('tags pci: only 1 of 2 pools may run it');
    // One more 1-CPU instance on 4-CPU nodes at $0.40/h: a quarter node, $0.10 (LP price).
    expect(payments.marginalCostPerInstance![0]).toBeCloseTo(0.1, 9);
    expect(web.pools[0]).toMatchObject({ pool: 'cheap', instances: 8, reason: 'cheapest eligible pool per instance' });
    expect(web.marginalCostPerInstance![0]).toBeCloseTo(0.05, 9);
  });

  it('prices one more instance from the aggregated LP where the plan LP is too large, per resource', async () => {
    // Memory binds on 4-vCPU, 16-GiB nodes at $0.20/h: $0.0125 per GiB-hour.
    // 'six' and 'seven' (6 and 7 GiB per vCPU) share a class, whose CPU and
    // memory rows then price each at its own memory: $0.075 and $0.0875, as
    // the plan's own LP does; 'pci' pays a quarter of the $0.40 node.
    const input: HorizonInput = {
      steps: 1,
      stepHours: 1,
      workloads: [hwork('six', 1000, 6 * GiB, [8]), hwork('seven', 1000, 7 * GiB, [8]), hwork('pci', 1000, 1 * GiB, [8], { tags: ['pci'] })],
      pools: [hpool('cheap', 4, 16, 0.2), hpool('secure', 4, 16, 0.4, { tags: ['pci'] })],
    };
    const result = await optimizeHorizon(input, { method: 'decomposition' });
    expect(result.aggregateMarginalCost).toBeDefined();
    const fromPlan = await explainHorizon(result);
    const fromAggregate = await explainHorizon(result, { maxLpVariables: 0 });
    expect(fromPlan.map((e) => e.marginalFrom)).toEqual(['plan LP', 'plan LP', 'plan LP']);
    expect(fromAggregate.map((e) => e.marginalFrom)).toEqual(['aggregated LP', 'aggregated LP', 'aggregated LP']);
    const expected = { six: 0.075, seven: 0.0875, pci: 0.1 };
    for (const e of [...fromPlan, ...fromAggregate]) expect(e.marginalCostPerInstance![0]).toBeCloseTo(expected[e.workload as keyof typeof expected], 4);
    expect(fromAggregate.find((e) => e.workload === 'seven')!.text).toContain("one more instance at the peak would cost about 0.0875 (marginal price in the decomposition's aggregated LP, over one 1 h step)");
    // The exact model's result carries no aggregated prices.
    expect((await optimizeHorizon(input, { method: 'exact' })).aggregateMarginalCost).toBeUndefined();
  });

  it('names a maintenance window and a full pool as binding when a workload is short', async () => {
    const input: HorizonInput = {
      steps: 2,
      stepHours: 1,
      workloads: [hwork('batch', 1000, 1 * GiB, [8, 8], { priority: 0 }), hwork('api', 1000, 1 * GiB, [4, 4], { priority: 10 })],
      pools: [hpool('only', 4, 16, 0.2, { maxNodes: 3 })],
      maintenance: [{ name: 'rack-swap', pool: 'only', fromStep: 1, toStep: 2, nodesDown: 1 }],
    };
    const result = await optimizeHorizon(input);
    expect(result.shortfall).toEqual({ api: [0, 0], batch: [0, 4] });
    const [, batch] = await explainHorizon(result);
    expect(batch.workload).toBe('batch');
    expect(batch.binding).toContain("capacity: every pool it may use is at its quota at step 1 (maintenance 'rack-swap')");
    expect(batch.binding.some((b) => b.startsWith('contention: short by 4 instances at step 1'))).toBe(true);
    // With the pool full, one more instance can only come out of shortfall: its price is the shortfall penalty.
    expect(batch.marginalCostPerInstance![1]).toBeCloseTo(result.context.penalty[1][result.context.workloadIndex.get('batch')!], 6);
  });
});

describe('whatIf', () => {
  const base: HorizonInput = {
    steps: 4,
    stepHours: 1,
    workloads: [hwork('api', 1000, 1 * GiB, [8, 8, 4, 4], { priority: 10, minInstances: 2 }), hwork('batch', 1000, 1 * GiB, [4, 4, 4, 4])],
    pools: [hpool('a', 4, 16, 0.2, { provider: 'x', maxNodes: 3 }), hpool('b', 4, 16, 0.3, { provider: 'y', maxNodes: 1 })],
  };

  it('picks the cheapest maintenance slot that holds every SLO and reports the failing workloads of the others', async () => {
    const report = await whatIf(base, [
      { name: 'patch a at steps 0–1', maintenance: [{ name: 'patch', pool: 'a', fromStep: 0, toStep: 2, nodesDown: 1 }] },
      { name: 'patch a at steps 2–3', maintenance: [{ name: 'patch', pool: 'a', fromStep: 2, toStep: 4, nodesDown: 1 }] },
      { name: 'provider x outage at step 3', outage: { provider: 'x', fromStep: 3, toStep: 4 } },
      { name: 'y 50% dearer', priceChanges: [{ provider: 'y', factor: 1.5 }] },
    ]);
    expect(report.base.holdsSlos).toBe(true);
    // Base: 12 CPU at steps 0–1 fit in 3 nodes of a ($0.60); 8 CPU at steps 2–3 in 2 ($0.40).
    expect(report.base.cost).toBeCloseTo(0.6 * 2 + 0.4 * 2, 9);
    const [early, late, outage, dearer] = report.alternatives;
    // Early: only 2 a nodes + 1 b = 12 CPU at steps 0–1: holds, but b costs more.
    expect(early).toMatchObject({ holdsSlos: true, failures: [] });
    expect(early.cost).toBeCloseTo((0.4 + 0.3) * 2 + 0.4 * 2, 9);
    expect(late).toMatchObject({ holdsSlos: true });
    expect(late.cost).toBeCloseTo(0.6 * 2 + 0.4 * 2, 9);
    // Outage: only b (4 CPU) at step 3 for 8 instances: api keeps 4, batch loses all 4.
    expect(outage.holdsSlos).toBe(false);
    expect(outage.failures).toEqual([{ workload: 'batch', steps: [3], missingInstanceSteps: 4 }]);
    expect(dearer.holdsSlos).toBe(true);
    expect(report.best).toBe('patch a at steps 2–3');
  });

  it('applies price changes to one provider and an outage as full maintenance of its pools', () => {
    const changed = applyAlternative(base, { name: 'x', priceChanges: [{ provider: 'x', factor: 2 }], outage: { provider: 'y', fromStep: 1, toStep: 2 } });
    expect(changed.pools.map((p) => p.costPerHour)).toEqual([0.4, 0.3]);
    expect(changed.maintenance).toEqual([{ name: 'x: y outage', pool: 'b', fromStep: 1, toStep: 2 }]);
  });
});

describe('starts for time-limited exact solves (bundled example: 11 services, 8 pools, 24 steps)', () => {
  const example = loadAllocationFile(resolve(import.meta.dirname, '../../examples/allocation.yaml'));
  // The decomposition without its aggregated MIP is deterministic (LP and rounding), so the test can recompute it.
  const options = { method: 'exact' as const, timeLimitSeconds: 3, aggregateMip: false };

  it('the exact model starts from the decomposition and never answers worse than it', async () => {
    const ctx = buildContext(example.input);
    const decomposed = (await solveDecomposed(ctx, { aggregateMip: false }))!;
    expect(checkPlan(ctx, decomposed.plan)).toEqual([]);
    const exact = await optimizeHorizon(example.input, options);
    expect(exact.method).toBe('exact');
    expect(exact.cost.objective).toBeLessThanOrEqual(evaluatePlan(ctx, decomposed.plan).objective + 1e-9);
    // The bound is the better of the two proofs, and still below the answer.
    expect(exact.lowerBound).toBeGreaterThanOrEqual(decomposed.lowerBound - 1e-9);
    expect(exact.lowerBound).toBeLessThanOrEqual(exact.cost.objective);
  });

  it('what-if reuses the solved base and starts each alternative from the base plan where it still holds', async () => {
    const solved = await optimizeHorizon(example.input, options);
    const dearer = { name: 'aws 30% dearer', priceChanges: [{ provider: 'aws', factor: 1.3 }] };
    const report = await whatIf(example.input, [dearer], options, solved);
    expect(report.base.cost).toBe(solved.cost.total);
    // The base plan meets every constraint of a price change, so the answer is at most the base plan at the new prices.
    const ctx = buildContext(applyAlternative(example.input, dearer));
    expect(report.alternatives[0].cost!).toBeLessThanOrEqual(evaluatePlan(ctx, solved.plan).total + 1e-9);
    expect(report.alternatives[0].gap).toBeGreaterThanOrEqual(0);
  });
});
