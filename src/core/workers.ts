/**
 * Worker threads running this TypeScript source tree (or its compiled build):
 * the one place that knows how a worker loads `.ts` modules.
 */
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** tsx's ESM register API (vitest's import.meta lacks resolve; tsx ships the ESM build beside the CJS one). */
function tsxApiUrl(): string {
  if (typeof import.meta.resolve === 'function') return import.meta.resolve('tsx/esm/api');
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}

/**
 * A worker for the module at `url`. One of the TypeScript source tree registers
 * tsx's loader in its own thread first (on Node 20 the hooks of the tsx CLI or
 * of vitest do not reach workers, nor does `--import` in a worker's execArgv);
 * a compiled tree's `.js` module is loaded directly.
 */
export function startWorker(url: URL): Worker {
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const bootstrap = `import(${JSON.stringify(tsxApiUrl())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(bootstrap, { eval: true });
}

/** The URL of a sibling module, `.ts` in the source tree and `.js` in a compiled one. */
export function siblingModule(name: string, importMetaUrl: string): URL {
  return new URL(importMetaUrl.endsWith('.ts') ? `./${name}.ts` : `./${name}.js`, importMetaUrl);
}

/** What a task worker answers: the result, or the error's name and message (errors do not cross threads whole). */
export type TaskResponse = { readonly id: number; readonly ok: true; readonly result: unknown } | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string };

/** What a task worker is sent. */
export interface TaskRequest<Task> {
  readonly id: number;
  readonly task: Task;
}

/** In a worker thread: answer each `{ id, task }` with `handler(task)` (awaited), one at a time in arrival order. */
export function serveTasks(port: { on(event: 'message', listener: (request: TaskRequest<unknown>) => void): unknown; postMessage(value: unknown): void }, handler: (task: never) => unknown): void {
  let chain = Promise.resolve();
  port.on('message', (request) => {
    chain = chain.then(async () => {
      let response: TaskResponse;
      try {
        response = { id: request.id, ok: true, result: await handler(request.task as never) };
      } catch (error) {
        response = { id: request.id, ok: false, name: error instanceof Error ? error.name : 'Error', message: error instanceof Error ? error.message : String(error) };
      }
      try {
        port.postMessage(response);
      } catch (error) {
        // A result that cannot be cloned (a function, a class with private state) fails its task, not the worker.
        port.postMessage({ id: request.id, ok: false, name: 'DataCloneError', message: `the task's result could not be sent back: ${error instanceof Error ? error.message : String(error)}` } satisfies TaskResponse);
      }
    });
  });
}

/**
 * Runs every task on at most `threads` short-lived workers of `url` (each
 * takes the next task when it is done with one, in `order` when given) and
 * answers in the tasks' order; `unwrap` turns a worker's answer into the
 * result, and may throw to fail the call at once. With one thread (or one
 * task) the tasks run in this thread through `inThread`, one after another.
 * The workers are closed either way.
 */
export async function runTasks<Task, Answer, Result>(
  url: URL,
  tasks: readonly Task[],
  options: { readonly threads: number; readonly inThread: (task: Task) => Promise<Result>; readonly unwrap: (answer: Answer) => Result; readonly order?: readonly number[] },
): Promise<Result[]> {
  const order = options.order ?? tasks.map((_, i) => i);
  const results = new Array<Result>(tasks.length);
  const threads = Math.min(tasks.length, Math.max(1, Math.floor(options.threads)));
  if (threads <= 1) {
    for (const i of order) results[i] = await options.inThread(tasks[i]);
    return results;
  }
  const pool = Array.from({ length: threads }, () => new TaskWorker<Task, Answer>(url));
  let next = 0;
  const drain = async (worker: TaskWorker<Task, Answer>) => {
    for (let k = next++; k < order.length; k = next++) results[order[k]] = options.unwrap(await worker.run(tasks[order[k]]));
  };
  try {
    await Promise.all(pool.map(drain));
  } finally {
    await Promise.all(pool.map((w) => w.close()));
  }
  return results;
}

/** An error a task threw in a worker thread, with the name it had there (`InfeasibleError`, `InvalidInputError`, …). */
export class WorkerTaskError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * One long-lived worker thread running tasks in submission order (see
 * `serveTasks`). A worker that dies fails its pending tasks and is started
 * again for the next one; an idle worker does not keep the process alive.
 */
export class TaskWorker<Task, Result> {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve(value: Result): void; reject(error: Error): void }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly url: URL) {}

  /** Tasks sent and not yet answered. */
  get inFlight(): number {
    return this.pending.size;
  }

  run(task: Task): Promise<Result> {
    if (this.closed) return Promise.reject(new Error('the worker is closed'));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<Result>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, task } satisfies TaskRequest<Task>);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('the worker is closed'));
    await this.worker?.terminate();
    this.worker = undefined;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.url);
    worker.on('message', (response: TaskResponse) => {
      const job = this.pending.get(response.id);
      this.pending.delete(response.id);
      if (this.pending.size === 0) worker.unref();
      if (!job) return;
      if (response.ok) job.resolve(response.result as Result);
      else job.reject(new WorkerTaskError(response.name, response.message));
    });
    worker.on('error', (error) => this.failAll(error));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new Error(`the worker thread exited (code ${code})`));
    });
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }
}
