/**
 * Requirements + pools -> allocation, solved exactly as a MIP with HiGHS.
 *
 * Model (one step):
 *   n_p ∈ ℤ, minNodes_p ≤ n_p ≤ maxNodes_p             nodes of pool p (quota)
 *   x_wp ∈ ℤ≥0 for pools p whose tags ⊇ tags_w and whose node fits one instance of w
 *   s_w ∈ [0, required_w − guaranteed_w]                 shortfall (never eats into the guaranteed minimum)
 *   Σ_w cpu_w x_wp ≤ cpu_p n_p,   Σ_w mem_w x_wp ≤ mem_p n_p      per pool
 *   Σ_p x_wp + s_w = required_w                                     per workload
 *   minimize Σ_p cost_p n_p + Σ_w penalty_w s_w (+ migration cost, + ε tie-breaks)
 *
 *   x_wp ≤ ⌊min(cpu_p/cpu_w, mem_p/mem_w)⌋ · n_p                   per-node packing cut
 *
 * Capacity is aggregate per pool: mixed workloads are not packed onto
 * individual nodes here (see `binpack.ts` for that check); the packing cut makes
 * a pool holding one workload exact.
 */
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import type { Pool, Resources } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { ModelBuilder } from './lp.ts';
import { type SolveStatus, relativeGap, solveModel } from './solver.ts';
import { cpuText, memoryText, quoteList } from './text.ts';

export interface WorkloadDemand {
  readonly name: string;
  readonly perInstance: Resources;
  /** Instances the workload needs (from sizing). */
  readonly instances: number;
  /** Guaranteed minimum: never given up under contention. */
  readonly minInstances: number;
  /** Higher is more important. */
  readonly priority: number;
  readonly tags: readonly string[];
}

export interface AllocateOptions {
  readonly timeLimitSeconds?: number;
  readonly mipRelGap?: number;
  /** Cost of moving or starting one instance away from `current`, in cost-per-hour units (0 = ignore churn). */
  readonly migrationCostPerInstance?: number;
}

export interface AllocateInput {
  readonly workloads: readonly WorkloadDemand[];
  readonly pools: readonly Pool[];
  /** The running allocation, to price churn against. */
  readonly current?: Allocation;
  readonly options?: AllocateOptions;
}

export interface AllocationResult extends Allocation {
  readonly status: Extract<SolveStatus, 'optimal' | 'timeLimit'>;
  /** MIP objective: cost + shortfall penalties + migration cost (+ negligible tie-breaks). */
  readonly objective: number;
  /** Best proven lower bound on `objective`. */
  readonly lowerBound: number;
  /** (objective − lowerBound) / objective. */
  readonly gap: number;
  readonly solveSeconds: number;
  /** Shortfall penalty per missing instance, by workload (for explanations). */
  readonly shortfallPenalty: Readonly<Record<string, number>>;
}

