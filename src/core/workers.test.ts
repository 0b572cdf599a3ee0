import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestTask } from './testWorker.ts';
import { TaskWorker, WorkerTaskError, siblingModule } from './workers.ts';

const url = siblingModule('testWorker', import.meta.url);

describe('TaskWorker: one worker thread, tasks in order', () => {
  let worker: TaskWorker<TestTask, { value?: unknown; waited?: number; threadId: number }>;
  afterEach(() => worker.close());

  it('runs tasks in another thread and answers each in submission order', async () => {
    worker = new TaskWorker(url);
    const answers = await Promise.all([worker.run({ kind: 'wait', ms: 30 }), worker.run({ kind: 'echo', value: { a: [1, 2], b: new Float64Array([0.5]) } })]);
    expect(answers[0].waited).toBe(30);
    expect(answers[1].value).toEqual({ a: [1, 2], b: new Float64Array([0.5]) });
    expect(answers[1].threadId).not.toBe(threadId);
    expect(answers[1].threadId).toBe(answers[0].threadId);
  });

  it('passes a thrown error back with its name and message, and goes on', async () => {
    worker = new TaskWorker(url);
    const error = await worker.run({ kind: 'throw' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerTaskError);
    expect((error as Error).name).toBe('InvalidInputError');
    expect((error as Error).message).toBe('field: is wrong');
    expect((await worker.run({ kind: 'echo', value: 1 })).value).toBe(1);
  });

  it('a result that cannot cross threads fails its task, not the worker', async () => {
    worker = new TaskWorker(url);
    await expect(worker.run({ kind: 'uncloneable' })).rejects.toThrow('could not be sent back');
    expect((await worker.run({ kind: 'echo', value: 3 })).value).toBe(3);
  });

  it('a worker that exits fails its pending tasks, and the next task starts a new one', async () => {
    worker = new TaskWorker(url);
    const first = (await worker.run({ kind: 'echo', value: 0 })).threadId;
    await expect(worker.run({ kind: 'exit' })).rejects.toThrow('exited (code 3)');
    const again = await worker.run({ kind: 'echo', value: 2 });
    expect(again.value).toBe(2);
    expect(again.threadId).not.toBe(first);
  });

  it('refuses work once closed', async () => {
    worker = new TaskWorker(url);
    await worker.close();
    await expect(worker.run({ kind: 'echo', value: 1 })).rejects.toThrow('closed');
  });
});
