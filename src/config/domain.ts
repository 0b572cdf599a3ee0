import { resolveSizingQuantile } from '../capacity/risk.ts';
import { nodeCostPerHour } from '../billing/rates.ts';
import type { ProviderRates } from '../core/billing.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { Pool, Resources, Workload } from '../core/model.ts';
import type { Series } from '../core/series.ts';
import type { PoolFile, RiskQuantilesConfig, WorkloadFile } from './schema.ts';

/** Validated scenario entries -> domain types (shared by scenario loading and the control plane). */

/** CPU and memory, plus network bandwidth only when given (absent means unconstrained). */
export function resources(r: { readonly cpuMillicores: number; readonly memoryMiB: number; readonly networkMbps?: number }): Resources {
  return r.networkMbps === undefined ? { cpuMillicores: r.cpuMillicores, memoryMiB: r.memoryMiB } : { cpuMillicores: r.cpuMillicores, memoryMiB: r.memoryMiB, networkMbps: r.networkMbps };
}

/**
 * A validated pool entry as the domain model. A pool without `costPerHour`
 * takes it from its provider's on-demand prices per vCPU-hour and GiB-hour
 * (InvalidInputError naming `where` when the provider has none); its committed
 * price likewise, when the provider has committed prices.
 */
export function toPool(p: PoolFile, providerRates?: ProviderRates, where = `pool "${p.name}"`): Pool {
  const capacity = resources(p);
  const costPerHour = p.costPerHour ?? nodeCostPerHour(capacity, providerRates?.onDemand);
  if (costPerHour === undefined) {
    throw new InvalidInputError(where, `pool "${p.name}" has no costPerHour and its provider "${p.provider}" has no on-demand rates (perVcpuHour, perGibHour) to derive one from`);
  }
  const committedCostPerHour = p.committedCostPerHour ?? nodeCostPerHour(capacity, providerRates?.committed);
  return {
    name: p.name,
    provider: p.provider,
    zone: p.zone,
    nodeType: { name: p.nodeType, capacity },
    costPerHour,
    provisioningDelaySeconds: p.provisioningDelaySeconds,
    minNodes: p.minNodes,
    maxNodes: p.maxNodes,
    tags: p.tags,
    ...(committedCostPerHour === undefined ? {} : { committedCostPerHour }),
    ...(p.health ? { health: p.health } : {}),
    ...(p.candidate ? { candidate: true } : {}),
    ...(p.creationCost !== undefined ? { creationCost: p.creationCost } : {}),
    ...(p.network ? { network: { ...p.network } } : {}),
  };
}

/**
 * A validated workload entry with its demand series, as the domain model. The
 * sizing quantile is resolved once here: the workload's own, else the
 * scenario's `riskQuantiles` by priority, else the default.
 */
export function toWorkload(w: Omit<WorkloadFile, 'demand'>, demand: Series, riskQuantiles?: RiskQuantilesConfig): Workload {
  const serviceTimeSeconds = w.serviceTimeSeconds ?? w.concurrency / (w.throughputPerInstanceRps as number);
  const risk = resolveSizingQuantile(w, riskQuantiles);
  return {
    name: w.name,
    demand,
    service: { serviceTimeSeconds, concurrency: w.concurrency },
    perInstance: resources(w),
    slo: 'latencySeconds' in w.slo
      ? { kind: 'latency', targetSeconds: w.slo.latencySeconds, percentile: w.slo.percentile }
      : { kind: 'utilization', maxUtilization: w.slo.maxUtilization },
    minInstances: w.minInstances,
    maxInstances: w.maxInstances,
    priority: w.priority,
    sizingQuantile: risk.quantile,
    sizingQuantileSource: risk.source,
    ...(w.availability ? { availability: { ...w.availability } } : {}),
    tags: w.tags,
    account: w.account,
  };
}
