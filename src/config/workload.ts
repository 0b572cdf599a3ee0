import type { Workload } from '../core/model.ts';
import type { Series } from '../core/series.ts';
import type { WorkloadFile } from './schema.ts';

/** A validated workload entry with its demand series, as the domain model. */
export function toWorkload(w: WorkloadFile, demand: Series): Workload {
  const serviceTimeSeconds = w.serviceTimeSeconds ?? w.concurrency / (w.throughputPerInstanceRps as number);
  return {
    name: w.name,
    demand,
    service: { serviceTimeSeconds, concurrency: w.concurrency },
    perInstance: { cpuMillicores: w.cpuMillicores, memoryMiB: w.memoryMiB },
    slo: 'latencySeconds' in w.slo
      ? { kind: 'latency', targetSeconds: w.slo.latencySeconds, percentile: w.slo.percentile }
      : { kind: 'utilization', maxUtilization: w.slo.maxUtilization },
    minInstances: w.minInstances,
    maxInstances: w.maxInstances,
    priority: w.priority,
    sizingQuantile: w.sizingQuantile,
    tags: w.tags,
    account: w.account,
  };
}