const byName = <T extends { readonly name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function offersTags(pool: Pool, tags: readonly string[]): boolean {
  return tags.every((t) => pool.tags.includes(t));
}

export function fitsNode(pool: Pool, perInstance: Resources): boolean {
  return perInstance.cpuMillicores <= pool.nodeType.capacity.cpuMillicores && perInstance.memoryMiB <= pool.nodeType.capacity.memoryMiB;
}

/** Most instances of this size one node of the pool can hold (Infinity for a zero-size instance). */
export function instancesPerNode(pool: Pool, perInstance: Resources): number {
  const cpu = perInstance.cpuMillicores > 0 ? pool.nodeType.capacity.cpuMillicores / perInstance.cpuMillicores : Infinity;
  const mem = perInstance.memoryMiB > 0 ? pool.nodeType.capacity.memoryMiB / perInstance.memoryMiB : Infinity;
  return Math.floor(Math.min(cpu, mem));
}

/** Pools a workload may run in: all its tags offered and one instance fits a node. */
export function eligiblePools(workload: Pick<WorkloadDemand, 'perInstance' | 'tags'>, pools: readonly Pool[]): Pool[] {
  return pools.filter((p) => offersTags(p, workload.tags) && fitsNode(p, workload.perInstance));
}

function validate(workloads: readonly WorkloadDemand[], pools: readonly Pool[]): void {
  const seen = new Set<string>();
  for (const p of pools) {
    const where = `pool '${p.name}'`;
    if (seen.has(`pool:${p.name}`)) throw new InvalidInputError(where, 'duplicate pool name');
    seen.add(`pool:${p.name}`);
    if (!(p.nodeType.capacity.cpuMillicores > 0 && p.nodeType.capacity.memoryMiB > 0)) throw new InvalidInputError(where, 'node capacity must be positive');
    if (!(p.costPerHour >= 0)) throw new InvalidInputError(where, `costPerHour must be ≥ 0, got ${p.costPerHour}`);
    if (!(Number.isInteger(p.minNodes) && Number.isInteger(p.maxNodes) && 0 <= p.minNodes && p.minNodes <= p.maxNodes)) {
      throw new InvalidInputError(where, `needs integers 0 ≤ minNodes ≤ maxNodes, got ${p.minNodes}..${p.maxNodes}`);
    }
  }
  for (const w of workloads) {
    const where = `workload '${w.name}'`;
    if (seen.has(`workload:${w.name}`)) throw new InvalidInputError(where, 'duplicate workload name');
    seen.add(`workload:${w.name}`);
    if (!(Number.isInteger(w.instances) && w.instances >= 0)) throw new InvalidInputError(where, `instances must be an integer ≥ 0, got ${w.instances}`);
    if (!(Number.isInteger(w.minInstances) && w.minInstances >= 0)) throw new InvalidInputError(where, `minInstances must be an integer ≥ 0, got ${w.minInstances}`);
    if (!(w.perInstance.cpuMillicores >= 0 && w.perInstance.memoryMiB >= 0)) throw new InvalidInputError(where, 'perInstance resources must be ≥ 0');
  }
}

/**
 * Shortfall penalty per missing instance, by workload.
 * - Base: above twice the priciest eligible node, so buying capacity always beats
 *   leaving an instance unplaced while quota remains.
 * - Priority: each level's penalty exceeds the penalty of every set of lower-priority
 *   instances that would have to be evicted to make room for one of its instances
 *   (⌈cpu_w/cpu_v⌉ + ⌈mem_w/mem_v⌉ instances of v free one instance of w in both
 *   resources), so a higher priority never loses an instance to a lower one.
 */
export function shortfallPenalties(workloads: readonly WorkloadDemand[], pools: readonly Pool[]): Map<string, number> {
  const maxNodeCost = Math.max(1, ...pools.map((p) => p.costPerHour));
  const base = 2 * maxNodeCost + 1;
  const levels = [...new Set(workloads.map((w) => w.priority))].sort((a, b) => a - b);
  const penaltyByLevel = new Map<number, number>();
  const lower: WorkloadDemand[] = [];
  let previous = 0;
  for (const level of levels) {
    const members = workloads.filter((w) => w.priority === level);
    let evictions = 0;
    for (const w of members) {
      for (const v of lower) {
        const cpu = v.perInstance.cpuMillicores > 0 ? Math.ceil(w.perInstance.cpuMillicores / v.perInstance.cpuMillicores) : 0;
        const mem = v.perInstance.memoryMiB > 0 ? Math.ceil(w.perInstance.memoryMiB / v.perInstance.memoryMiB) : 0;
        evictions = Math.max(evictions, cpu + mem);
      }
    }
    const penalty = Math.max(base, previous * Math.max(1, evictions) + base);
    penaltyByLevel.set(level, penalty);
    previous = penalty;
    lower.push(...members);
  }
  return new Map(workloads.map((w) => [w.name, penaltyByLevel.get(w.priority) ?? base]));
}


/**
 * Reasons, in user terms, why the guaranteed minimums cannot be placed; empty
 * when no simple reason is found (the MIP then decides).
 */
export function diagnoseGuarantees(workloads: readonly WorkloadDemand[], pools: readonly Pool[]): string[] {
  const conflicts: string[] = [];
  const guaranteed = workloads.filter((w) => Math.min(w.minInstances, w.instances) > 0);
  for (const w of guaranteed) {
    const tagged = pools.filter((p) => offersTags(p, w.tags));
    if (tagged.length === 0) {
      const missing = w.tags.filter((t) => !pools.some((p) => p.tags.includes(t)));
      if (w.tags.length === 1) conflicts.push(`workload '${w.name}' needs tag ${w.tags[0]}: no pool offers it`);
      else if (missing.length) conflicts.push(`workload '${w.name}' needs tags ${w.tags.join(', ')}: no pool offers ${missing.join(', ')}`);
      else conflicts.push(`workload '${w.name}' needs tags ${w.tags.join(', ')}: no single pool offers all of them`);
      continue;
    }
    if (!tagged.some((p) => fitsNode(p, w.perInstance))) {
      const largest = [...tagged].sort((a, b) => b.nodeType.capacity.cpuMillicores - a.nodeType.capacity.cpuMillicores)[0];
      conflicts.push(
        `workload '${w.name}' needs ${cpuText(w.perInstance.cpuMillicores)} and ${memoryText(w.perInstance.memoryMiB)} per instance: ` +
          `no node of the pools it may use is that large (largest: '${largest.name}' with ${cpuText(largest.nodeType.capacity.cpuMillicores)}, ${memoryText(largest.nodeType.capacity.memoryMiB)})`,
      );
      continue;
    }
    const eligible = eligiblePools(w, pools);
    const quota = eligible.reduce((sum, p) => sum + p.maxNodes, 0);
    if (quota === 0) conflicts.push(`workload '${w.name}' may only use pools ${quoteList(eligible.map((p) => p.name))}, whose quota is 0 nodes`);
  }
  if (conflicts.length) return conflicts;
  // Aggregate checks: all guaranteed minimums against all pools, then per required tag.
  const tagSets: string[][] = [[], ...[...new Set(guaranteed.flatMap((w) => w.tags))].sort().map((t) => [t])];
  for (const tags of tagSets) {
    const members = guaranteed.filter((w) => tags.every((t) => w.tags.includes(t)));
    const offering = pools.filter((p) => offersTags(p, tags));
    for (const [resource, fmt] of [
      ['cpuMillicores', cpuText],
      ['memoryMiB', memoryText],
    ] as const) {
      const need = members.reduce((sum, w) => sum + Math.min(w.minInstances, w.instances) * w.perInstance[resource], 0);
      const offer = offering.reduce((sum, p) => sum + p.maxNodes * p.nodeType.capacity[resource], 0);
      if (need > offer) {
        conflicts.push(
          tags.length === 0
            ? `guaranteed minimums need ${fmt(need)}; all pools together offer at most ${fmt(offer)}`
            : `guaranteed minimums of workloads needing tag ${tags[0]} (${quoteList(members.map((w) => w.name))}) need ${fmt(need)}; ` +
                `pools offering it (${quoteList(offering.map((p) => p.name)) || 'none'}) offer at most ${fmt(offer)}`,
        );
      }
    }
  }
  return conflicts;
}

/** Relative size of the tie-break costs against the cheapest node price. */
const TIE_BREAK = 1e-6;

export async function allocate(input: AllocateInput): Promise<AllocationResult> {
  const pools = [...input.pools].sort(byName);
  const workloads = [...input.workloads].sort(byName);
  validate(workloads, pools);
  const options = input.options ?? {};
  const conflicts = diagnoseGuarantees(workloads, pools);
  if (conflicts.length) throw new InfeasibleError('guaranteed minimums cannot be placed', conflicts);

  const penalties = shortfallPenalties(workloads, pools);
  const minPositiveCost = Math.min(1, ...pools.map((p) => p.costPerHour).filter((c) => c > 0));
  const epsilon = TIE_BREAK * minPositiveCost;
  const migration = input.current ? options.migrationCostPerInstance ?? 0 : 0;

  const b = new ModelBuilder();
  const nodeVar = pools.map((p, i) => b.addVariable(`n_${p.name}`, p.minNodes, p.maxNodes, p.costPerHour + epsilon * (i + 1), true));
  const cpuTerms = pools.map(() => ({ indices: [] as number[], coefficients: [] as number[] }));
  const memTerms = pools.map(() => ({ indices: [] as number[], coefficients: [] as number[] }));
  const placement: { workload: string; pool: string; index: number }[] = [];
  const shortVar = new Map<string, number>();
  for (const w of workloads) {
    if (w.instances === 0) continue;
    const guaranteed = Math.min(w.minInstances, w.instances);
    const demandIndices: number[] = [];
    const demandCoefficients: number[] = [];
    pools.forEach((p, pi) => {
      if (!offersTags(p, w.tags) || !fitsNode(p, w.perInstance)) return;
      const x = b.addVariable(`x_${w.name}_${p.name}`, 0, w.instances, epsilon * (pi + 1), true);
      placement.push({ workload: w.name, pool: p.name, index: x });
      demandIndices.push(x);
      demandCoefficients.push(1);
      if (w.perInstance.cpuMillicores > 0) {
        cpuTerms[pi].indices.push(x);
        cpuTerms[pi].coefficients.push(w.perInstance.cpuMillicores);
      }
      if (w.perInstance.memoryMiB > 0) {
        memTerms[pi].indices.push(x);
        memTerms[pi].coefficients.push(w.perInstance.memoryMiB);
      }
      // Valid packing cut: one node holds at most ⌊min(cpu_p/cpu_w, mem_p/mem_w)⌋ instances of w.
      const perNode = instancesPerNode(p, w.perInstance);
      if (perNode < w.instances) b.addConstraint(`pack_${w.name}_${p.name}`, [x, nodeVar[pi]], [1, -perNode], '<=', 0);
      const running = input.current?.instances[w.name]?.[p.name] ?? 0;
      if (migration > 0) {
        // d ≥ x − running: each instance started in this pool costs `migration`.
        const d = b.addVariable(`d_${w.name}_${p.name}`, 0, w.instances, migration, false);
        b.addConstraint(`churn_${w.name}_${p.name}`, [d, x], [1, -1], '>=', -running);
      }
    });
    const s = b.addVariable(`s_${w.name}`, 0, w.instances - guaranteed, penalties.get(w.name) ?? 0, false);
    shortVar.set(w.name, s);
    b.addConstraint(`demand_${w.name}`, [...demandIndices, s], [...demandCoefficients, 1], '=', w.instances);
  }
  pools.forEach((p, pi) => {
    b.addConstraint(`cpu_${p.name}`, [...cpuTerms[pi].indices, nodeVar[pi]], [...cpuTerms[pi].coefficients, -p.nodeType.capacity.cpuMillicores], '<=', 0);
    b.addConstraint(`mem_${p.name}`, [...memTerms[pi].indices, nodeVar[pi]], [...memTerms[pi].coefficients, -p.nodeType.capacity.memoryMiB], '<=', 0);
  });

  const result = await solveModel(b.build(), { via: 'arrays', timeLimitSeconds: options.timeLimitSeconds ?? 10, mipRelGap: options.mipRelGap ?? 1e-4 });
  if (result.status === 'infeasible') {
    throw new InfeasibleError('guaranteed minimums cannot be packed into the pools within their quotas', [
      ...workloads
        .filter((w) => Math.min(w.minInstances, w.instances) > 0)
        .map((w) => `workload '${w.name}' guarantees ${Math.min(w.minInstances, w.instances)} instances of ${cpuText(w.perInstance.cpuMillicores)}, ${memoryText(w.perInstance.memoryMiB)}`),
    ]);
  }
  if (result.status !== 'optimal' && result.status !== 'timeLimit') throw new Error(`allocation solve failed: ${result.statusText}`);

  const values = result.values;
  const nodesByPool: Record<string, number> = {};
  let costPerHour = 0;
  pools.forEach((p, i) => {
    const n = Math.max(0, Math.round(values[nodeVar[i]]));
    nodesByPool[p.name] = n;
    costPerHour += n * p.costPerHour;
  });
  const instances: Record<string, Record<string, number>> = {};
  for (const w of workloads) instances[w.name] = {};
  for (const { workload, pool, index } of placement) {
    const n = Math.max(0, Math.round(values[index]));
    if (n > 0) instances[workload][pool] = n;
  }
  const shortfall: Record<string, number> = {};
  for (const w of workloads) {
    const placed = Object.values(instances[w.name]).reduce((sum, n) => sum + n, 0);
    shortfall[w.name] = w.instances - placed;
  }
  return {
    nodesByPool,
    instances,
    costPerHour,
    shortfall,
    status: result.status,
    objective: result.objective,
    lowerBound: result.lowerBound,
    gap: relativeGap(result.objective, result.lowerBound),
    solveSeconds: result.seconds,
    shortfallPenalty: Object.fromEntries(penalties),
  };
}
