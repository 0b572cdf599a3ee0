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

  /** A plan for one step from pool and workload names: nodes per pool, and each workload's pool. */
  const planOf = (ctx: ReturnType<typeof buildContext>, nodesByPool: Record<string, number>, poolOf: Record<string, Record<string, number>>, reserved: Record<string, number> = {}): HorizonPlan => {
    const at = (name: string) => ctx.poolIndex.get(name)!;
    const nodes = new Int32Array(ctx.pools.length);
    const res = new Int32Array(ctx.pools.length);
    for (const [name, n] of Object.entries(nodesByPool)) nodes[at(name)] = n;
    for (const [name, n] of Object.entries(reserved)) res[at(name)] = n;
    const steps = ctx.steps;
    return {
      nodes: Array.from({ length: steps }, () => Int32Array.from(nodes)),
      open: Array.from({ length: steps }, () => ctx.pools.map(() => true)),
      reserved: res,
      placement: Array.from({ length: steps }, () => ctx.workloads.map((w) => new Map(Object.entries(poolOf[w.name] ?? {}).map(([pool, n]) => [at(pool), n])))),
    };
  };
  const nodesOf = (ctx: ReturnType<typeof buildContext>, plan: HorizonPlan, t = 0) => Object.fromEntries(ctx.pools.map((p, i) => [p.name, plan.nodes[t][i]]));

  it('keeps instances with traffic partners where they are and moves the others', () => {
    // p (zone a) may run 2 nodes and holds x1, x2 and z (2.5 vCPU each): one must leave, to q in zone b.
    // z talks to back (filling r, zone a): moving z would make its 100 GiB/h cross zones ($1/h); x1 or x2 has no partner.
    const ctx = buildContext({
      steps: 1,
      stepHours: 1,
      workloads: [hwork('x1', 2500, 1 * GiB, [1]), hwork('x2', 2500, 1 * GiB, [1]), hwork('z', 2500, 1 * GiB, [1]), hwork('back', 3500, 1 * GiB, [1])],
      pools: [hpool('p', 4, 16, 0.1, { maxNodes: 2 }), hpool('q', 4, 16, 0.1, { zone: 'b' }), hpool('r', 4, 16, 0.1)],
      traffic: [{ from: 'z', to: 'back', gibPerHour: 100 }],
      costs: { churnPerNode: 0, migrationPerInstance: 0, crossZonePerGiB: 0.01 },
    });
    const plan = planOf(ctx, { p: 2, r: 1 }, { x1: { p: 1 }, x2: { p: 1 }, z: { p: 1 }, back: { r: 1 } });
    const packed = packPlan(ctx, plan);
    expect(nodesOf(ctx, packed.plan)).toEqual({ p: 2, q: 1, r: 1 });
    expect(packed.plan.placement[0][ctx.workloadIndex.get('z')!]).toEqual(new Map([[ctx.poolIndex.get('p')!, 1]]));
    expect(packed.movedInstances).toBe(1);
    expect(evaluatePlan(ctx, packed.plan).traffic).toBe(0);
    expect(checkPlan(ctx, packed.plan)).toEqual([]);
  });

  it('prices the traffic a move makes cross: a pool in the same zone beats a cheaper one in another', () => {
    // z (2 instances) and y (1) in p, which may run 2 nodes, both talk to back (filling r, zone a, 1 node): one instance
    // leaves p. q (zone b) is $0.02/h cheaper than s (zone a), but half of z's 100 GiB/h, or all of y's, would cross: $0.5–1/h.
    const ctx = buildContext({
      steps: 1,
      stepHours: 1,
      workloads: [hwork('z', 2500, 1 * GiB, [2]), hwork('y', 2500, 1 * GiB, [1]), hwork('back', 3500, 1 * GiB, [1])],
      pools: [hpool('p', 4, 16, 0.1, { maxNodes: 2 }), hpool('q', 4, 16, 0.1, { zone: 'b' }), hpool('r', 4, 16, 0.1, { maxNodes: 1 }), hpool('s', 4, 16, 0.12)],
      traffic: [
        { from: 'z', to: 'back', gibPerHour: 100 },
        { from: 'y', to: 'back', gibPerHour: 100 },
      ],
      costs: { churnPerNode: 0, migrationPerInstance: 0, crossZonePerGiB: 0.01 },
    });
    const packed = packPlan(ctx, planOf(ctx, { p: 2, r: 1 }, { z: { p: 2 }, y: { p: 1 }, back: { r: 1 } }));
    expect(nodesOf(ctx, packed.plan)).toEqual({ p: 2, q: 0, r: 1, s: 1 });
    expect(evaluatePlan(ctx, packed.plan).traffic).toBe(0);
    expect(checkPlan(ctx, packed.plan)).toEqual([]);
  });

  it('chooses the reservations again for the node counts packing needs', () => {
    // Two steps of three 2.5-vCPU instances: the model reserved 2 nodes; packing needs 3 at both steps.
    // Reserved at $0.06/h against $0.10/h on demand: 3 reserved ($0.36) beat 2 reserved + 1 on demand ($0.44).
    const ctx = buildContext(input({ steps: 2, workloads: ['a', 'b', 'c'].map((n) => hwork(n, 2500, 1 * GiB, [1, 1])) }, { reservedCostPerHour: 0.06 }));
    const plan = planOf(ctx, { p: 2 }, { a: { p: 1 }, b: { p: 1 }, c: { p: 1 } }, { p: 2 });
    expect(evaluatePlan(ctx, plan).total).toBeCloseTo(0.24, 12);
    const packed = packPlan(ctx, plan);
    expect([...packed.plan.nodes.map((n) => n[0])]).toEqual([3, 3]);
    expect([...packed.plan.reserved]).toEqual([3]);
    expect(evaluatePlan(ctx, packed.plan).total).toBeCloseTo(0.36, 12);
  });

  it('empties a node into room on another pool when the node costs more than the moves', () => {
    // p ($0.30/h) packs a (3.5 vCPU) and b (0.8 vCPU) on two nodes; q's node runs x (3 vCPU) with 1 vCPU free:
    // b moves there and p's second node goes ($0.30 saved for one start at $0.001; every instance starts at step 0
    // anyway, nothing running before).
    const ctx = buildContext({
      steps: 1,
      stepHours: 1,
      workloads: [hwork('a', 3500, 1 * GiB, [1]), hwork('b', 800, 1 * GiB, [1]), hwork('x', 3000, 1 * GiB, [1])],
      pools: [hpool('p', 4, 16, 0.3), hpool('q', 4, 16, 0.1)],
      costs: { churnPerNode: 0, migrationPerInstance: 0.001 },
    });
    const plan = planOf(ctx, { p: 2, q: 1 }, { a: { p: 1 }, b: { p: 1 }, x: { q: 1 } });
    const packed = packPlan(ctx, plan);
    expect(nodesOf(ctx, packed.plan)).toEqual({ p: 1, q: 1 });
    expect(packed).toMatchObject({ addedNodeSteps: 0, removedNodeSteps: 1, movedInstances: 1 });
    expect(packed.plan.placement[0][ctx.workloadIndex.get('b')!]).toEqual(new Map([[ctx.poolIndex.get('q')!, 1]]));
    expect(checkPlan(ctx, packed.plan)).toEqual([]);
    expect(evaluatePlan(ctx, packed.plan).total).toBeCloseTo(0.4 + 3 * 0.001, 12);
    // Reserved nodes are paid for anyway: p keeps both, and q's node empties into the room on p's second instead.
    const reserved = buildContext({ ...ctx.input, pools: [hpool('p', 4, 16, 0.3, { reservedCostPerHour: 0.2 }), hpool('q', 4, 16, 0.1)] });
    const kept = packPlan(reserved, planOf(reserved, { p: 2, q: 1 }, { a: { p: 1 }, b: { p: 1 }, x: { q: 1 } }, { p: 2 }));
    expect(nodesOf(reserved, kept.plan)).toEqual({ p: 2, q: 0 });
    expect(kept).toMatchObject({ removedNodeSteps: 1, movedInstances: 1 });
    expect(kept.plan.placement[0][reserved.workloadIndex.get('x')!]).toEqual(new Map([[reserved.poolIndex.get('p')!, 1]]));
    // Nor when the move costs more than the node: b's start at $1.
    const dear = buildContext({ ...ctx.input, costs: { churnPerNode: 0, migrationPerInstance: 1 } });
    expect(nodesOf(dear, packPlan(dear, planOf(dear, { p: 2, q: 1 }, { a: { p: 1 }, b: { p: 1 }, x: { q: 1 } })).plan)).toEqual({ p: 2, q: 1 });
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
