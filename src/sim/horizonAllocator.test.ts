import { describe, expect, it } from 'vitest';
import type { Pool, Scenario, Workload } from '../core/model.ts';
import { instancesByDomain } from '../capacity/availability.ts';
import { instancesForDemand } from '../capacity/sizing.ts';
import { horizonAllocator, spreadFor } from './horizonAllocator.ts';
import { oraclePolicy } from './policies/oracle.ts';
import type { PolicyContext, ReplayPolicy } from './policies/policy.ts';
import { predictivePolicy } from './policies/predictive.ts';
import { reactivePolicy } from './policies/reactive.ts';
import { staticPolicy } from './policies/static.ts';
import { replay } from './replay.ts';
import { mipAllocator, needsHorizonEngine, requirementSizer, sloHolds } from './run.ts';
import { handScenario, perfectForecaster, replayPerfect, utilizationWorkload as workload } from './testFixtures.ts';

const pool = (name: string, zone: string, over: Partial<Pool> = {}): Pool => ({
  name,
  provider: 'cloud',
  zone,
  nodeType: { name: `${name}-node`, capacity: { cpuMillicores: 1000, memoryMiB: 4096 } },
  costPerHour: 1,
  provisioningDelaySeconds: 0,
  minNodes: 0,
  maxNodes: 20,
  tags: [],
  ...over,
});

const scenario = (workloads: Workload[], pools: Pool[], evalSteps: number): Scenario => handScenario({ workloads, pools }, 2, evalSteps);

describe('predictive policy on the multi-step engine (receding horizon)', () => {
  // Demand 2 rps (4 instances) with a one-step dip to 1.5 rps (3 instances) at evaluated step 3.
  const values = [2, 2, 2, 2, 2, 1.5, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2];
  const s = scenario([workload('api', values)], [pool('a', 'z1')], 8);
  const run = (allocator: () => ReturnType<typeof mipAllocator>) => replayPerfect(s, allocator);

  it('keeps a node through a short dip when churn costs more than the node-steps it saves; the single-step MIP drops it', async () => {
    expect(instancesForDemand(s.workloads[0], 2).instances).toBe(4);
    expect(instancesForDemand(s.workloads[0], 1.5).instances).toBe(3);
    // Churn priced at 1 per node change; a node-step costs 1/12: dropping for one step saves 1/12 but costs 2.
    const multi = await run(() => horizonAllocator(s, { costs: { churnPerNode: 1, migrationPerInstance: 0 } }));
    const single = await run(() => mipAllocator(s));
    expect(multi.policies[0].timeline.nodes.a).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
    expect(single.policies[0].timeline.nodes.a).toEqual([4, 4, 4, 3, 4, 4, 4, 4]);
    expect(multi.policies[0].metrics.cost).toBeCloseTo((8 * 4) / 12, 9);
    expect(single.policies[0].metrics.cost).toBeCloseTo((7 * 4 + 3) / 12, 9);
    // Both run what the SLO needs at every step (the dip's instance is stopped either way).
    expect(multi.policies[0].timeline.instances.api).toEqual([4, 4, 4, 3, 4, 4, 4, 4]);
    expect(multi.policies[0].metrics.actions).toBeLessThan(single.policies[0].metrics.actions);
  });

  it('drops the node when churn is cheap (the honest default: half the provisioning delay at the node price, here 0)', async () => {
    const multi = await run(() => horizonAllocator(s));
    expect(multi.policies[0].timeline.nodes.a).toEqual([4, 4, 4, 3, 4, 4, 4, 4]);
  });
});

