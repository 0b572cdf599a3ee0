import type { ResourceRates } from '../core/billing.ts';
import type { Resources } from '../core/model.ts';

/**
 * Price of one node-hour from prices per resource-hour: vCPUs × perVcpuHour +
 * GiB × perGibHour. Undefined when `rates` prices neither resource (a node's
 * price cannot be known from them).
 */
export function nodeCostPerHour(capacity: Resources, rates: ResourceRates | undefined): number | undefined {
  if (!rates || (rates.perVcpuHour === undefined && rates.perGibHour === undefined)) return undefined;
  return (capacity.cpuMillicores / 1000) * (rates.perVcpuHour ?? 0) + (capacity.memoryMiB / 1024) * (rates.perGibHour ?? 0);
}
