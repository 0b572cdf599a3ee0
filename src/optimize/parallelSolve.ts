/**
 * Independent models solved at once, each in a worker thread with its own
 * HiGHS runtime (the WebAssembly build runs one thread per runtime), so a
 * decomposition's LP windows use every core. Workers live for one call: they
 * start in a fraction of a second, which only pays for solves of seconds.
 */
import type { Worker } from 'node:worker_threads';
import { siblingModule, startWorker } from '../core/workers.ts';
import type { LinearModel } from './lp.ts';
import { type SolveOptions, type SolveResult, SolverAbortedError, solveModel } from './solver.ts';
import type { SolveRequest, SolveResponse } from './solverWorker.ts';

const WORKER_URL = siblingModule('solverWorker', import.meta.url);

export interface SolveJob {
  readonly model: LinearModel;
  readonly options: SolveOptions;
}

/**
 * Solves every job, at most `workers` at a time, and answers in the jobs'
 * order. With one worker (or one job) the jobs run in this thread, one after
 * another. The first job that fails (a HiGHS abort comes back as a
 * `SolverAbortedError`) rejects the call and stops the other workers.
 */
export async function solveModels(jobs: readonly SolveJob[], workers: number): Promise<SolveResult[]> {
  const threads = Math.min(jobs.length, Math.max(1, Math.floor(workers)));
  if (threads <= 1) {
    const results: SolveResult[] = [];
    for (const job of jobs) results.push(await solveModel(job.model, job.options));
    return results;
  }
  const results = new Array<SolveResult>(jobs.length);
  const started: Worker[] = [];
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let done = 0;
      const feed = (worker: Worker) => {
        if (next >= jobs.length) return;
        const request: SolveRequest = { id: next, model: jobs[next].model, options: jobs[next].options };
        next++;
        worker.postMessage(request);
      };
      for (let i = 0; i < threads; i++) {
        const worker = startWorker(WORKER_URL);
        started.push(worker);
        worker.on('message', (response: SolveResponse) => {
          if (!response.ok) {
            const a = response.aborted;
            reject(a ? new SolverAbortedError(a.columns, a.rows, a.cause) : new Error(response.message));
            return;
          }
          results[response.id] = response.result;
          if (++done === jobs.length) resolve();
          else feed(worker);
        });
        worker.on('error', reject);
        worker.on('exit', (code) => {
          if (done < jobs.length) reject(new Error(`a solver worker exited (code ${code}) before its model was solved`));
        });
        feed(worker);
      }
    });
  } finally {
    await Promise.all(started.map((w) => w.terminate()));
  }
  return results;
}
