/**
 * The forecasting worker thread (see pool.ts): receives tasks as plain data,
 * runs them with the pure forecasting code, and posts the result back. Trained
 * global models handed over by 'set-global' stay in the worker for later tasks.
 */
import { parentPort } from 'node:worker_threads';
import { serveTasks } from '../core/workers.ts';
import type { Series } from '../core/series.ts';
import { forecastSeries, type EngineConfig, type SeriesForecast } from './engine.ts';
import { trainGlobalMlp, type GlobalMlpModel, type GlobalMlpOptions } from './globalMlp.ts';

export type Task =
  | { readonly kind: 'train-global'; readonly series: readonly Series[]; readonly options: GlobalMlpOptions }
  | { readonly kind: 'set-global'; readonly models: readonly GlobalMlpModel[] }
  | {
      readonly kind: 'forecast';
      readonly series: Series;
      readonly config: EngineConfig;
      readonly horizonSteps: number;
      readonly levels: readonly number[];
      /** Also return every candidate's own calibrated forecast. */
      readonly everyModel?: boolean;
    };

export type TaskResult<T extends Task> = T extends { kind: 'train-global' }
  ? GlobalMlpModel
  : T extends { kind: 'set-global' }
    ? number
    : T extends { kind: 'forecast' }
      ? SeriesForecast & { readonly seconds: number }
      : never;

let globalModels: readonly GlobalMlpModel[] = [];

/** Run one task in this thread (exported for tests that skip the thread). */
export function runTask(task: Task): unknown {
  switch (task.kind) {
    case 'train-global':
      return trainGlobalMlp(task.series, task.options);
    case 'set-global':
      globalModels = task.models;
      return globalModels.length;
    case 'forecast': {
      const started = performance.now();
      const result = forecastSeries(task.series, task.config, task.horizonSteps, task.levels, globalModels, task.everyModel ?? false, () => performance.now() / 1000);
      return { ...result, seconds: (performance.now() - started) / 1000 };
    }
  }
}

if (parentPort) serveTasks(parentPort, runTask);
