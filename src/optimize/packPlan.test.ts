import { describe, expect, it } from 'vitest';
import { type HorizonInput, type HorizonPlan, buildContext, checkPlan, evaluatePlan } from './horizon.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';
import { packPlan } from './packPlan.ts';
import { hpool, hwork } from './testFixtures.ts';

const GiB = 1024;

/**
 * Three workloads of one 2.5-vCPU instance each on 4-vCPU nodes at $0.10/h:
 * 7.5 vCPU fit two nodes in aggregate, and each workload's own packing cut
 * (one instance per node) allows two, but no node holds two of them: node by
 * node they need three.
 */
const input = (extra: Partial<HorizonInput> = {}, pool = {}): HorizonInput => ({
  steps: 1,
  stepHours: 1,
  workloads: ['a', 'b', 'c'].map((n) => hwork(n, 2500, 1 * GiB, [1])),
  pools: [hpool('p', 4, 16, 0.1, pool)],
  costs: { churnPerNode: 0, migrationPerInstance: 0 },
  ...extra,
});
const twoNodes = (): HorizonPlan => ({ nodes: [Int32Array.from([2])], open: [[true]], reserved: new Int32Array(2), placement: [[0, 1, 2].map(() => new Map([[0, 1]]))] });

describe('packPlan', () => {
  it('raises a pool to the nodes packing needs and costs them', () => {
    const ctx = buildContext(input());
    expect(checkPlan(ctx, twoNodes())).toEqual([]);
    const packed = packPlan(ctx, twoNodes());
    expect([...packed.plan.nodes[0]]).toEqual([3]);
    expect(packed.addedNodeSteps).toBe(1);
    expect(packed.blocked).toEqual([]);
    expect(checkPlan(ctx, packed.plan)).toEqual([]);
    expect(evaluatePlan(ctx, packed.plan).total).toBeCloseTo(0.3, 12);
  });

  it("stops at the pool's available nodes and says so", () => {
    const ctx = buildContext(input({}, { maxNodes: 2 }));
    const packed = packPlan(ctx, twoNodes());
    expect([...packed.plan.nodes[0]]).toEqual([2]);
    expect(packed.addedNodeSteps).toBe(0);
    expect(packed.blocked).toEqual([
      { step: 0, pool: 'p', nodesNeeded: 3, nodesAllowed: 2, reason: "pool 'p' may run 2 node(s) at step 0 and no other pool takes its last 1 instance(s)" },
    ]);
    expect(packed.plan.placement[0].map((row) => [...row])).toEqual([[[0, 1]], [[0, 1]], [[0, 1]]]);
  });

  it('moves what a full pool cannot hold to the next cheapest pool it may use', () => {
    // p may run 2 nodes; q ($0.15/h, same shape) takes the third instance.
    const ctx = buildContext(input({}, { maxNodes: 2 }));
    const withQ = buildContext({ ...ctx.input, pools: [...ctx.input.pools, hpool('q', 4, 16, 0.15)] });
    const plan: HorizonPlan = { ...twoNodes(), nodes: [Int32Array.from([2, 0])], open: [[true, true]] };
    const packed = packPlan(withQ, plan);
    expect([...packed.plan.nodes[0]]).toEqual([2, 1]);
    expect(packed).toMatchObject({ addedNodeSteps: 1, movedInstances: 1, blocked: [] });
    expect(packed.plan.placement[0].reduce((sum, row) => sum + (row.get(1) ?? 0), 0)).toBe(1);
    expect(checkPlan(withQ, packed.plan)).toEqual([]);
    expect(evaluatePlan(withQ, packed.plan).total).toBeCloseTo(0.2 + 0.15, 12);
  });

  it('moves an instance into room another pool already has before it buys a node', () => {
    // q's one node runs a 1-vCPU instance of d and has 3 vCPU free: the third 2.5-vCPU instance fits there.
    const base = input();
    const ctx = buildContext({ ...base, workloads: [...base.workloads, hwork('d', 1000, 1 * GiB, [1])], pools: [...base.pools, hpool('q', 4, 16, 0.1)] });
    const [p, q] = ['p', 'q'].map((name) => ctx.pools.findIndex((pool) => pool.name === name));
    const nodes = new Int32Array(2);
    nodes[p] = 2;
    nodes[q] = 1;
    const placement = ctx.workloads.map((w) => new Map([[w.name === 'd' ? q : p, 1]]));
    const packed = packPlan(ctx, { nodes: [nodes], open: [[true, true]], reserved: new Int32Array(2), placement: [placement] });
    expect([...packed.plan.nodes[0]]).toEqual([...nodes]);
    expect(packed).toMatchObject({ addedNodeSteps: 0, movedInstances: 1, blocked: [] });
    expect(checkPlan(ctx, packed.plan)).toEqual([]);
  });

  it('a provider quota stops the raise: the pool spills to another provider, or the step stays as it was', () => {
    const quota = { quotas: [{ provider: 'cloud', maxNodes: 2 }] };
    const alone = buildContext(input(quota));
    const stuck = packPlan(alone, twoNodes());
    expect([...stuck.plan.nodes[0]]).toEqual([2]);
    expect(stuck.blocked).toHaveLength(1);
    expect(stuck.blocked[0]).toMatchObject({ step: 0, pool: 'p', nodesNeeded: 3, nodesAllowed: 2 });
    expect(checkPlan(alone, stuck.plan)).toEqual([]);
    const other = buildContext({ ...alone.input, pools: [...alone.input.pools, hpool('own', 4, 16, 0.3, { provider: 'own' })] });
    // Pools are indexed in the context's order (by name: 'own' before 'p').
    const [own, p] = ['own', 'p'].map((name) => other.pools.findIndex((pool) => pool.name === name));
    const nodes = new Int32Array(2);
    nodes[p] = 2;
    const spilled = packPlan(other, { nodes: [nodes], open: [[true, true]], reserved: new Int32Array(2), placement: [[0, 1, 2].map(() => new Map([[p, 1]]))] });
    expect(spilled.plan.nodes[0][p]).toBe(2);
    expect(spilled.plan.nodes[0][own]).toBe(1);
    expect(spilled.blocked).toEqual([]);
    expect(checkPlan(other, spilled.plan)).toEqual([]);
  });

  it('optimizeHorizon with packNodes: the model counts 2 nodes, the packed plan pays for 3; the bound stays below', async () => {
    const plain = await optimizeHorizon(input());
    expect(plain.allocations[0].nodesByPool).toEqual({ p: 2 });
    const packed = await optimizeHorizon(input(), { packNodes: true });
    expect(packed.allocations[0].nodesByPool).toEqual({ p: 3 });
    expect(packed.cost.total).toBeCloseTo(0.3, 12);
    expect(packed.packing).toMatchObject({ addedNodeSteps: 1, movedInstances: 0, blocked: [] });
    expect(packed.lowerBound).toBeLessThanOrEqual(packed.cost.objective);
  });
});
