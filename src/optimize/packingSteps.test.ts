import { describe, expect, it } from 'vitest';
import { generateInstance } from '../../bench/instances.ts';
import { checkAllocationPacking } from './binpack.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';
import { checkPackingSteps } from './packingSteps.ts';

describe('checkPackingSteps', () => {
  it('gives, on two threads, every step the report checkAllocationPacking gives it in this thread, in step order', async () => {
    // A generated fleet (heavy-tailed sizes, 150 pools) over 4 steps: plans that do not always pack node by node.
    const result = await optimizeHorizon(generateInstance({ workloads: 80, seed: 7, steps: 4 }), { method: 'decomposition' });
    const workloads = result.context.workloads.map((w) => ({ name: w.name, perInstance: w.perInstance }));
    const options = (t: number) => ({ exact: 'never' as const, effort: t === 2 ? ('best' as const) : ('enough' as const) });
    const threaded = await checkPackingSteps(result.allocations, result.context.pools, workloads, options, 2);
    expect(threaded).toHaveLength(4);
    for (const [t, allocation] of result.allocations.entries()) expect(threaded[t]).toEqual(await checkAllocationPacking(allocation, result.context.pools, workloads, options(t)));
    expect(await checkPackingSteps(result.allocations, result.context.pools, workloads, options, 1)).toEqual(threaded);
    // Something to report: nodes counted at every step.
    expect(threaded.every((report) => report.pools.length > 0)).toBe(true);
  });

  it('passes a step\'s error on with its message, and packs a single step on more threads than steps', async () => {
    const pools = [{ name: 'p', provider: 'own', zone: 'a', nodeType: { name: 'n', capacity: { cpuMillicores: 4000, memoryMiB: 8192 } }, costPerHour: 0.1, provisioningDelaySeconds: 0, minNodes: 0, maxNodes: 10, tags: [] }];
    const workloads = [{ name: 'w', perInstance: { cpuMillicores: 1000, memoryMiB: 1024 } }];
    const good = { nodesByPool: { p: 1 }, instances: { w: { p: 2 } } };
    const bad = { nodesByPool: { p: 1 }, instances: { ghost: { p: 1 } } };
    await expect(checkPackingSteps([good, bad], pools, workloads, () => ({}), 2)).rejects.toThrow(/allocation names workload 'ghost'/);
    const [report] = await checkPackingSteps([good], pools, workloads, () => ({}), 2);
    expect(report.pools[0]).toMatchObject({ pool: 'p', nodes: 1, instances: 2, nodesNeeded: 1, extraNodes: 0 });
  });
});
