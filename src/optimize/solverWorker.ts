/**
 * A worker thread that solves models with its own HiGHS runtime (see
 * parallelSolve.ts), one at a time.
 */
import { parentPort } from 'node:worker_threads';
import { serveTasks } from '../core/workers.ts';
import type { LinearModel } from './lp.ts';
import { type SolveOptions, type SolveResult, SolverAbortedError, solveModel } from './solver.ts';

export interface SolveTask {
  readonly model: LinearModel;
  readonly options: SolveOptions;
}

/** A HiGHS abort comes back as data, so the caller can raise the same `SolverAbortedError`. */
export type SolveOutcome = { readonly result: SolveResult } | { readonly aborted: { readonly columns: number; readonly rows: number; readonly cause: string } };

export async function solveTask(task: SolveTask): Promise<SolveOutcome> {
  try {
    return { result: await solveModel(task.model, task.options) };
  } catch (error) {
    if (error instanceof SolverAbortedError) return { aborted: { columns: error.columns, rows: error.rows, cause: String(error.cause) } };
    throw error;
  }
}

if (parentPort) serveTasks(parentPort, solveTask);
