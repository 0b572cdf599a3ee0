/**
 * Placement: where each service's instances run (service -> pool -> count),
 * and what follows from it: totals, resource use per pool, nodes needed, and
 * the traffic that crosses zones or providers along the dependency graph.
 * Pure: values in, values out.
 */
import { InvalidInputError } from '../core/errors.ts';
import type { NetworkCosts, Placement } from '../core/migration.ts';
import type { DependencyEdge, Pool, Workload } from '../core/model.ts';
import type { Action } from '../core/plan.ts';

export type { Placement };

/** A placement with zero counts and empty services removed, services and pools in sorted order (so equal placements print the same). */
export function normalize(p: Placement): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of Object.keys(p).sort()) {
    const pools = Object.keys(p[s]).sort().filter((pool) => p[s][pool] > 0);
    out[s] = Object.fromEntries(pools.map((pool) => [pool, p[s][pool]]));
  }
  return out;
}

export function placementEquals(a: Placement, b: Placement): boolean {
  const na = normalize(a);
  const nb = normalize(b);
  const services = new Set([...Object.keys(na), ...Object.keys(nb)]);
  for (const s of services) {
    const pa = na[s] ?? {};
    const pb = nb[s] ?? {};
    const pools = new Set([...Object.keys(pa), ...Object.keys(pb)]);
    for (const pool of pools) if ((pa[pool] ?? 0) !== (pb[pool] ?? 0)) return false;
  }
  return true;
}

/** Instances of a service over every pool. */
export function totalOf(p: Placement, service: string): number {
  let n = 0;
  for (const v of Object.values(p[service] ?? {})) n += v;
  return n;
}

/** Instances of a service in the given pools. */
export function countIn(p: Placement, service: string, pools: readonly string[]): number {
  let n = 0;
  for (const pool of pools) n += p[service]?.[pool] ?? 0;
  return n;
}

/**
 * The placement after one action: `scaleWorkload` sets a count, `migrate`
 * moves instances; node and other actions leave it as it is. Throws when the
 * action does not match the placement (a scale whose `from` differs, a move of
 * more instances than there are): a plan is checked against the state it was
 * made for.
 */
export function applyToPlacement(p: Placement, action: Action): Record<string, Record<string, number>> {
  const out = copyPlacement(p);
  applyInPlace(out, action);
  return out;
}

/**
 * `applyToPlacement` in place, for planners that apply thousands of actions
 * (a copy per action would make them quadratic). Same checks, same result.
 */
export function applyInPlace(p: Record<string, Record<string, number>>, action: Action): void {
  if (action.kind === 'scaleWorkload') {
    const have = p[action.workload]?.[action.pool] ?? 0;
    if (have !== action.fromInstances) throw new InvalidInputError(`action ${action.id}`, `expects ${action.fromInstances} instances of "${action.workload}" in "${action.pool}", the placement has ${have}`);
    p[action.workload] ??= {};
    if (action.toInstances === 0) delete p[action.workload][action.pool];
    else p[action.workload][action.pool] = action.toInstances;
  } else if (action.kind === 'migrate') {
    const have = p[action.workload]?.[action.fromPool] ?? 0;
    if (have < action.instances) throw new InvalidInputError(`action ${action.id}`, `moves ${action.instances} instances of "${action.workload}" from "${action.fromPool}", which has ${have}`);
    if (have === action.instances) delete p[action.workload][action.fromPool];
    else p[action.workload][action.fromPool] = have - action.instances;
    p[action.workload][action.toPool] = (p[action.workload][action.toPool] ?? 0) + action.instances;
  }
}

/** A deep copy of a placement that may then be changed in place. */
export function copyPlacement(p: Placement): Record<string, Record<string, number>> {
  return Object.fromEntries(Object.entries(p).map(([s, pools]) => [s, { ...pools }]));
}

/** CPU (millicores) and memory (MiB) the placement uses in each pool. */
export function usageByPool(p: Placement, workloads: ReadonlyMap<string, Workload>): Map<string, { cpuMillicores: number; memoryMiB: number }> {
  const out = new Map<string, { cpuMillicores: number; memoryMiB: number }>();
  for (const [service, pools] of Object.entries(p)) {
    const w = workloads.get(service);
    if (!w) throw new InvalidInputError('placement', `unknown service "${service}"`);
    for (const [pool, n] of Object.entries(pools)) {
      const u = out.get(pool) ?? { cpuMillicores: 0, memoryMiB: 0 };
      u.cpuMillicores += n * w.perInstance.cpuMillicores;
      u.memoryMiB += n * w.perInstance.memoryMiB;
      out.set(pool, u);
    }
  }
  return out;
}

