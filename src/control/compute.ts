/**
 * The control loop's computation (fitting forecasts, solving the allocation),
 * in this thread or in a worker thread. `headroom serve` uses the worker, so
 * a cycle's seconds of model fitting and MIP solving do not stall the API's
 * event loop (health checks, metrics scrapes, requests); tests and one-off
 * cycles run in this thread. Both run the same functions on the same data.
 */
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
    forecast: async (task) => runComputeTask({ kind: 'forecast', task }) as QuantileForecast,
    allocate: (input) => runComputeTask({ kind: 'allocate', input }) as Promise<AllocationResult>,
    close: async () => undefined,
  };
}

/** One worker thread, started on first use, tasks in order; errors keep their name and message. */
export function workerCompute(): LoopCompute {
  const worker = new TaskWorker<ComputeTask, unknown>(siblingModule('computeWorker', import.meta.url));
  return {
    where: 'worker thread',
    forecast: (task) => worker.run({ kind: 'forecast', task }) as Promise<QuantileForecast>,
    allocate: (input) => worker.run({ kind: 'allocate', input }) as Promise<AllocationResult>,
    close: () => worker.close(),
  };
}
