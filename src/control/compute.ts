/**
 * The control loop's computation (fitting forecasts, solving the allocation),
 * in this thread or in worker threads. `headroom serve` uses the worker, so
 * a cycle's seconds of model fitting and MIP solving do not stall the API's
 * event loop (health checks, metrics scrapes, requests); tests and one-off
 * cycles run in this thread. Both run the same functions on the same data.
 */
import { availableParallelism } from 'node:os';
import { InvalidInputError } from '../core/errors.ts';
import type { QuantileForecast } from '../core/forecast.ts';
import type { Series } from '../core/series.ts';
import { TaskWorker, siblingModule } from '../core/workers.ts';
import { forecasterByName } from '../forecast/index.ts';
import { type AllocateInput, type AllocationResult, allocate } from '../optimize/allocate.ts';

export interface ForecastTask {
  /** A forecaster name (`forecasterByName`). */
  readonly model: string;
  readonly history: Series;
  readonly horizonSteps: number;
  readonly levels: readonly number[];
}

export type ComputeTask = { readonly kind: 'forecast'; readonly task: ForecastTask } | { readonly kind: 'allocate'; readonly input: AllocateInput };

export interface LoopCompute {
  /** Where the work runs, for logs and tests. */
  readonly where: 'this thread' | 'worker thread';
  /** Tasks that can run at once. */
  readonly threads: number;
  forecast(task: ForecastTask): Promise<QuantileForecast>;
  allocate(input: AllocateInput): Promise<AllocationResult>;
  close(): Promise<void>;
}

/** Runs one task (the worker thread calls this too). */
export function runComputeTask(t: ComputeTask): QuantileForecast | Promise<AllocationResult> {
  if (t.kind === 'allocate') return allocate(t.input);
  const { model, history, horizonSteps, levels } = t.task;
  return forecasterByName(model, { horizonSteps, stepSeconds: history.stepSeconds }).fit({ history }).predict(horizonSteps, levels);
}

export function inThreadCompute(): LoopCompute {
  return {
    where: 'this thread',
    threads: 1,
    forecast: async (task) => runComputeTask({ kind: 'forecast', task }) as QuantileForecast,
    allocate: (input) => runComputeTask({ kind: 'allocate', input }) as Promise<AllocationResult>,
    close: async () => undefined,
  };
}

/**
 * `threads` worker threads (default one per core), each started on first use;
 * a task goes to the thread with the fewest unanswered tasks, so the loop's
 * forecasts, sent all at once, are fitted side by side. Errors keep their
 * name and message.
 */
export function workerCompute(threads = availableParallelism()): LoopCompute {
  if (!Number.isInteger(threads) || threads < 1) throw new InvalidInputError('threads', `expected a whole number ≥ 1, got ${threads}`);
  const url = siblingModule('computeWorker', import.meta.url);
  const workers = Array.from({ length: threads }, () => new TaskWorker<ComputeTask, unknown>(url));
  const run = (task: ComputeTask) => workers.reduce((a, b) => (b.inFlight < a.inFlight ? b : a)).run(task);
  return {
    where: 'worker thread',
    threads,
    forecast: (task) => run({ kind: 'forecast', task }) as Promise<QuantileForecast>,
    allocate: (input) => run({ kind: 'allocate', input }) as Promise<AllocationResult>,
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
