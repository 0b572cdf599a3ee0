import type { Scenario, Workload } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { attainmentAt, instancesForDemand } from '../capacity/sizing.ts';
import { allocate } from '../optimize/allocate.ts';
import { workloadRequirement } from '../capacity/requirement.ts';
import { horizonAllocator, placementKey } from './horizonAllocator.ts';
import { forecasterByName, refitting, type OnlineForecaster } from '../forecast/index.ts';
import { withEvents } from '../forecast/events.ts';
import { oraclePolicy } from './policies/oracle.ts';
import { predictivePolicy } from './policies/predictive.ts';
import { reactivePolicy } from './policies/reactive.ts';
import { staticPolicy } from './policies/static.ts';
import type { Allocator, InstanceTargets, Placement, PolicyContext, ReplayPolicy, Sizer } from './policies/policy.ts';
import { replay, type ReplayProgress } from './replay.ts';
import { withReservations } from './reservations.ts';
import type { PolicyName, SimulationResult } from './types.ts';
import { InfeasibleError } from '../core/errors.ts';
import type { AllocateInput } from '../optimize/allocate.ts';
import type { PoolStatus } from './pools.ts';

export const ALL_POLICIES: readonly PolicyName[] = ['static', 'reactive', 'predictive', 'oracle'];

/** Sizing through the shared queueing model (SLO only, no availability). */
export const queueingSizer: Sizer = {
  instancesFor: (w: Workload, demandRps: number) => instancesForDemand(w, demandRps).instances,
};

/**
 * Sizing through `workloadRequirement`: the SLO's instances, raised for the
 * workload's availability requirement (N+k, spread, target) when it declares
 * one, with the scenario's pools as failure domains. Memoized per demand.
 */
export function requirementSizer(scenario: Scenario): Sizer {
  const memo = new Map<string, Map<number, number>>();
  return {
    instancesFor(w: Workload, demandRps: number): number {
      if (!w.availability) return instancesForDemand(w, demandRps).instances;
      let m = memo.get(w.name);
      if (!m) memo.set(w.name, (m = new Map()));
      let n = m.get(demandRps);
      if (n === undefined) m.set(demandRps, (n = workloadRequirement(w, demandRps, scenario.pools).instances));
      return n;
    },
  };
}

/** Whether the SLO holds for `instances` at `demandRps`. */
export function sloHolds(w: Workload, instances: number, demandRps: number): boolean {
  const attained = attainmentAt(w, instances, demandRps);
  return w.slo.kind === 'latency' ? attained >= w.slo.percentile - 1e-9 : attained >= 1 - 1e-9;
}

/**
 * The least-cost allocation for instance targets (a MIP solved by HiGHS),
 * memoized: policies ask for the same targets again and again. One per policy.
 */
export function mipAllocator(scenario: Scenario, pools?: PoolStatus): Allocator & { readonly solves: number } {
  const cache = new Map<string, Promise<Allocation>>();
  const latest = new Map<string, Promise<Allocation>>();
  let previous: { targetsKey: string; result: Promise<Allocation> } | undefined;
  // A small price on every instance started away from where it runs: enough to
  // break ties between equal-cost placements in favour of staying put, far
  // below what a real saving is worth (1% of the cheapest node-hour).
  const migrationCostPerInstance = 0.01 * Math.min(...scenario.pools.map((p) => p.costPerHour).filter((c) => c > 0), 1);
  let solves = 0;
  return {
    get solves() {
      return solves;
    },
    async allocate(targets: InstanceTargets, current?: Placement): Promise<Allocation> {
      // The pools usable now are part of every key: an exclusion changes the answer.
      const targetsKey = `${scenario.workloads.map((w) => targets[w.name] ?? 0).join(',')}${pools?.key ? `!${pools.key}` : ''}`;
      const placed = current ? placementKey(current) : '';
      // The same targets as the previous call, or already placed as the last
      // solve for these targets chose: that solve stands (while a move is in
      // flight the placement differs from the target; re-solving would not help).
      if (previous && previous.targetsKey === targetsKey) return previous.result;
      const last = latest.get(targetsKey);
      if (last && current && placementKey((await last).instances) === placed) return last;
      const key = `${targetsKey}|${placed}`;
      let hit = cache.get(key);
      if (!hit) {
        solves++;
        const demands = scenario.workloads.map((w) => ({
          name: w.name,
          perInstance: w.perInstance,
          instances: targets[w.name] ?? 0,
          minInstances: Math.min(w.minInstances, targets[w.name] ?? 0),
          priority: w.priority,
          tags: w.tags,
        }));
        const input = {
          workloads: demands,
          pools: pools?.usablePools() ?? scenario.pools,
          current: current ? { nodesByPool: {}, instances: current, costPerHour: 0, shortfall: {} } : undefined,
          options: { migrationCostPerInstance },
        };
        hit = pools?.active ? allocateDegraded(input, pools) : allocate(input);
        cache.set(key, hit);
      }
      latest.set(targetsKey, hit);
      previous = { targetsKey, result: hit };
      return hit;
    },
  };
}