/**
 * Nodes a pool needs to hold `usage`. The simulator treats a pool's capacity
 * as divisible (docs of SimulatorDriver), so this is the larger of the CPU
 * and memory ratios rounded up; with a small tolerance so 2 × 0.5 nodes is 1.
 */
export function nodesFor(pool: Pool, usage: { cpuMillicores: number; memoryMiB: number } | undefined): number {
  if (!usage) return 0;
  const c = pool.nodeType.capacity;
  return Math.max(0, Math.ceil(Math.max(usage.cpuMillicores / c.cpuMillicores, usage.memoryMiB / c.memoryMiB) - 1e-9));
}

/** Where a pool is. */
export interface Location {
  readonly zone: string;
  readonly provider: string;
}

/** One edge's traffic that leaves its caller's zone (or provider) under a placement. */
export interface SplitEdge {
  readonly from: string;
  readonly to: string;
  /** Share of calls that cross a zone (0..1), the cross-provider ones included. */
  readonly crossZoneShare: number;
  /** Share of calls that cross a provider (0..1). */
  readonly crossProviderShare: number;
  readonly callsPerSecond: number;
  /** Bytes per second that cross a zone or provider. */
  readonly crossBytesPerSecond: number;
  /** Mean latency added to one call (seconds). */
  readonly addedLatencySeconds: number;
  /** Money per hour the crossing traffic costs. */
  readonly costPerHour: number;
}

/**
 * Traffic on every edge that a placement splits across zones or providers.
 * Calls are assumed to spread over the callee's instances in proportion to
 * their count wherever the caller runs (no zone-aware routing): an edge whose
 * caller has share a_z and callee b_z of instances in zone z keeps Σ_z a_z·b_z
 * of its calls local. Edges with no crossing traffic are left out.
 */
export function splitEdges(
  p: Placement,
  edges: readonly DependencyEdge[],
  demandRps: ReadonlyMap<string, number>,
  locations: ReadonlyMap<string, Location>,
  network: NetworkCosts,
): SplitEdge[] {
  const shares = (service: string, key: 'zone' | 'provider'): Map<string, number> => {
    const total = totalOf(p, service);
    const out = new Map<string, number>();
    if (total === 0) return out;
    for (const [pool, n] of Object.entries(p[service] ?? {})) {
      const loc = locations.get(pool);
      if (!loc) throw new InvalidInputError('placement', `unknown pool "${pool}"`);
      out.set(loc[key], (out.get(loc[key]) ?? 0) + n / total);
    }
    return out;
  };
  const local = (a: Map<string, number>, b: Map<string, number>) => {
    if (a.size === 0 || b.size === 0) return 1;
    let s = 0;
    for (const [k, v] of a) s += v * (b.get(k) ?? 0);
    return s;
  };
  const out: SplitEdge[] = [];
  for (const e of edges) {
    if (totalOf(p, e.from) === 0 || totalOf(p, e.to) === 0) continue;
    const crossZoneShare = Math.max(0, 1 - local(shares(e.from, 'zone'), shares(e.to, 'zone')));
    if (crossZoneShare <= 1e-12) continue;
    const crossProviderShare = Math.max(0, 1 - local(shares(e.from, 'provider'), shares(e.to, 'provider')));
    const callsPerSecond = (demandRps.get(e.from) ?? 0) * e.callsPerRequest;
    const bytes = e.bytesPerCall ?? network.defaultBytesPerCall;
    const zoneOnly = crossZoneShare - crossProviderShare;
    const GiB = 1024 ** 3;
    out.push({
      from: e.from,
      to: e.to,
      crossZoneShare,
      crossProviderShare,
      callsPerSecond,
      crossBytesPerSecond: callsPerSecond * bytes * crossZoneShare,
      addedLatencySeconds: zoneOnly * network.crossZoneLatencySeconds + crossProviderShare * network.crossProviderLatencySeconds,
      costPerHour: ((callsPerSecond * bytes * 3600) / GiB) * (zoneOnly * network.crossZoneCostPerGiB + crossProviderShare * network.crossProviderCostPerGiB),
    });
  }
  return out;
}
