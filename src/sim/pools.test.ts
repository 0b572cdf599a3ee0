import { describe, expect, it } from 'vitest';
import type { Pool, Scenario, Workload } from '../core/model.ts';
import { barredCandidates, poolFragmentation, type PoolStatus } from './pools.ts';
import { horizonAllocator } from './horizonAllocator.ts';
import { mipAllocator } from './run.ts';
import { handScenario, replayPerfect, utilizationWorkload } from './testFixtures.ts';

const node = (over: Partial<Pool> = {}): Pool => ({
  name: 'p',
  provider: 'cloud',
  zone: 'z',
  nodeType: { name: 'n', capacity: { cpuMillicores: 4000, memoryMiB: 8192 } },
  costPerHour: 1,
  provisioningDelaySeconds: 0,
  minNodes: 0,
  maxNodes: 10,
  tags: [],
  ...over,
});

describe('poolFragmentation (hand-computed)', () => {
  const pool = node();
  it('memory stranded by exhausted CPU, on mixed shapes', () => {
    // Node 4 cores / 8 GiB. First fit decreasing by normalised size: (3 cores, 1 GiB) (size 0.875) first,
    // then a (1 core, 4 GiB) (0.75) beside it: node 1 uses (4 cores, 5 GiB), 3 GiB stranded (no CPU left).
    // The second (1, 4 GiB) opens node 2: (3 cores, 4 GiB) free, where another still fits: nothing stranded.
    // A third, empty node: all free, nothing stranded.
    const f = poolFragmentation(pool, [
      { name: 'memory-heavy', size: { cpuMillicores: 1000, memoryMiB: 4096 }, count: 2 },
      { name: 'cpu-heavy', size: { cpuMillicores: 3000, memoryMiB: 1024 }, count: 1 },
    ], 3);
    expect(f).toEqual({ nodes: 3, free: { cpuMillicores: 0 + 3000 + 4000, memoryMiB: 3072 + 4096 + 8192 }, stranded: { cpuMillicores: 0, memoryMiB: 3072 } });
  });

  it('CPU stranded by exhausted memory', () => {
    // Two (1 core, 4 GiB) fill one node's memory: 2 cores stranded.
    const f = poolFragmentation(pool, [{ name: 'memory-heavy', size: { cpuMillicores: 1000, memoryMiB: 4096 }, count: 2 }], 1);
    expect(f).toEqual({ nodes: 1, free: { cpuMillicores: 2000, memoryMiB: 0 }, stranded: { cpuMillicores: 2000, memoryMiB: 0 } });
  });

  it('memory stranded by exhausted CPU', () => {
    // Two (2 cores, 1 GiB) use all 4 cores of one node: 6 GiB stranded.
    const f = poolFragmentation(pool, [{ name: 'cpu', size: { cpuMillicores: 2000, memoryMiB: 1024 }, count: 2 }], 1);
    expect(f).toEqual({ nodes: 1, free: { cpuMillicores: 0, memoryMiB: 6144 }, stranded: { cpuMillicores: 0, memoryMiB: 6144 } });
  });

  it('counts the nodes packing needs when the pool has fewer', () => {
    const f = poolFragmentation(pool, [{ name: 'cpu', size: { cpuMillicores: 2000, memoryMiB: 1024 }, count: 4 }], 1);
    expect(f.nodes).toBe(2);
    expect(f.stranded.memoryMiB).toBe(2 * 6144);
  });
});

describe('barredCandidates: the creation-cost threshold', () => {
  const pools = [node({ name: 'base' }), node({ name: 'cheap', candidate: true, creationCost: 50 }), node({ name: 'dear', candidate: true, creationCost: 50.01 })];
  it.each([
    [50, ['dear']],
    [49.99, ['cheap', 'dear']],
    [100, []],
  ])('threshold %d bars %j', (maxCreationCost, barred) => {
    expect([...barredCandidates(pools, { maxCreationCost, dismantleAfterSeconds: 3600, idleReclaimSeconds: 600 }).keys()]).toEqual(barred);
  });
});

