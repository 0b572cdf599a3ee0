import type { Pool } from '../core/model.ts';
import type { ResourceAmounts } from '../core/requests.ts';

/** What the queue can hand out, from the pools' quotas and the latest plan. */
export interface QueueCapacity {
  /** Healthy pools at their quota (maxNodes × node size), providers healthy too. */
  readonly capacity: ResourceAmounts;
  /** Every pool at its quota, healthy or not: a request above it can never be granted. */
  readonly ceiling: ResourceAmounts;
  /** What the latest plan gives to workloads (instances × per-instance size). */
  readonly planned: ResourceAmounts;
}

export const ZERO: ResourceAmounts = { cpuMillicores: 0, memoryMiB: 0 };

export const add = (a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts => ({ cpuMillicores: a.cpuMillicores + b.cpuMillicores, memoryMiB: a.memoryMiB + b.memoryMiB });
export const sub = (a: ResourceAmounts, b: ResourceAmounts): ResourceAmounts => ({ cpuMillicores: a.cpuMillicores - b.cpuMillicores, memoryMiB: a.memoryMiB - b.memoryMiB });
export const scale = (a: ResourceAmounts, k: number): ResourceAmounts => ({ cpuMillicores: a.cpuMillicores * k, memoryMiB: a.memoryMiB * k });
export const positivePart = (a: ResourceAmounts): ResourceAmounts => ({ cpuMillicores: Math.max(0, a.cpuMillicores), memoryMiB: Math.max(0, a.memoryMiB) });
/** Rounding slack: amounts are sums of user-given decimals. */
const EPS = 1e-6;
/** a ≤ b in both resources. */
export const within = (a: ResourceAmounts, b: ResourceAmounts): boolean => a.cpuMillicores <= b.cpuMillicores + EPS && a.memoryMiB <= b.memoryMiB + EPS;

export function formatAmounts(a: ResourceAmounts): string {
  const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
  return `${n(a.cpuMillicores)}m CPU, ${n(a.memoryMiB)} MiB`;
}

/**
 * The queue's capacity: pools count at their quota (`maxNodes`), since a
 * grant is capacity the allocator may still provision; failing pools, and
 * pools of failing providers, are left out of what can be granted now but
 * count toward the ceiling (they may recover). `plannedInstances` is the
 * latest plan's placement (workload → pool → instances).
 */
export function queueCapacity(
  pools: readonly Pool[],
  failingProviders: ReadonlySet<string>,
  plannedInstances: Readonly<Record<string, Readonly<Record<string, number>>>>,
  workloadSizes: Readonly<Record<string, ResourceAmounts>>,
): QueueCapacity {
  let capacity = ZERO;
  let ceiling = ZERO;
  for (const p of pools) {
    const atQuota = scale({ cpuMillicores: p.nodeType.capacity.cpuMillicores, memoryMiB: p.nodeType.capacity.memoryMiB }, p.maxNodes);
    ceiling = add(ceiling, atQuota);
    if (p.health !== 'failing' && !failingProviders.has(p.provider)) capacity = add(capacity, atQuota);
  }
  let planned = ZERO;
  for (const [workload, byPool] of Object.entries(plannedInstances)) {
    const size = workloadSizes[workload];
    if (!size) continue; // removed since the plan: its instances go with the next plan
    for (const n of Object.values(byPool)) planned = add(planned, scale(size, n));
  }
  return { capacity, ceiling, planned };
}
