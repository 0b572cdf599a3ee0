/**
 * The replay's allocator on the multi-step engine (`optimizeHorizon`): one
 * step for policies that place for now (static, reactive, oracle), a window
 * of steps for the predictive policy (receding horizon: it enacts step 0).
 * Every workload with an availability requirement is placed under its spread
 * (derived from the instances it is given, see `spreadFor`), and bandwidth
 * counts wherever pools and workloads declare it.
 */
import type { Pool, Scenario, SpreadRequirement, Workload } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { failureDomains, sizeForAvailability } from '../capacity/availability.ts';
import type { HorizonCosts, HorizonWorkload } from '../optimize/horizon.ts';
import { optimizeHorizon } from '../optimize/optimizeHorizon.ts';
import type { PoolStatus } from './pools.ts';
import { InfeasibleError } from '../core/errors.ts';
import type { InstanceTargets, Placement, WindowAllocator } from './policies/policy.ts';

/**
 * The strongest spread that `instances` instances of `w` can honour: the
 * largest SLO need N whose availability sizing fits in `instances`, and that
 * sizing's spread. Undefined without a `survive` requirement.
 */
export function spreadFor(w: Workload, instances: number, pools: readonly Pool[]): SpreadRequirement | undefined {
  const req = w.availability;
  if (!req?.survive || instances <= 0) return undefined;
  const domains = failureDomains(w, pools, req.survive);
  for (let n = instances; n >= 1; n--) {
    const s = sizeForAvailability({ neededInstances: n, requirement: req, domains, maxInstances: w.maxInstances, name: w.name });
    if (s.feasible && s.instances <= instances) return s.spread;
  }
  return undefined;
}

/**
 * Prices the engine puts on change. Node churn: a node added is billed for its
 * provisioning delay before it can run anything, so one add-and-remove costs
 * that delay at the node's price; split over the two changes the engine
 * counts (the cheapest pool's figure, so churn is never overpriced).
 * Migration: a tie-break towards staying put, 1% of the cheapest node-step.
 */
export function replayCosts(scenario: Scenario): HorizonCosts {
  const stepHours = scenario.simulation.stepSeconds / 3600;
  const paid = scenario.pools.filter((p) => p.costPerHour > 0);
  if (paid.length === 0) return { churnPerNode: 0, migrationPerInstance: 0 };
  const churnPerNode = Math.min(...paid.map((p) => (0.5 * p.provisioningDelaySeconds * p.costPerHour) / 3600));
  const migrationPerInstance = 0.01 * Math.min(...paid.map((p) => p.costPerHour)) * stepHours;
  return { churnPerNode, migrationPerInstance };
}

export interface HorizonAllocatorOptions {
  /** Override the prices of change (default `replayCosts`). */
  readonly costs?: HorizonCosts;
  readonly timeLimitSeconds?: number;
  /** Pools usable now (health, creation-cost threshold); default every pool of the scenario. */
  readonly pools?: PoolStatus;
}

/** Canonical text of a placement (sorted, zeros dropped), for cache keys. */
export function placementKey(p: Placement | undefined): string {
  if (!p) return '';
  return Object.keys(p)
    .sort()
    .flatMap((w) =>
      Object.keys(p[w])
        .filter((pool) => p[w][pool] > 0)
        .sort()
        .map((pool) => `${w}/${pool}=${p[w][pool]}`),
    )
    .join(';');
}

/** A memoizing allocator on `optimizeHorizon`. One per policy. */
export function horizonAllocator(scenario: Scenario, options: HorizonAllocatorOptions = {}): WindowAllocator & { readonly solves: number } {
  const costs = options.costs ?? replayCosts(scenario);
  const stepHours = scenario.simulation.stepSeconds / 3600;
  const cache = new Map<string, Promise<Allocation>>();
  const spreads = new Map<string, SpreadRequirement | undefined>();
  const spreadOf = (w: Workload, n: number) => {
    const key = `${w.name}:${n}`;
    if (!spreads.has(key)) spreads.set(key, spreadFor(w, n, scenario.pools));
    return spreads.get(key);
  };
  let solves = 0;

  const solve = (full: readonly InstanceTargets[], current: Placement | undefined, currentNodes: Readonly<Record<string, number>> | undefined): Promise<Allocation> => {
    // The engine takes one spread per workload over the window: step 0's (the
    // one enacted). Later steps keep it only while their own sizing is at least
    // as strong, so the window stops at the first step whose spread is weaker.
    let steps = full.length;
    for (const w of scenario.workloads) {
      const first = spreadOf(w, full[0][w.name] ?? 0)?.survivingInstances ?? 0;
      if (first === 0) continue;
      for (let t = 1; t < steps; t++) if ((spreadOf(w, full[t][w.name] ?? 0)?.survivingInstances ?? 0) < first) steps = t;
    }
    const window = full.slice(0, steps);
    const targetsKey = window.map((t) => scenario.workloads.map((w) => t[w.name] ?? 0).join(',')).join('|');
    const nodesKey = currentNodes ? scenario.pools.map((p) => currentNodes[p.name] ?? 0).join(',') : '';
    const key = `${targetsKey}#${placementKey(current)}#${nodesKey}#${options.pools?.key ?? ''}`;
    let hit = cache.get(key);
    if (hit) return hit;
    solves++;
    const workloads: HorizonWorkload[] = scenario.workloads.map((w) => {
      const instances = window.map((t) => t[w.name] ?? 0);
      const spread = spreadOf(w, instances[0]);
      return {
        name: w.name,
        perInstance: w.perInstance,
        instances,
        minInstances: Math.min(w.minInstances, ...instances),
        priority: w.priority,
        tags: w.tags,
        ...(spread ? { spread } : {}),
      };
    });
    const usable = options.pools?.usablePools() ?? scenario.pools;
    const input = {
      steps: window.length,
      stepHours,
      workloads,
      pools: usable,
      // Without node counts, churn against `current` cannot be priced: price only the window's own changes.
      costs: currentNodes ? costs : { ...costs, churnPerNode: window.length > 1 ? costs.churnPerNode : 0 },
      current: current ? { nodesByPool: currentNodes ?? {}, instances: current, costPerHour: 0, shortfall: {} } : undefined,
    };
    const solveOptions = { method: 'exact', timeLimitSeconds: options.timeLimitSeconds ?? 10 } as const;
    const degraded = (options.pools?.excluded.size ?? 0) > 0;
    if (degraded && usable.length === 0) {
      // Every pool excluded: nothing can be placed (the shortfall says so).
      hit = Promise.resolve({ nodesByPool: {}, instances: {}, costPerHour: 0, shortfall: Object.fromEntries(workloads.map((w) => [w.name, w.instances[0]])) });
    } else {
      // With pools excluded, guaranteed minimums that no longer fit give way (placed by priority) rather than stopping the replay.
      hit = optimizeHorizon(input, solveOptions)
        .catch((e: unknown) => {
          if (!degraded || !(e instanceof InfeasibleError)) throw e;
          return optimizeHorizon({ ...input, workloads: workloads.map((w) => ({ ...w, minInstances: 0 })) }, solveOptions);
        })
        .then((r) => r.allocations[0]);
    }
    cache.set(key, hit);
    return hit;
  };

  return {
    get solves() {
      return solves;
    },
    allocate: (targets, current, currentNodes) => solve([targets], current, currentNodes),
    allocateWindow: (window, current, currentNodes) => solve(window, current, currentNodes),
  };
}
