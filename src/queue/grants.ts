/**
 * Granted capacity requests as demand for the control loop's allocation, so
 * the nodes a grant promises are provisioned ahead instead of only counted
 * against the pools' quotas. Pure: the loop reads the grants and the pools.
 */
import type { Pool, Resources } from '../core/model.ts';
import type { CapacityRequest, ResourceAmounts } from '../core/requests.ts';

/** Prefix of a grant's name in the allocation; configured names cannot contain ":", so it never meets a workload's. */
export const GRANT_PREFIX = 'request:';

/**
 * A grant as the allocator sees it: `chunks` pieces of `perChunk` each, every
 * piece small enough for one node of some pool, at the request's priority
 * (no guaranteed minimum: under contention priorities decide, as for
 * workloads).
 */
export interface GrantDemand {
  readonly id: number;
  readonly tenant: string;
  /** `request:<id>`: its name in the allocation. */
  readonly name: string;
  /** What was granted, in all. */
  readonly amounts: ResourceAmounts;
  readonly perChunk: Resources;
  readonly chunks: number;
  readonly priority: number;
  /** The named workload's tags (a grant for a `pci` workload is held where `pci` is offered); none otherwise. */
  readonly tags: readonly string[];
}

export const isGrantName = (name: string): boolean => name.startsWith(GRANT_PREFIX);

/**
 * Grants in force at `nowSeconds` (granted, and not past their end) as
 * allocation demand. A grant for instances of a workload is held as those
 * instances (its size fixed at submit time, its tags the workload's now); a
 * grant of amounts is split into the fewest equal pieces that fit one node of
 * some pool: piece (cpu/k, memory/k) fits pool p iff k ≥ max(cpu/cpu_p,
 * memory/memory_p) rounded up, so k is the least of those over the pools.
 */
export function grantDemands(requests: readonly CapacityRequest[], pools: readonly Pool[], workloadTags: (workload: string) => readonly string[] | undefined, nowSeconds: number): GrantDemand[] {
  const out: GrantDemand[] = [];
  for (const r of requests) {
    if (r.status !== 'granted' || (r.endsAtSeconds !== undefined && r.endsAtSeconds <= nowSeconds)) continue;
    if (r.cpuMillicores <= 0 && r.memoryMiB <= 0) continue;
    const base = { id: r.id, tenant: r.tenant, name: `${GRANT_PREFIX}${r.id}`, amounts: { cpuMillicores: r.cpuMillicores, memoryMiB: r.memoryMiB }, priority: r.priority };
    if (r.workload !== undefined && r.instances !== undefined && r.instances > 0) {
      out.push({ ...base, perChunk: { cpuMillicores: r.cpuMillicores / r.instances, memoryMiB: r.memoryMiB / r.instances }, chunks: r.instances, tags: workloadTags(r.workload) ?? [] });
      continue;
    }
    let chunks = Infinity;
    for (const p of pools) {
      const c = p.nodeType.capacity;
      if (c.cpuMillicores <= 0 || c.memoryMiB <= 0) continue;
      chunks = Math.min(chunks, Math.max(1, Math.ceil(r.cpuMillicores / c.cpuMillicores - 1e-9), Math.ceil(r.memoryMiB / c.memoryMiB - 1e-9)));
    }
    // No pool at all: one piece, which the allocation reports as short.
    if (!Number.isFinite(chunks)) chunks = 1;
    out.push({ ...base, perChunk: { cpuMillicores: r.cpuMillicores / chunks, memoryMiB: r.memoryMiB / chunks }, chunks, tags: [] });
  }
  return out;
}
