import type { Pool, Workload } from '../core/model.ts';
import { loopPolicySchema, predictivePolicySchema, type LoopPolicy, type PredictivePolicy, type ServicePool, type ServiceWorkload } from '../config/serviceSchema.ts';
import type { Store } from '../store/store.ts';
import { toPool as toDomainPool, toWorkload as toDomainWorkload } from '../config/domain.ts';

/** The configuration one loop cycle works with, read from the store at the cycle's start. */
export interface ServiceConfig {
  readonly workloads: readonly ServiceWorkload[];
  readonly pools: readonly Pool[];
  readonly predictive: PredictivePolicy;
  readonly loop: LoopPolicy;
  /** Changes whenever any workload or pool document changes (name@version list). */
  readonly key: string;
}

export const toPool: (p: ServicePool) => Pool = toDomainPool;

/** The domain workload for a service workload; `demand` is the history on the loop's grid (empty when not needed). */
export function toWorkload(w: ServiceWorkload, demand: Workload['demand'] = { startSeconds: 0, stepSeconds: 1, values: [] }): Workload {
  return toDomainWorkload(w, demand);
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