const workload = (name: string, priority: number, values: number[]): Workload => utilizationWorkload(name, values, { priority });

describe('candidate pool life cycle in the replay (hand-made, both sides of the creation-cost threshold)', () => {
  const warm = 2;
  const evalSteps = 16;
  // lo needs 2 instances, 6 at evaluated steps 6..8; hi always 2. base holds 4 (one instance per node).
  const lo = Array.from({ length: warm + evalSteps + 8 }, (_, i) => (i - warm >= 6 && i - warm <= 8 ? 3 : 1));
  const hi = lo.map(() => 1);
  const base = node({ name: 'base', provider: 'own', nodeType: { name: 'small', capacity: { cpuMillicores: 1000, memoryMiB: 4096 } }, maxNodes: 4, network: { cidr: '10.20.0.0/24' } });
  const burst = node({ name: 'burst', nodeType: { name: 'small', capacity: { cpuMillicores: 1000, memoryMiB: 4096 } }, costPerHour: 2, provisioningDelaySeconds: 600, candidate: true, creationCost: 50 });
  const scenario = (maxCreationCost: number): Scenario =>
    handScenario(
      {
        name: 'burst',
        workloads: [workload('hi', 10, hi), workload('lo', 1, lo)],
        pools: [base, burst],
        providers: [
          { name: 'own', kind: 'own' },
          { name: 'cloud', kind: 'cloud' },
        ],
        poolLifecycle: { maxCreationCost, dismantleAfterSeconds: 900, idleReclaimSeconds: 600 },
        network: { parentCidr: '10.20.0.0/16', podsPerNode: 32 },
      },
      warm,
      evalSteps,
    );
  const run = (s: Scenario) => replayPerfect(s, (pools) => mipAllocator(s, pools));
  const t = (evalStep: number) => (warm + evalStep) * 300;

  it('under the threshold: created one provisioning delay ahead of the peak, with its network, and dismantled after it', async () => {
    const s = scenario(50);
    const r = (await run(s)).policies[0];
    const changes = r.pools!.changes;
    const create = changes.find((c) => c.action === 'create')!;
    // Decision at step 4 holds the peak of steps 4..6 (decision interval + 600 s delay): nodes ready at step 6.
    expect(create.timeSeconds).toBe(t(4));
    expect(create.pool).toBe('burst');
    // 10 nodes × 32 pods = 320 addresses: a /23, the first free one after base's 10.20.0.0/24.
    expect(create.network).toEqual({ segment: 'burst-pods', cidr: '10.20.2.0/23', podsPerNode: 32, addresses: 512, neededAddresses: 320 });
    const firstScale = changes.find((c) => c.action === 'scale')!;
    expect(firstScale).toMatchObject({ timeSeconds: t(4), fromNodes: 0, toNodes: 4 });
    // Every instance needed runs through the peak: nothing throttled.
    expect(r.pools!.throttled).toEqual([]);
    for (let e = 6; e <= 8; e++) expect(r.timeline.instances.lo[e]).toBe(6);
    const dismantle = changes.find((c) => c.action === 'dismantle')!;
    const emptied = changes.filter((c) => c.action === 'scale' && c.toNodes === 0).at(-1)!;
    expect(emptied.timeSeconds).toBeGreaterThanOrEqual(t(9));
    expect(dismantle.timeSeconds).toBe(emptied.timeSeconds + 900);
    expect(r.pools!.creationCost).toBe(50);
    expect(r.pools!.barred).toEqual([]);
  });

  it('over the threshold: never created; the low-priority workload is throttled, the high-priority one is not', async () => {
    const s = scenario(49.99);
    const r = (await run(s)).policies[0];
    expect(r.pools!.changes).toEqual([]);
    expect(r.pools!.barred.map((b) => b.pool)).toEqual(['burst']);
    expect(r.pools!.creationCost).toBe(0);
    // The plans of the decisions at steps 4..8 hold lo's peak of 6 (3 steps ahead) and place 4 (base's 4 nodes
    // minus hi's 2): 4 short for 5 steps of 300 s = 1500 s.
    expect(r.pools!.throttled).toEqual([{ workload: 'lo', priority: 1, missingInstanceHours: (4 * 1500) / 3600, hoursShort: 1500 / 3600 }]);
    expect(r.timeline.nodes.burst.every((n) => n === 0)).toBe(true);
  });
});

