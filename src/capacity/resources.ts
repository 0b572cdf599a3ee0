/**
 * Resource vectors: CPU, memory and (optionally) network bandwidth. A missing
 * `networkMbps` means "not constrained": an instance without it uses none, a
 * node without it has no limit.
 */
import type { Resources } from '../core/model.ts';

export type ResourceName = 'cpuMillicores' | 'memoryMiB' | 'networkMbps';

/** The resources headroom knows, in a fixed order. */
export const RESOURCE_NAMES: readonly ResourceName[] = ['cpuMillicores', 'memoryMiB', 'networkMbps'];

/** Amount of `resource` an instance needs (0 when it does not say). */
export function demandOf(need: Resources, resource: ResourceName): number {
  return need[resource] ?? 0;
}

/** Capacity of `resource` on a node (Infinity when it does not say). */
export function capacityOf(capacity: Resources, resource: ResourceName): number {
  return capacity[resource] ?? Infinity;
}

/** Whether one instance of `need` fits in `capacity` in every resource. */
export function fitsIn(need: Resources, capacity: Resources): boolean {
  return RESOURCE_NAMES.every((r) => demandOf(need, r) <= capacityOf(capacity, r));
}

/** Most instances of `need` that fit in `capacity` (Infinity when the instance needs nothing that is limited). */
export function instancesThatFit(need: Resources, capacity: Resources): number {
  let most = Infinity;
  for (const r of RESOURCE_NAMES) {
    const d = demandOf(need, r);
    if (d > 0) most = Math.min(most, Math.floor(capacityOf(capacity, r) / d));
  }
  return most;
}

/**
 * The total a workload of `instances` instances needs, per resource
 * (instances × the per-instance vector); network only when the instance names it.
 */
export function totalResources(perInstance: Resources, instances: number): Resources {
  const total = { cpuMillicores: perInstance.cpuMillicores * instances, memoryMiB: perInstance.memoryMiB * instances };
  return perInstance.networkMbps === undefined ? total : { ...total, networkMbps: perInstance.networkMbps * instances };
}
