/**
 * A worker thread that solves models with its own HiGHS runtime (see
 * parallelSolve.ts): one request at a time, plain data in and out.
 */
import { parentPort } from 'node:worker_threads';
import type { LinearModel } from './lp.ts';
import { type SolveOptions, type SolveResult, SolverAbortedError, solveModel } from './solver.ts';

export interface SolveRequest {
  readonly id: number;
  readonly model: LinearModel;
  readonly options: SolveOptions;
}

export type SolveResponse =
  | { readonly id: number; readonly ok: true; readonly result: SolveResult }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly aborted?: { readonly columns: number; readonly rows: number; readonly cause: string } };

parentPort?.on('message', async (request: SolveRequest) => {
  let response: SolveResponse;
  try {
    response = { id: request.id, ok: true, result: await solveModel(request.model, request.options) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    response =
      error instanceof SolverAbortedError
        ? { id: request.id, ok: false, message, aborted: { columns: error.columns, rows: error.rows, cause: String(error.cause) } }
        : { id: request.id, ok: false, message };
  }
  parentPort!.postMessage(response);
});
