/**
 * A small reusable pool of worker threads for forecasting work, so that fitting,
 * backtesting and training run off the main thread (a server's event loop stays
 * free) and on every core. Tasks are plain data (see worker.ts); each goes to the
 * first idle worker, in submission order. A task that throws rejects its promise
 * with the worker's message; a worker that dies rejects its task and is replaced.
 */
import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { InvalidInputError } from '../core/errors.ts';
import { type TaskRequest, type TaskResponse, WorkerTaskError, siblingModule, startWorker } from '../core/workers.ts';
import type { TaskResult, Task } from './worker.ts';

export interface ForecastPoolOptions {
  /** Worker threads; default the machine's available parallelism. */
  readonly size?: number;
}

export interface ForecastPool {
  readonly size: number;
  /** Run one task on an idle worker. */
  run<T extends Task>(task: T): Promise<TaskResult<T>>;
  /** Run one task on every worker (e.g. to hand them a trained model); resolves when all have. */
  broadcast<T extends Task>(task: T): Promise<TaskResult<T>[]>;
  /** Stop every worker (pending tasks are rejected). */
  close(): Promise<void>;
}

const WORKER_URL = siblingModule('worker', import.meta.url);

interface Pending {
  readonly id: number;
  readonly task: Task;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  busy?: Pending;
  /** Tasks pinned to this worker (broadcasts), run before shared ones. */
  readonly own: Pending[];
}

export function createForecastPool(options: ForecastPoolOptions = {}): ForecastPool {
  const size = options.size ?? Math.max(1, availableParallelism());
  if (!Number.isInteger(size) || size < 1) throw new InvalidInputError('size', `a pool needs a whole number of workers ≥ 1, got ${size}`);
  const queue: Pending[] = [];
  let nextId = 1;
  let closed = false;

  const spawn = (slot?: Slot): Slot => {
    const worker = startWorker(WORKER_URL);
    const s: Slot = slot ?? { worker, own: [] };
    s.worker = worker;
    worker.on('message', (message: TaskResponse) => {
      const job = s.busy;
      s.busy = undefined;
      if (job && job.id === message.id) {
        if (message.ok) job.resolve(message.result);
        else job.reject(new WorkerTaskError(message.name, message.message));
      }
      dispatch();
    });
    worker.on('error', (error) => {
      const job = s.busy;
      s.busy = undefined;
      job?.reject(error instanceof Error ? error : new Error(String(error)));
    });
    worker.on('exit', () => {
      if (closed) return;
      const job = s.busy;
      s.busy = undefined;
      job?.reject(new Error('forecast worker exited'));
      spawn(s);
      dispatch();
    });
    return s;
  };
  const slots: Slot[] = Array.from({ length: size }, () => spawn());
  // Idle workers must not keep a finished program alive.
  const refresh = () => slots.forEach((s) => (s.busy || s.own.length || queue.length ? s.worker.ref() : s.worker.unref()));

  function dispatch(): void {
    for (const slot of slots) {
      if (slot.busy) continue;
      const job = slot.own.shift() ?? queue.shift();
      if (!job) continue;
      slot.busy = job;
      const request: TaskRequest<Task> = { id: job.id, task: job.task };
      slot.worker.postMessage(request);
    }
    refresh();
  }

  const submit = (task: Task, target?: Slot): Promise<unknown> => {
    if (closed) return Promise.reject(new Error('the forecast pool is closed'));
    return new Promise((resolve, reject) => {
      const job = { id: nextId++, task, resolve, reject };
      if (target) target.own.push(job);
      else queue.push(job);
      dispatch();
    });
  };

  return {
    size,
    run: <T extends Task>(task: T) => submit(task) as Promise<TaskResult<T>>,
    broadcast: <T extends Task>(task: T) => Promise.all(slots.map((slot) => submit(task, slot))) as Promise<TaskResult<T>[]>,
    async close() {
      closed = true;
      const error = new Error('the forecast pool is closed');
      for (const job of queue.splice(0)) job.reject(error);
      for (const slot of slots) {
        for (const job of slot.own.splice(0)) job.reject(error);
        slot.busy?.reject(error);
        slot.busy = undefined;
      }
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}
