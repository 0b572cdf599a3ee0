import type { Pool, Workload } from '../core/model.ts';
import { loopPolicySchema, predictivePolicySchema, type LoopPolicy, type PredictivePolicy, type ServicePool, type ServiceWorkload } from '../config/serviceSchema.ts';
import type { Store } from '../store/store.ts';

/** The configuration one loop cycle works with, read from the store at the cycle's start. */
export interface ServiceConfig {
  readonly workloads: readonly ServiceWorkload[];
  readonly pools: readonly Pool[];
  readonly predictive: PredictivePolicy;
  readonly loop: LoopPolicy;
  /** Changes whenever any workload or pool document changes (name@version list). */
  readonly key: string;
}

export function toPool(p: ServicePool): Pool {
  return {
    name: p.name,
    provider: p.provider,
    zone: p.zone,
    nodeType: { name: p.nodeType, capacity: { cpuMillicores: p.cpuMillicores, memoryMiB: p.memoryMiB } },
    costPerHour: p.costPerHour,
    provisioningDelaySeconds: p.provisioningDelaySeconds,
    minNodes: p.minNodes,
    maxNodes: p.maxNodes,
    tags: p.tags,
  };
}

/** The domain workload for a service workload; `demand` is the history on the loop's grid (empty when not needed). */
export function toWorkload(w: ServiceWorkload, demand: Workload['demand'] = { startSeconds: 0, stepSeconds: 1, values: [] }): Workload {
  return {
    name: w.name,
    demand,
    service: { serviceTimeSeconds: w.serviceTimeSeconds ?? w.concurrency / (w.throughputPerInstanceRps as number), concurrency: w.concurrency },
    perInstance: { cpuMillicores: w.cpuMillicores, memoryMiB: w.memoryMiB },
    slo: 'latencySeconds' in w.slo ? { kind: 'latency', targetSeconds: w.slo.latencySeconds, percentile: w.slo.percentile } : { kind: 'utilization', maxUtilization: w.slo.maxUtilization },
    minInstances: w.minInstances,
    maxInstances: w.maxInstances,
    priority: w.priority,
    sizingQuantile: w.sizingQuantile,
    tags: w.tags,
    account: w.account,
  };
}

export async function loadServiceConfig(store: Store): Promise<ServiceConfig> {
  const [workloads, pools, predictive, loop] = await Promise.all([store.listConfig('workload'), store.listConfig('pool'), store.getConfig('policy', 'predictive'), store.getConfig('policy', 'loop')]);
  return {
    workloads: workloads.map((d) => d.document as ServiceWorkload),
    pools: pools.map((d) => toPool(d.document as ServicePool)),
    predictive: predictivePolicySchema.parse(predictive?.document ?? {}),
    loop: loopPolicySchema.parse(loop?.document ?? {}),
    key: [...workloads, ...pools].map((d) => `${d.kind}:${d.name}@${d.version}`).join(','),
  };
}
