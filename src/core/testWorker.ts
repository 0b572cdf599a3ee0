/** A worker for workers.test.ts: echoes, throws or exits on request. */
import { parentPort, threadId } from 'node:worker_threads';
import { InvalidInputError } from './errors.ts';
import { serveTasks } from './workers.ts';

export type TestTask = { readonly kind: 'echo'; readonly value: unknown } | { readonly kind: 'throw' } | { readonly kind: 'exit' } | { readonly kind: 'wait'; readonly ms: number } | { readonly kind: 'uncloneable' };

if (parentPort)
  serveTasks(parentPort, async (task: TestTask) => {
    switch (task.kind) {
      case 'echo':
        return { value: task.value, threadId };
      case 'throw':
        throw new InvalidInputError('field', 'is wrong');
      case 'exit':
        process.exit(3);
      case 'uncloneable':
        return { f: () => 1 };
      case 'wait':
        await new Promise((resolve) => setTimeout(resolve, task.ms));
        return { waited: task.ms, threadId };
    }
  });