describe('availability in the replay: zone spread holds in the simulated placement', () => {
  // Three zones; the cheapest zone could hold everything, spread forbids it.
  const pools = [pool('a', 'z1', { costPerHour: 0.5 }), pool('b', 'z2'), pool('c', 'z3')];
  const demand = [2, 3, 2, 4, 5, 3, 2, 2.5, 4, 3.5, 2, 2, 2];
  const w = workload('pay', demand, { availability: { survive: 'zone' } });
  const s = scenario([w], pools, 10);
  const sizer = requirementSizer(s);

  it('sizes through workloadRequirement: N instances must survive a zone loss, so more than N run', () => {
    // demand 2 → N = 4; surviving any one of 3 zones needs ⌈4 / 2⌉ = 2 per zone, 6 in all.
    expect(sizer.instancesFor(w, 2)).toBe(6);
    expect(spreadFor(w, 6, pools)).toEqual({ domain: 'zone', survivingInstances: 4 });
  });

  it.each([
    // Demand the policy sized for at a step: the step's own (oracle, perfect forecast), the warm-up peak (static), none (reactive's HPA count).
    ['oracle', oraclePolicy, (i: number) => demand[i]],
    ['predictive', (ctx: PolicyContext) => predictivePolicy(ctx, { forecasterFor: () => perfectForecaster }), (i: number) => demand[i]],
    ['static', staticPolicy, () => Math.max(demand[0], demand[1])],
    ['reactive', (ctx: PolicyContext) => reactivePolicy(ctx, { holds: sloHolds }), undefined],
  ] as const)('%s: at every tick, losing any zone leaves the instances its sizing promised', async (_name, make, sizedFor) => {
    let checked = 0;
    const watch = (ctx: PolicyContext): ReplayPolicy => {
      const inner = make(ctx);
      return {
        ...inner,
        initialAllocation: () => inner.initialAllocation(),
        async onTick(tick, driver) {
          await inner.onTick(tick, driver);
          const running = driver.running().pay ?? {};
          const { counts } = instancesByDomain(running, pools, 'zone');
          const total = counts.reduce((a, b) => a + b, 0);
          const surviving = total - Math.max(0, ...counts);
          // The spread the engine was given for what runs; for oracle/predictive/static also the SLO need.
          expect(surviving, `step ${tick.stepIndex} tick ${tick.tickInStep}: ${JSON.stringify(running)}`).toBeGreaterThanOrEqual(spreadFor(w, total, pools)?.survivingInstances ?? 0);
          if (sizedFor) expect(surviving).toBeGreaterThanOrEqual(instancesForDemand(w, sizedFor(tick.stepIndex)).instances);
          checked++;
        },
      };
    };
    await replay(s, { policies: [watch], sizer, allocator: () => horizonAllocator(s) });
    expect(checked).toBe(20);
  });
});

describe('engine choice in runScenario (auto)', () => {
  const net = pool('n', 'z1', { nodeType: { name: 'n-node', capacity: { cpuMillicores: 1000, memoryMiB: 4096, networkMbps: 1000 } } });
  it.each([
    ['plain', [workload('w', [1])], [pool('a', 'z1')], false],
    ['N+k only (sizing alone, no placement rule)', [workload('w', [1], { availability: { spareInstances: 1 } })], [pool('a', 'z1')], false],
    ['zone spread', [workload('w', [1], { availability: { survive: 'zone' } })], [pool('a', 'z1'), pool('b', 'z2')], true],
    ['bandwidth on pools only', [workload('w', [1])], [net], false],
    ['bandwidth on pools and workloads', [workload('w', [1], { perInstance: { cpuMillicores: 500, memoryMiB: 512, networkMbps: 100 } })], [net], true],
  ] as const)('%s → horizon engine: %s', (_name, workloads, pools, expected) => {
    expect(needsHorizonEngine(scenario([...workloads], [...pools], 1))).toBe(expected);
  });
});

describe('bandwidth in the replay', () => {
  it('the engine places by bandwidth, and the simulator runs exactly what was placed', async () => {
    // Node: 4 CPUs but 1000 Mbps; instance: 1 CPU, 400 Mbps → 2 per node by bandwidth (4 by CPU).
    const net = pool('n', 'z1', { nodeType: { name: 'n-node', capacity: { cpuMillicores: 4000, memoryMiB: 16384, networkMbps: 1000 } } });
    const w = workload('stream', [3, 3, 3, 3, 3, 3, 3, 3, 3, 3], { perInstance: { cpuMillicores: 1000, memoryMiB: 1024, networkMbps: 400 } });
    const s = scenario([w], [net], 4);
    const r = await replay(s, { policies: [oraclePolicy], sizer: requirementSizer(s), allocator: () => horizonAllocator(s) });
    // 6 instances need ⌈6 / 2⌉ = 3 nodes (CPU alone would say 2), and all 6 run.
    expect(r.policies[0].timeline.nodes.n).toEqual([3, 3, 3, 3]);
    expect(r.policies[0].timeline.instances.stream).toEqual([6, 6, 6, 6]);
  });
});
