/**
 * Independent models solved at once, each in a worker thread with its own
 * HiGHS runtime (the WebAssembly build runs one thread per runtime), so a
 * decomposition's LP windows use every core. Workers live for one call: they
 * start in a fraction of a second, which only pays for solves of seconds.
 */
import { TaskWorker, siblingModule } from '../core/workers.ts';
import { type SolveResult, SolverAbortedError, solveModel } from './solver.ts';
import type { SolveOutcome, SolveTask } from './solverWorker.ts';

const WORKER_URL = siblingModule('solverWorker', import.meta.url);

/**
 * Solves every job, at most `workers` at a time, and answers in the jobs'
 * order. With one worker (or one job) the jobs run in this thread, one after
 * another. The first job that fails (a HiGHS abort comes back as a
 * `SolverAbortedError`) rejects the call; the workers are stopped either way.
 */
export async function solveModels(jobs: readonly SolveTask[], workers: number): Promise<SolveResult[]> {
  const threads = Math.min(jobs.length, Math.max(1, Math.floor(workers)));
  if (threads <= 1) {
    const results: SolveResult[] = [];
    for (const job of jobs) results.push(await solveModel(job.model, job.options));
    return results;
  }
  const pool = Array.from({ length: threads }, () => new TaskWorker<SolveTask, SolveOutcome>(WORKER_URL));
  let next = 0;
  const results = new Array<SolveResult>(jobs.length);
  // Each worker takes the next job as soon as it is free.
  const drain = async (worker: TaskWorker<SolveTask, SolveOutcome>) => {
    for (let i = next++; i < jobs.length; i = next++) {
      const outcome = await worker.run(jobs[i]);
      if ('aborted' in outcome) throw new SolverAbortedError(outcome.aborted.columns, outcome.aborted.rows, outcome.aborted.cause);
      results[i] = outcome.result;
    }
  };
  try {
    await Promise.all(pool.map(drain));
  } finally {
    await Promise.all(pool.map((w) => w.close()));
  }
  return results;
}
