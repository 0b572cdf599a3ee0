import { describe, expect, it } from 'vitest';
import { InfeasibleError } from '../core/errors.ts';
import { type HorizonInput, type HorizonPool, type HorizonWorkload, buildContext, checkPlan, stepViolations } from './horizon.ts';
import { hpool, hwork } from './testFixtures.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';

const GiB = 1024;
const small = (extra: Partial<HorizonPool> = {}) => hpool('small', 4, 16, 0.2, extra);
const large = (extra: Partial<HorizonPool> = {}) => hpool('large', 16, 64, 0.7, extra);
const input = (workloads: HorizonWorkload[], pools: HorizonPool[], extra: Partial<HorizonInput> = {}): HorizonInput => ({
  steps: workloads[0].instances.length,
  stepHours: 1,
  workloads,
  pools,
  ...extra,
});

describe('optimizeHorizon: hand-solved', () => {
  it('single step: 20 × (1 CPU, 4 GiB) → 1 large + 1 small = $0.90 (2 large $1.40, 5 small $1.00)', async () => {
    const r = await optimizeHorizon(input([hwork('web', 1000, 4 * GiB, [20])], [small(), large()]));
    expect(r.method).toBe('exact');
    expect(r.cost.total).toBeCloseTo(0.9, 9);
    expect(r.allocations[0].nodesByPool).toEqual({ large: 1, small: 1 });
    expect(r.lowerBound).toBeLessThanOrEqual(r.cost.objective + 1e-9);
    expect(r.gap).toBeLessThanOrEqual(1e-4);
  });

  it('multi-step with 2-hour steps: demand 20, 4, 20 → (0.90 + 0.20 + 0.90) × 2 h = $4.00', async () => {
    const r = await optimizeHorizon(input([hwork('web', 1000, 4 * GiB, [20, 4, 20])], [small(), large()], { stepHours: 2 }));
    expect(r.cost.total).toBeCloseTo(4.0, 9);
    expect(r.allocations.map((a) => a.nodesByPool)).toEqual([
      { large: 1, small: 1 },
      { large: 0, small: 1 },
      { large: 1, small: 1 },
    ]);
  });

  it('churn price keeps a node through a dip when adding it back costs more than it saves', async () => {
    // Dropping the large node in step 1 saves 0.70 but costs 2 × 0.5 churn (down and up again).
    const r = await optimizeHorizon(input([hwork('web', 1000, 4 * GiB, [20, 4, 20])], [small(), large()], { costs: { churnPerNode: 0.5 } }));
    // From no nodes: +1 large +1 small at step 0 = 1.0 churn; keep both; cost 3 × 0.9 + 1.0.
    expect(r.cost.churn).toBeCloseTo(1.0, 9);
    expect(r.cost.total).toBeCloseTo(3.7, 9);
  });

  it('reserved vs on-demand break-even: $0.60 reserved × 10 steps = $6 against $1 per busy step', async () => {
    const pool = hpool('p', 4, 16, 1.0, { reservedCostPerHour: 0.6 });
    const demand = (busy: number) => Array.from({ length: 10 }, (_, t) => (t < busy ? 4 : 0));
    const eight = await optimizeHorizon(input([hwork('w', 1000, 1 * GiB, demand(8))], [pool]));
    expect(eight.reservedByPool).toEqual({ p: 1 });
    expect(eight.cost.total).toBeCloseTo(6, 9);
    expect(eight.cost.reserved).toBeCloseTo(6, 9);
    const five = await optimizeHorizon(input([hwork('w', 1000, 1 * GiB, demand(5))], [pool]));
    expect(five.reservedByPool).toEqual({ p: 0 });
    expect(five.cost.total).toBeCloseTo(5, 9);
  });

  it('pool creation cost: moving to a $0.20 cheaper pool over 10 steps pays off only if creating it costs < $2', async () => {
    const current = { nodesByPool: { old: 1 }, instances: { w: { old: 4 } }, costPerHour: 1, shortfall: {} };
    const run = (createCost: number) =>
      optimizeHorizon(input([hwork('w', 1000, 1 * GiB, Array(10).fill(4))], [hpool('old', 4, 16, 1.0, { teardownCost: 0 }), hpool('cheap', 4, 16, 0.8, { createCost })], { current }));
    const move = await run(1.5);
    expect(move.cost.total).toBeCloseTo(8 + 1.5, 9);
    expect(move.allocations[0].nodesByPool).toEqual({ old: 0, cheap: 1 });
    expect(move.cost.lifecycle).toBeCloseTo(1.5, 9);
    const stay = await run(2.5);
    expect(stay.cost.total).toBeCloseTo(10, 9);
    expect(stay.allocations.every((a) => a.nodesByPool.cheap === 0)).toBe(true);
  });

  it('maintenance: the cheap pool is unavailable in steps 1–2, so those steps use the dear one', async () => {
    const r = await optimizeHorizon(
      input([hwork('w', 1000, 1 * GiB, [4, 4, 4, 4])], [hpool('cheap', 4, 16, 0.2), hpool('dear', 4, 16, 0.5)], {
        maintenance: [{ name: 'patch', pool: 'cheap', fromStep: 1, toStep: 3 }],
      }),
    );
    expect(r.allocations.map((a) => a.instances.w)).toEqual([{ cheap: 4 }, { dear: 4 }, { dear: 4 }, { cheap: 4 }]);
    expect(r.cost.total).toBeCloseTo(0.2 + 0.5 + 0.5 + 0.2, 9);
  });

  it('partial maintenance: 1 of 2 nodes down leaves room for one node only', async () => {
    const r = await optimizeHorizon(
      input([hwork('w', 1000, 1 * GiB, [8, 8])], [hpool('cheap', 4, 16, 0.2, { maxNodes: 2 }), hpool('dear', 4, 16, 0.5)], {
        maintenance: [{ name: 'half', pool: 'cheap', fromStep: 1, toStep: 2, nodesDown: 1 }],
      }),
    );
    expect(r.allocations[0].nodesByPool).toEqual({ cheap: 2, dear: 0 });
    expect(r.allocations[1].nodesByPool).toEqual({ cheap: 1, dear: 1 });
  });

  it('zone spread: surviving 3 of 4 after losing a zone puts at most 1 in each zone (needs 4 zones)', async () => {
    const zones = ['a', 'b', 'c', 'd'].map((z, i) => hpool(`z${z}`, 4, 16, 0.2 + 0.01 * i, { zone: z }));
    const r = await optimizeHorizon(input([hwork('api', 1000, 1 * GiB, [4], { spread: { domain: 'zone', survivingInstances: 3 } })], zones));
    expect(r.allocations[0].instances.api).toEqual({ za: 1, zb: 1, zc: 1, zd: 1 });
    expect(checkPlan(r.context, r.plan)).toEqual([]);
  });

  it('provider quota caps nodes across the provider’s pools', async () => {
    const pools = [hpool('a1', 4, 16, 0.2, { provider: 'aws' }), hpool('a2', 4, 16, 0.21, { provider: 'aws', zone: 'b' }), hpool('g', 4, 16, 0.3, { provider: 'gcp' })];
    const r = await optimizeHorizon(input([hwork('w', 1000, 1 * GiB, [16])], pools, { quotas: [{ provider: 'aws', maxCpuMillicores: 8000 }] }));
    const n = r.allocations[0].nodesByPool;
    expect(n.a1 + n.a2).toBe(2);
    expect(n.g).toBe(2);
  });

  it('network bandwidth as a third resource: 10 Gb/s nodes hold four 2.5 Gb/s instances though CPU would allow 8', async () => {
    const net = (name: string) => ({ ...hpool(name, 8, 32, 0.4), nodeType: { name: 'n', capacity: { cpuMillicores: 8000, memoryMiB: 32 * GiB, networkMbps: 10_000 } } });
    const w = { ...hwork('proxy', 1000, 1 * GiB, [8]), perInstance: { cpuMillicores: 1000, memoryMiB: 1 * GiB, networkMbps: 2500 } };
    const r = await optimizeHorizon(input([w], [net('p')]));
    expect(r.allocations[0].nodesByPool).toEqual({ p: 2 });
  });

  it('traffic across zones is priced: two chatty workloads share the zone when it saves more than the price gap', async () => {
    const pools = [hpool('za', 4, 16, 0.2, { zone: 'a' }), hpool('zb', 4, 16, 0.21, { zone: 'b', maxNodes: 100 })];
    const ws = [hwork('front', 1000, 1 * GiB, [4]), hwork('back', 1000, 1 * GiB, [4])];
    const r = await optimizeHorizon(input(ws, pools, { traffic: [{ from: 'front', to: 'back', gibPerHour: 100 }], costs: { crossZonePerGiB: 0.01 } }));
    expect(r.allocations[0].instances.front).toEqual({ za: 4 });
    expect(r.allocations[0].instances.back).toEqual({ za: 4 });
    expect(r.cost.traffic).toBeCloseTo(0, 9);
  });
});