describe('an incident with each allocation engine (hand-made)', () => {
  const warm = 2;
  const evalSteps = 10;
  const demand = Array.from({ length: warm + evalSteps + 8 }, () => 2);
  const small = { name: 'small', capacity: { cpuMillicores: 1000, memoryMiB: 4096 } };
  const s: Scenario = handScenario(
    {
      name: 'incident',
      workloads: [workload('api', 1, demand)],
      pools: [node({ name: 'cheap', provider: 'own', nodeType: small, costPerHour: 1 }), node({ name: 'dear', provider: 'cloud', nodeType: small, costPerHour: 2, provisioningDelaySeconds: 60 })],
      providers: [
        { name: 'own', kind: 'own' },
        { name: 'cloud', kind: 'cloud' },
      ],
      // The own provider fails over evaluated steps 3, 4 and 5.
      incidents: [{ provider: 'own', startSeconds: (warm + 3) * 300, endSeconds: (warm + 6) * 300 }],
    },
    warm,
    evalSteps,
  );
  it.each([
    ['single-step', () => (pools: PoolStatus) => mipAllocator(s, pools)],
    ['multi-step', () => (pools: PoolStatus) => horizonAllocator(s, { pools })],
  ] as const)('%s: the cheap pool is emptied at the decision the failure is seen, refilled after', async (_engine, make) => {
    const r = await replayPerfect(s, make());
    const tl = r.policies[0].timeline;
    // 4 instances at 2 rps; one per node.
    expect(tl.nodes.cheap.slice(0, 3)).toEqual([4, 4, 4]);
    expect(tl.nodes.dear.slice(0, 3)).toEqual([0, 0, 0]);
    // Step 3: the decision at its start moves everything; dear's nodes boot for 60 s of the step's 300 (ticks at 0 and 150 s).
    expect(tl.instances.api[3]).toBe(2);
    expect(tl.nodes.cheap.slice(4, 6)).toEqual([0, 0]);
    expect(tl.instances.api.slice(4, 6)).toEqual([4, 4]);
    // Healthy again from step 6: back to the cheap pool once the dear one's instances can go.
    expect(tl.nodes.cheap.at(-1)).toBe(4);
    expect(tl.nodes.dear.at(-1)).toBe(0);
  });

  it.each([
    ['single-step', (x: Scenario) => (pools: PoolStatus) => mipAllocator(x, pools)],
    ['multi-step', (x: Scenario) => (pools: PoolStatus) => horizonAllocator(x, { pools })],
  ] as const)('%s: every provider failing places nothing for the outage and reports the shortfall; the run goes on', async (_engine, make) => {
    const all: Scenario = { ...s, incidents: [s.incidents![0], { provider: 'cloud', startSeconds: (warm + 3) * 300, endSeconds: (warm + 6) * 300 }] };
    const r = await replayPerfect(all, make(all));
    const p = r.policies[0];
    expect(p.timeline.instances.api.slice(3, 6)).toEqual([0, 0, 0]);
    // The plans of the decisions at steps 3, 4, 5 place none of the 4 instances: 4 × 900 s.
    expect(p.pools!.throttled).toEqual([{ workload: 'api', priority: 1, missingInstanceHours: 1, hoursShort: 0.25 }]);
    expect(p.timeline.instances.api.at(-1)).toBe(4);
  });
});
