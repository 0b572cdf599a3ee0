/**
 * Independent models solved at once, each in a worker thread with its own
 * HiGHS runtime (the WebAssembly build runs one thread per runtime), so a
 * decomposition's LP windows use every core. Workers live for one call: they
 * start in a fraction of a second, which only pays for solves of seconds.
 */
import { runTasks, siblingModule } from '../core/workers.ts';
import { type SolveResult, SolverAbortedError, solveModel } from './solver.ts';
import type { SolveOutcome, SolveTask } from './solverWorker.ts';

const WORKER_URL = siblingModule('solverWorker', import.meta.url);

/**
 * Solves every job, at most `workers` at a time, and answers in the jobs'
 * order. With one worker (or one job) the jobs run in this thread, one after
 * another. The first job that fails (a HiGHS abort comes back as a
 * `SolverAbortedError`) rejects the call; the workers are stopped either way.
 */
export function solveModels(jobs: readonly SolveTask[], workers: number): Promise<SolveResult[]> {
  return runTasks<SolveTask, SolveOutcome, SolveResult>(WORKER_URL, jobs, {
    threads: workers,
    inThread: (job) => solveModel(job.model, job.options),
    unwrap: (outcome) => {
      if ('aborted' in outcome) throw new SolverAbortedError(outcome.aborted.columns, outcome.aborted.rows, outcome.aborted.cause);
      return outcome.result;
    },
  });
}
