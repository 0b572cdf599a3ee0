import { afterAll, describe, expect, it } from 'vitest';
import { generateInstance } from '../../bench/instances.ts';
import { InfeasibleError } from '../core/errors.ts';
import type { Series } from '../core/series.ts';
import { readNabSeries } from '../forecast/testData.ts';
import type { AllocateInput } from '../optimize/allocate.ts';
import { hpool } from '../optimize/testFixtures.ts';
import { inThreadCompute, workerCompute } from './compute.ts';

/** Turns of the event loop (setImmediate callbacks) that run while `work` is pending. */
async function turnsWhile<T>(work: () => Promise<T>): Promise<{ result: T; turns: number }> {
  let turns = 0;
  let done = false;
  const spin = () => {
    if (done) return;
    turns++;
    setImmediate(spin);
  };
  setImmediate(spin);
  const result = await work();
  done = true;
  return { result, turns };
}

/** One hour of the benchmark's generated fleet (300 workloads, 150 pools) as the loop's allocation input. */
function fleetHour(): AllocateInput {
  const h = generateInstance({ workloads: 300, seed: 7, steps: 1 });
  return {
    workloads: h.workloads.map((w) => ({ name: w.name, perInstance: w.perInstance, instances: w.instances[0], minInstances: w.minInstances, priority: w.priority, tags: w.tags })),
    pools: h.pools,
  };
}

describe('the control loop’s computation in a worker thread', () => {
  const worker = workerCompute(1);
  const here = inThreadCompute();
  afterAll(() => worker.close());

  it('fits the same forecast as this thread, on a real trace (NAB AWS ELB request count)', async () => {
    const elb: Series = readNabSeries('data/nab/elb_request_count_8c0756.csv');
    const history = { ...elb, values: elb.values.slice(0, 2016) };
    const task = { model: 'auto', history, horizonSteps: 24, levels: [0.05, 0.5, 0.9, 0.95] };
    const [a, b] = [await here.forecast(task), await worker.forecast(task)];
    expect(b).toEqual(a);
    expect(b.mean).toHaveLength(24);
  });

  it('fits forecasts sent at once side by side on two threads, each equal to this thread’s', async () => {
    const two = workerCompute(2);
    try {
      const elb: Series = readNabSeries('data/nab/elb_request_count_8c0756.csv');
      const tasks = [0, 300, 600, 900].map((from) => ({ model: 'auto', history: { ...elb, startSeconds: elb.startSeconds + from * elb.stepSeconds, values: elb.values.slice(from, from + 1200) }, horizonSteps: 12, levels: [0.5, 0.95] }));
      const remote = await Promise.all(tasks.map((t) => two.forecast(t)));
      const local = [];
      for (const t of tasks) local.push(await here.forecast(t));
      expect(two.threads).toBe(2);
      expect(remote).toEqual(local);
      // Four different histories, four different forecasts, each in its own slot.
      expect(new Set(remote.map((f) => f.mean[0])).size).toBe(4);
    } finally {
      await two.close();
    }
  });

  it('solves the same allocation as this thread, and the API’s event loop keeps turning while it does', async () => {
    const input = fleetHour();
    // Load this thread's HiGHS first (loading it is asynchronous, solving is not).
    await here.allocate({ workloads: [], pools: [hpool('general', 4, 16, 0.2)] });
    const there = await turnsWhile(() => worker.allocate(input));
    const local = await turnsWhile(() => here.allocate(input));
    expect(there.result.instances).toEqual(local.result.instances);
    expect(there.result.nodesByPool).toEqual(local.result.nodesByPool);
    expect(there.result.objective).toBe(local.result.objective);
    // In this thread the solve holds the event loop from start to end; in the worker it is free throughout.
    expect(local.turns).toBeLessThanOrEqual(2);
    expect(there.turns).toBeGreaterThan(20);
  });

  it('passes errors back with their name and message, and keeps working after one', async () => {
    const input: AllocateInput = {
      workloads: [{ name: 'payments', perInstance: { cpuMillicores: 500, memoryMiB: 512 }, instances: 2, minInstances: 2, priority: 5, tags: ['pci'] }],
      pools: [hpool('general', 4, 16, 0.2)],
    };
    const local = await here.allocate(input).catch((e: unknown) => e);
    expect(local).toBeInstanceOf(InfeasibleError);
    const remote = await worker.allocate(input).catch((e: unknown) => e);
    expect(remote).toBeInstanceOf(Error);
    expect((remote as Error).name).toBe('InfeasibleError');
    expect((remote as Error).message).toBe((local as Error).message);
    expect((remote as Error).message).toContain('payments');
    const ok = await worker.allocate({ ...input, workloads: [{ ...input.workloads[0], tags: [] }] });
    expect(ok.instances.payments).toEqual({ general: 2 });
  });
});