describe('optimizeHorizon: validation and infeasibility', () => {
  it('rejects a demand series of the wrong length, naming the workload', async () => {
    await expect(optimizeHorizon({ steps: 2, stepHours: 1, workloads: [hwork('w', 1000, 1024, [1])], pools: [small()] })).rejects.toThrow(/workload 'w': instances needs one value per step \(2\), got 1/);
  });

  it('names the maintenance window that leaves a guaranteed workload without pools', async () => {
    const run = optimizeHorizon(
      input([hwork('pay', 1000, 1 * GiB, [2, 2, 2], { minInstances: 1, tags: ['pci'] })], [hpool('secure', 4, 16, 0.3, { tags: ['pci'] }), small()], {
        maintenance: [{ name: 'secure-patch', pool: 'secure', fromStep: 1, toStep: 2 }],
      }),
    );
    await expect(run).rejects.toBeInstanceOf(InfeasibleError);
    await expect(run).rejects.toThrow(/workload 'pay' guarantees instances at step 1, but every pool it may use \('secure'\) is unavailable then \(maintenance 'secure-patch'\)/);
  });

  it('names a zone spread that cannot hold when one zone is the only one offering the tag', async () => {
    const run = optimizeHorizon(
      input([hwork('pay', 1000, 1 * GiB, [2], { minInstances: 2, tags: ['pci'], spread: { domain: 'zone', survivingInstances: 1 } })], [hpool('secure', 4, 16, 0.3, { tags: ['pci'] }), hpool('other', 4, 16, 0.2, { zone: 'b' })]),
    );
    await expect(run).rejects.toThrow(/workload 'pay' must keep 1 instances after losing any one zone, but the pools it may use are all in zone 'cloud\/a'/);
  });

  it('deletion filter: guarantee + provider quota + pool quota conflict, the unrelated budget does not', async () => {
    // 13 guaranteed 1-CPU instances; aws quota 8 CPU; gcp pool quota 1 node (4 CPU): 13 > 8 + 4 only with both limits.
    const pools = [hpool('aws', 4, 16, 0.2, { provider: 'aws' }), hpool('gcp', 4, 16, 0.3, { provider: 'gcp', maxNodes: 1 })];
    const run = optimizeHorizon(
      input([hwork('w', 1000, 1 * GiB, [13], { minInstances: 13 })], pools, { quotas: [{ provider: 'aws', maxCpuMillicores: 8000 }], budgetPerStep: 100 }),
    );
    await expect(run).rejects.toMatchObject({
      conflicts: [
        'these constraints cannot all hold together (dropping any one of them removes the conflict):',
        "workload 'w' guarantees 13 instances (1000m CPU, 1024 MiB memory each)",
        "provider 'aws' quota (at most 8000m CPU)",
        "pool 'gcp' quota of 1 nodes (4000m CPU, 16384 MiB memory each)",
      ],
    });
  });

  it('names a spread that needs more instances than the workload has', async () => {
    const zones = ['a', 'b', 'c'].map((z) => hpool(`z${z}`, 4, 16, 0.2, { zone: z }));
    const run = optimizeHorizon(input([hwork('api', 1000, 1 * GiB, [6, 5], { spread: { domain: 'zone', survivingInstances: 4 } })], zones));
    await expect(run).rejects.toThrow(/workload 'api' must keep 4 instances after losing any one zone of 3, which needs at least 6 instances, but it needs only 5 at step 1/);
  });

  it('names a budget too small for the guaranteed minimums', async () => {
    const run = optimizeHorizon(input([hwork('w', 4000, 1 * GiB, [4, 4], { minInstances: 4 })], [small()], { budgetPerStep: 0.5 }));
    await expect(run).rejects.toThrow(/budget 0.50 per step cannot pay for the guaranteed minimums at steps 0–1 \(at least 0.80/);
  });
});


describe('stepViolations', () => {
  it('says what each broken constraint concerns: the quota by provider, capacity by pool, the guarantee by workload', () => {
    const ctx = buildContext(input([hwork('web', 3000, 4 * GiB, [2, 2], { minInstances: 2 })], [small(), small({ name: 'other', provider: 'dc' })], { quotas: [{ provider: 'cloud', maxNodes: 1 }] }));
    const [other, smallPool] = ['other', 'small'].map((name) => ctx.poolIndex.get(name)!);
    const nodes = new Int32Array(2);
    nodes[smallPool] = 2;
    // Step 1: two nodes of 'small' (quota 1), and one web instance in 'other', which has no node and is below the guarantee.
    const plan = {
      nodes: [Int32Array.from(nodes), Int32Array.from(nodes)],
      open: [[true, true], [true, true]],
      reserved: new Int32Array(2),
      placement: [[new Map([[smallPool, 2]])], [new Map([[other, 1]])]],
    };
    const at1 = stepViolations(ctx, plan, 1);
    expect(at1.map((v) => [v.kind, v.workload ?? v.pool ?? v.provider])).toEqual([
      ['belowGuaranteed', 'web'],
      ['overPerNode', 'web'],
      ['overCapacity', 'other'],
      ['quota', 'cloud'],
    ]);
    expect(at1.every((v) => v.step === 1 && v.message.startsWith('step 1: '))).toBe(true);
    expect(at1.find((v) => v.kind === 'overPerNode')?.pool).toBe('other');
    // checkPlan is every step's messages, in order.
    expect(checkPlan(ctx, plan)).toEqual([...stepViolations(ctx, plan, 0), ...at1].map((v) => v.message));
    expect(stepViolations(ctx, plan, 0).map((v) => v.kind)).toEqual(['quota']);
  });
});
