import { describe, expect, it } from 'vitest';
import { InfeasibleError } from '../core/errors.ts';
import type { Pool } from '../core/model.ts';
import { type WorkloadDemand, allocate } from './allocate.ts';
import { hpool } from './testFixtures.ts';

const GiB = 1024;
/** The horizon tests' pool builder, with the single-step tests' positional limits. */
const pool = (name: string, cpu: number, memGiB: number, costPerHour: number, maxNodes = 100, tags: string[] = [], minNodes = 0): Pool => hpool(name, cpu, memGiB, costPerHour, { maxNodes, tags, minNodes });
const workload = (name: string, cpuMillicores: number, memoryMiB: number, instances: number, extra: Partial<WorkloadDemand> = {}): WorkloadDemand => ({
  name,
  perInstance: { cpuMillicores, memoryMiB },
  instances,
  minInstances: 0,
  priority: 0,
  tags: [],
  ...extra,
});
// Small: 4 CPU / 16 GiB at $0.20/h ($0.050 per CPU-hour); large: 16 CPU / 64 GiB at $0.70/h ($0.044 per CPU-hour).
const small = (maxNodes = 100, tags: string[] = []) => pool('small', 4, 16, 0.2, maxNodes, tags);
const large = (maxNodes = 100, tags: string[] = []) => pool('large', 16, 64, 0.7, maxNodes, tags);

describe('allocate: cost', () => {
  it('finds the cheapest mix, which is not the cheapest per CPU (hand-solved)', async () => {
    // 20 × (1 CPU, 4 GiB) = 20 CPU, 80 GiB. 2 large = $1.40, 5 small = $1.00, 1 large + 1 small = $0.90.
    const result = await allocate({ workloads: [workload('web', 1000, 4 * GiB, 20)], pools: [small(), large()] });
    expect(result.costPerHour).toBeCloseTo(0.9, 9);
    expect(result.nodesByPool).toEqual({ large: 1, small: 1 });
    expect(result.instances.web).toEqual({ large: 16, small: 4 });
    expect(result.shortfall).toEqual({ web: 0 });
    expect(result.status).toBe('optimal');
    expect(result.gap).toBeLessThanOrEqual(1e-4);
    expect(result.lowerBound).toBeLessThanOrEqual(result.objective + 1e-9);
  });

  it('CPU-bound: 12 × (2 CPU, 1 GiB) = 24 CPU → 1 large + 2 small = $1.10 (6 small $1.20, 2 large $1.40)', async () => {
    const result = await allocate({ workloads: [workload('cpu', 2000, 1 * GiB, 12)], pools: [small(), large()] });
    expect(result.costPerHour).toBeCloseTo(1.1, 9);
    expect(result.nodesByPool).toEqual({ large: 1, small: 2 });
  });

  it('memory-bound: 16 × (0.5 CPU, 8 GiB) = 128 GiB → 2 large = $1.40 (CPU alone would need $0.40)', async () => {
    const result = await allocate({ workloads: [workload('cache', 500, 8 * GiB, 16)], pools: [small(), large()] });
    // small holds 2 per node (16 GiB) → 8 small = $1.60; 1 large + 4 small = $1.50; 2 large = $1.40.
    expect(result.costPerHour).toBeCloseTo(1.4, 9);
    expect(result.nodesByPool).toEqual({ large: 2, small: 0 });
  });

  it('packing cut: 3 CPU instances fit once per 4-CPU node, so 5 of them need 5 small nodes, not 4', async () => {
    const result = await allocate({ workloads: [workload('odd', 3000, 1 * GiB, 5)], pools: [small()] });
    expect(result.nodesByPool).toEqual({ small: 5 });
  });

  it('binding quota: large capped at 1 node → 1 large + 6 small for 40 CPU = $1.90', async () => {
    const result = await allocate({ workloads: [workload('web', 1000, 4 * GiB, 40)], pools: [small(), large(1)] });
    expect(result.nodesByPool).toEqual({ large: 1, small: 6 });
    expect(result.costPerHour).toBeCloseTo(1.9, 9);
  });

  it('respects compliance tags even when an untagged pool is cheaper', async () => {
    const result = await allocate({
      workloads: [workload('payments', 1000, 4 * GiB, 4, { tags: ['pci'] }), workload('web', 1000, 4 * GiB, 4)],
      pools: [pool('cheap', 4, 16, 0.1), pool('secure', 4, 16, 0.3, 10, ['pci'])],
    });
    expect(result.instances.payments).toEqual({ secure: 4 });
    expect(result.instances.web).toEqual({ cheap: 4 });
    expect(result.costPerHour).toBeCloseTo(0.4, 9);
  });

  it('honours minNodes and gives deterministic results regardless of input order', async () => {
    const pools = [pool('b', 4, 16, 0.2), pool('a', 4, 16, 0.2, 10, [], 1)];
    const one = await allocate({ workloads: [workload('w', 1000, 1 * GiB, 6), workload('v', 500, 1 * GiB, 2)], pools });
    const two = await allocate({ workloads: [workload('v', 500, 1 * GiB, 2), workload('w', 1000, 1 * GiB, 6)], pools: [...pools].reverse() });
    expect(one.nodesByPool.a).toBeGreaterThanOrEqual(1);
    expect(one.costPerHour).toBeCloseTo(0.4, 9);
    expect(two.nodesByPool).toEqual(one.nodesByPool);
    expect(two.instances).toEqual(one.instances);
  });

  it('prices churn against the current allocation', async () => {
    const pools = [pool('a', 4, 16, 0.2), pool('b', 4, 16, 0.19)];
    const current = { nodesByPool: { a: 1, b: 0 }, instances: { w: { a: 4 } }, costPerHour: 0.2, shortfall: { w: 0 } };
    const stay = await allocate({ workloads: [workload('w', 1000, 1 * GiB, 4)], pools, current, options: { migrationCostPerInstance: 0.01 } });
    expect(stay.instances.w).toEqual({ a: 4 }); // moving saves $0.01/h but costs 4 × 0.01
    const move = await allocate({ workloads: [workload('w', 1000, 1 * GiB, 4)], pools, current });
    expect(move.instances.w).toEqual({ b: 4 });
  });
});

