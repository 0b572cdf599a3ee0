/** A worker thread for `checkPackingSteps` (packingSteps.ts). */
import { parentPort } from 'node:worker_threads';
import { serveTasks } from '../core/workers.ts';
import { type PackingTask, runPackingTask } from './packingSteps.ts';

if (parentPort) serveTasks(parentPort, (task: PackingTask) => runPackingTask(task));
