/** The control loop's worker thread (see compute.ts). */
import { parentPort } from 'node:worker_threads';
import { serveTasks } from '../core/workers.ts';
import { type ComputeTask, runComputeTask } from './compute.ts';

if (parentPort) serveTasks(parentPort, (task: ComputeTask) => runComputeTask(task));
