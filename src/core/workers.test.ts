import { threadId } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import type { TestTask } from './testWorker.ts';
import { TaskWorker, WorkerTaskError, runTasks, siblingModule } from './workers.ts';

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

describe('runTasks: tasks over short-lived workers', () => {
  const echo = (value: number): TestTask => ({ kind: 'echo', value });
  const unwrap = (answer: unknown) => (answer as { value: number; threadId: number }).value;

  it('answers in the tasks\' order on two threads, and in this thread with one', async () => {
    const tasks = [1, 2, 3, 4, 5].map(echo);
    expect(await runTasks(url, tasks, { threads: 2, inThread: async () => -1, unwrap, order: [4, 3, 2, 1, 0] })).toEqual([1, 2, 3, 4, 5]);
    const ran: number[] = [];
    const inThread = async (task: TestTask) => (ran.push(task.kind === 'echo' ? (task.value as number) : 0), -(task.kind === 'echo' ? (task.value as number) : 0));
    expect(await runTasks(url, tasks, { threads: 1, inThread, unwrap, order: [4, 3, 2, 1, 0] })).toEqual([-1, -2, -3, -4, -5]);
    expect(ran).toEqual([5, 4, 3, 2, 1]);
  });

  it('fails the call with a task\'s error, or with what unwrap throws', async () => {
    await expect(runTasks(url, [echo(1), { kind: 'throw' } as TestTask], { threads: 2, inThread: async () => 0, unwrap })).rejects.toThrow('is wrong');
    const refuse = () => {
      throw new Error('refused');
    };
    await expect(runTasks(url, [echo(1), echo(2)], { threads: 2, inThread: async () => 0, unwrap: refuse })).rejects.toThrow('refused');
  });
});