/**
 * Allocation while pools may be excluded: when no pool is left, or the
 * guaranteed minimums no longer fit the pools left, every workload is placed
 * by priority without guarantees (the shortfall report says who lost what)
 * instead of stopping the replay.
 */
export async function allocateDegraded(input: AllocateInput, pools: PoolStatus): Promise<Allocation> {
  if (input.pools.length === 0) {
    return { nodesByPool: {}, instances: {}, costPerHour: 0, shortfall: Object.fromEntries(input.workloads.map((w) => [w.name, w.instances])) };
  }
  try {
    return await allocate(input);
  } catch (e) {
    if (!(e instanceof InfeasibleError) || pools.excluded.size === 0) throw e;
    return allocate({ ...input, workloads: input.workloads.map((w) => ({ ...w, minInstances: 0 })) });
  }
}

export interface RunOptions {
  readonly policies?: readonly PolicyName[];
  readonly onProgress?: (p: ReplayProgress) => void;
  /**
   * How the one allocation engine (`optimizeHorizon`) is asked, the same for
   * every policy: `horizon` passes the scenario's zone/provider spread and
   * bandwidth, prices churn against the running cluster and lets predictive
   * plan a window; `single-step` asks `allocate` (a horizon of one step,
   * memoized) with migrations priced, but no churn price, spread or
   * bandwidth. `auto` (default):
   * `horizon` when the scenario needs what only it honours (`needsHorizonEngine`),
   * `single-step` otherwise, because it is faster (docs/allocation.md, "In the replay").
   */
  readonly engine?: 'auto' | 'horizon' | 'single-step';
  /** Steps the predictive policy plans over with the horizon engine (default 1; see `PredictiveOptions.windowSteps`). */
  readonly windowSteps?: number;
}

/** Whether a scenario declares something only the horizon engine honours: a spread requirement, or bandwidth on both pools and workloads. */
export function needsHorizonEngine(scenario: Scenario): boolean {
  const spread = scenario.workloads.some((w) => w.availability?.survive !== undefined);
  const bandwidth = scenario.pools.some((p) => p.nodeType.capacity.networkMbps !== undefined) && scenario.workloads.some((w) => (w.perInstance.networkMbps ?? 0) > 0);
  return spread || bandwidth;
}

/** Replay a scenario under the chosen policies (all four by default). */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<SimulationResult> {
  const step = scenario.simulation.stepSeconds;
  const forecasters = new Map<string, OnlineForecaster>();
  const forecasterFor = (workload: string): OnlineForecaster => {
    let f = forecasters.get(workload);
    if (!f) {
      const model = forecasterByName(scenario.predictive.model, {
        horizonSteps: Math.round(scenario.simulation.horizonSeconds / step),
        stepSeconds: step,
        // The model contest is re-run once a day; refits in between keep the winner.
        reselectAfterSteps: Math.round(86_400 / step),
      });
      // The scenario's known events that concern this workload, as multiplicative regressors.
      const events = (scenario.events ?? []).filter((e) => !e.workloads || e.workloads.includes(workload));
      f = refitting(events.length > 0 ? withEvents(model) : model, {
        refitIntervalSeconds: scenario.predictive.refitIntervalSeconds,
        events,
      });
      forecasters.set(workload, f);
    }
    return f;
  };
  const makers: Record<PolicyName, (ctx: PolicyContext) => ReplayPolicy> = {
    static: staticPolicy,
    reactive: (ctx) => reactivePolicy(ctx, { holds: sloHolds }),
    // With `reservations:` in the scenario, the predictive policy also reviews reservations from its forecasts.
    predictive: (ctx) => withReservations(predictivePolicy(ctx, { forecasterFor, windowSteps: options.windowSteps ?? 1 }), ctx),
    oracle: oraclePolicy,
  };
  const names = options.policies ?? ALL_POLICIES;
  const engine = options.engine === undefined || options.engine === 'auto' ? (needsHorizonEngine(scenario) ? 'horizon' : 'single-step') : options.engine;
  return replay(scenario, {
    policies: names.map((n) => makers[n]),
    sizer: requirementSizer(scenario),
    allocator: (pools) => (engine === 'horizon' ? horizonAllocator(scenario, { pools }) : mipAllocator(scenario, pools)),
    onProgress: options.onProgress,
  });
}