describe('allocate: contention', () => {
  it('a higher priority keeps its instances; the lower one takes the shortfall', async () => {
    // 2 small nodes = 8 CPU; demand 6 + 6 CPU.
    const result = await allocate({
      workloads: [workload('payments', 2000, 1 * GiB, 3, { priority: 100 }), workload('batch', 1000, 1 * GiB, 6, { priority: 1 })],
      pools: [small(2)],
    });
    expect(result.shortfall).toEqual({ payments: 0, batch: 4 });
    expect(result.instances.payments).toEqual({ small: 3 });
  });

  it('one big high-priority instance beats four small low-priority ones', async () => {
    // 8 CPU: high needs one 4-CPU instance; low wants eight 1-CPU instances. Counting instances would favour low.
    const result = await allocate({
      workloads: [workload('big', 4000, 1 * GiB, 1, { priority: 10 }), workload('many', 1000, 1 * GiB, 8, { priority: 1 })],
      pools: [small(2)],
    });
    expect(result.shortfall).toEqual({ big: 0, many: 4 });
  });

  it('a guaranteed minimum survives a higher priority', async () => {
    const result = await allocate({
      workloads: [workload('payments', 1000, 1 * GiB, 8, { priority: 100 }), workload('batch', 1000, 1 * GiB, 4, { priority: 1, minInstances: 3 })],
      pools: [small(2)],
    });
    expect(result.shortfall).toEqual({ payments: 3, batch: 1 });
  });

  it('penalties rise strictly with priority and exceed the evicted lower instances', async () => {
    const ws = [workload('a', 4000, 1 * GiB, 1, { priority: 3 }), workload('b', 1000, 1 * GiB, 1, { priority: 2 }), workload('c', 1000, 1 * GiB, 1, { priority: 1 })];
    const p = (await allocate({ workloads: ws, pools: [small()] })).shortfallPenalty;
    expect(p.b).toBeGreaterThan(2 * p.c);
    expect(p.a).toBeGreaterThan(5 * p.b); // ⌈4000/1000⌉ + ⌈1024/1024⌉ = 5 evictions
  });
});

describe('allocate: infeasible guarantees', () => {
  it('names a tag no pool offers', async () => {
    const run = allocate({ workloads: [workload('payments', 1000, 1 * GiB, 2, { minInstances: 1, tags: ['pci'] })], pools: [small()] });
    await expect(run).rejects.toBeInstanceOf(InfeasibleError);
    await expect(run).rejects.toMatchObject({ conflicts: ["workload 'payments' needs tag pci: no pool offers it"] });
  });

  it('compares guaranteed CPU with all quotas together', async () => {
    const run = allocate({ workloads: [workload('batch', 1000, 1 * GiB, 64, { minInstances: 64 })], pools: [large(3)] });
    await expect(run).rejects.toMatchObject({ conflicts: ['guaranteed minimums need 64000m CPU; all pools together offer at most 48000m CPU'] });
  });

  it('names an instance larger than any usable node', async () => {
    const run = allocate({ workloads: [workload('db', 32000, 8 * GiB, 1, { minInstances: 1 })], pools: [small(), large()] });
    await expect(run).rejects.toThrow(/workload 'db' needs 32000m CPU .* no node of the pools it may use \('large', 'small'\) is that large/);
  });

  it('compares per tag: pci workloads against pci pools', async () => {
    const run = allocate({
      workloads: [workload('payments', 1000, 1 * GiB, 10, { minInstances: 10, tags: ['pci'] }), workload('web', 1000, 1 * GiB, 10, { minInstances: 10 })],
      pools: [pool('secure', 4, 16, 0.3, 2, ['pci']), large(10)],
    });
    await expect(run).rejects.toMatchObject({
      conflicts: ["guaranteed minimums of workloads needing tag pci ('payments') need 10000m CPU; pools offering it ('secure') offer at most 8000m CPU"],
    });
  });

  it('without guarantees, missing capacity becomes shortfall rather than an error', async () => {
    const result = await allocate({ workloads: [workload('batch', 1000, 1 * GiB, 64)], pools: [large(3)] });
    expect(result.shortfall).toEqual({ batch: 16 });
    expect(result.nodesByPool).toEqual({ large: 3 });
  });
});
