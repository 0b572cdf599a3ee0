/**
 * Packing checks of many steps at once (`checkAllocationPacking` per step),
 * on worker threads: the steps are independent, and at 10,000 workloads one
 * step's check takes seconds, so `headroom allocate`'s report of a 24-step
 * plan waited for them one after another.
 */
import { availableParallelism } from 'node:os';
import type { Pool, Resources } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { runTasks, siblingModule } from '../core/workers.ts';
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
export function checkPackingSteps(
  allocations: readonly Pick<Allocation, 'nodesByPool' | 'instances'>[],
  pools: readonly Pool[],
  workloads: readonly { readonly name: string; readonly perInstance: Resources }[],
  options: (t: number) => PackingCheckOptions,
  threads = Math.min(availableParallelism(), allocations.length),
): Promise<AllocationPackingReport[]> {
  // The dearest steps (effort `best`) first: the others fill in around them.
  const order = allocations.map((_, t) => t).sort((a, b) => Number(options(b).effort !== 'enough') - Number(options(a).effort !== 'enough') || a - b);
  const tasks = allocations.map((allocation, t): PackingTask => ({ allocation, pools, workloads, options: options(t) }));
  return runTasks<PackingTask, AllocationPackingReport, AllocationPackingReport>(siblingModule('packingWorker', import.meta.url), tasks, { threads, inThread: runPackingTask, unwrap: (report) => report, order });
}
