/**
 * Packing checks of many steps at once (`checkAllocationPacking` per step),
 * on worker threads: the steps are independent, and at 10,000 workloads one
 * step's check takes seconds, so `headroom allocate`'s report of a 24-step
 * plan waited for them one after another.
 */
import { availableParallelism } from 'node:os';
import type { Pool, Resources } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { TaskWorker, siblingModule } from '../core/workers.ts';
import { type AllocationPackingReport, type PackingCheckOptions, checkAllocationPacking } from './binpack.ts';

export interface PackingTask {
  readonly allocation: Pick<Allocation, 'nodesByPool' | 'instances'>;
  readonly pools: readonly Pool[];
  readonly workloads: readonly { readonly name: string; readonly perInstance: Resources }[];
  readonly options: PackingCheckOptions;
}

export function runPackingTask(task: PackingTask): Promise<AllocationPackingReport> {
  return checkAllocationPacking(task.allocation, task.pools, task.workloads, task.options);
}

/**
 * Each step's packing report, in step order: `threads` worker threads (default
 * one per core, at most one per step; 1: in this thread), the dearest steps
 * (effort `best`) first, each thread taking the next step when it is done.
 * The reports are those of `checkAllocationPacking` in this thread.
 */
export async function checkPackingSteps(
  allocations: readonly Pick<Allocation, 'nodesByPool' | 'instances'>[],
  pools: readonly Pool[],
  workloads: readonly { readonly name: string; readonly perInstance: Resources }[],
  options: (t: number) => PackingCheckOptions,
  threads = Math.min(availableParallelism(), allocations.length),
): Promise<AllocationPackingReport[]> {
  if (threads <= 1) {
    const reports: AllocationPackingReport[] = [];
    for (const [t, allocation] of allocations.entries()) reports.push(await checkAllocationPacking(allocation, pools, workloads, options(t)));
    return reports;
  }
  const workers = Array.from({ length: threads }, () => new TaskWorker<PackingTask, AllocationPackingReport>(siblingModule('packingWorker', import.meta.url)));
  try {
    const queue = allocations.map((_, t) => t).sort((a, b) => Number(options(b).effort !== 'enough') - Number(options(a).effort !== 'enough') || a - b);
    const reports: AllocationPackingReport[] = [];
    // Each thread takes the next step when it is done with one.
    await Promise.all(
      workers.map(async (worker) => {
        for (let t = queue.shift(); t !== undefined; t = queue.shift()) reports[t] = await worker.run({ allocation: allocations[t], pools, workloads, options: options(t) });
      }),
    );
    return reports;
  } finally {
    await Promise.all(workers.map((w) => w.close()));
  }
}
