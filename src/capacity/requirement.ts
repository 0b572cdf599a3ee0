/**
 * One workload's requirement at one demand: the SLO's instances (queueing),
 * raised for availability (N+k, spread over failure domains, a target), and
 * the resource vector those instances need. This is what the allocator takes.
 */
import type { Pool, Resources, SpreadRequirement, Workload } from '../core/model.ts';
import { type AvailabilitySizing, failureDomains, sizeForAvailability } from './availability.ts';
import { totalResources } from './resources.ts';
import { instancesForDemand } from './sizing.ts';

export interface WorkloadRequirement {
  readonly workload: string;
  readonly demandRps: number;
  /** N: instances the SLO needs at this demand (within [minInstances, maxInstances]). */
  readonly sloInstances: number;
  /** Instances to run: N, or more for availability. */
  readonly instances: number;
  /** False when the SLO or the availability requirement needs more than maxInstances. */
  readonly feasible: boolean;
  /** instances × the per-instance vector (CPU, memory, and network when the workload names it). */
  readonly resources: Resources;
  /** For the allocator: instances that must remain after losing any one domain. */
  readonly spread?: SpreadRequirement;
  /** How availability sizing arrived at `instances` (absent without an availability requirement). */
  readonly availability?: AvailabilitySizing;
}

/**
 * Size `workload` at `demandRps`. `pools` give the failure domains a spread
 * can use (those offering the workload's tags with nodes big enough for one
 * instance). Throws InfeasibleError when the availability requirement cannot
 * be met with these pools, InvalidInputError for an unreachable SLO.
 */
export function workloadRequirement(workload: Workload, demandRps: number, pools: readonly Pool[]): WorkloadRequirement {
  const slo = instancesForDemand(workload, demandRps);
  const base = { workload: workload.name, demandRps, sloInstances: slo.instances };
  const req = workload.availability;
  if (!req) return { ...base, instances: slo.instances, feasible: slo.feasible, resources: totalResources(workload.perInstance, slo.instances) };
  const availability = sizeForAvailability({
    neededInstances: slo.instances,
    requirement: req,
    domains: req.survive ? failureDomains(workload, pools, req.survive) : [],
    maxInstances: workload.maxInstances,
    name: workload.name,
  });
  return {
    ...base,
    instances: availability.instances,
    feasible: slo.feasible && availability.feasible,
    resources: totalResources(workload.perInstance, availability.instances),
    ...(availability.spread ? { spread: availability.spread } : {}),
    availability,
  };
}
