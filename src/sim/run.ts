import type { Scenario, Workload } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { attainmentAt, instancesForDemand } from '../capacity/sizing.ts';
import { allocate } from '../optimize/allocate.ts';
import { forecasterByName, refitting, type OnlineForecaster } from '../forecast/index.ts';
import { oraclePolicy } from './policies/oracle.ts';
import { predictivePolicy } from './policies/predictive.ts';
import { reactivePolicy } from './policies/reactive.ts';
import { staticPolicy } from './policies/static.ts';
import type { Allocator, InstanceTargets, PolicyContext, ReplayPolicy, Sizer } from './policies/policy.ts';
import { replay, type ReplayProgress } from './replay.ts';
import type { PolicyName, SimulationResult } from './types.ts';

export const ALL_POLICIES: readonly PolicyName[] = ['static', 'reactive', 'predictive', 'oracle'];

/** Sizing through the shared queueing model. */
export const queueingSizer: Sizer = {
  instancesFor: (w: Workload, demandRps: number) => instancesForDemand(w, demandRps).instances,
};

/** Whether the SLO holds for `instances` at `demandRps`. */
export function sloHolds(w: Workload, instances: number, demandRps: number): boolean {
  const attained = attainmentAt(w, instances, demandRps);
  return w.slo.kind === 'latency' ? attained >= w.slo.percentile - 1e-9 : attained >= 1 - 1e-9;
}

/**
 * The least-cost allocation for instance targets (a MIP solved by HiGHS),
 * memoized: policies ask for the same targets again and again.
 */
export function mipAllocator(scenario: Scenario): Allocator & { readonly solves: number } {
  const cache = new Map<string, Promise<Allocation>>();
  let solves = 0;
  return {
    get solves() {
      return solves;
    },
    allocate(targets: InstanceTargets): Promise<Allocation> {
      const key = scenario.workloads.map((w) => targets[w.name] ?? 0).join(',');
      let hit = cache.get(key);
      if (!hit) {
        solves++;
        hit = allocate({
          workloads: scenario.workloads.map((w) => ({
            name: w.name,
            perInstance: w.perInstance,
            instances: targets[w.name] ?? 0,
            minInstances: Math.min(w.minInstances, targets[w.name] ?? 0),
            priority: w.priority,
            tags: w.tags,
          })),
          pools: scenario.pools,
        });
        cache.set(key, hit);
      }
      return hit;
    },
  };
}

export interface RunOptions {
  readonly policies?: readonly PolicyName[];
  readonly onProgress?: (p: ReplayProgress) => void;
}

/** Replay a scenario under the chosen policies (all four by default). */
export async function runScenario(scenario: Scenario, options: RunOptions = {}): Promise<SimulationResult> {
  const step = scenario.simulation.stepSeconds;
  const forecasters = new Map<string, OnlineForecaster>();
  const forecasterFor = (workload: string): OnlineForecaster => {
    let f = forecasters.get(workload);
    if (!f) {
      f = refitting(forecasterByName(scenario.predictive.model, { horizonSteps: Math.round(scenario.simulation.horizonSeconds / step) }), {
        refitIntervalSeconds: scenario.predictive.refitIntervalSeconds,
      });
      forecasters.set(workload, f);
    }
    return f;
  };
  const makers: Record<PolicyName, (ctx: PolicyContext) => ReplayPolicy> = {
    static: staticPolicy,
    reactive: (ctx) => reactivePolicy(ctx, { holds: sloHolds }),
    predictive: (ctx) => predictivePolicy(ctx, { forecasterFor }),
    oracle: oraclePolicy,
  };
  const names = options.policies ?? ALL_POLICIES;
  return replay(scenario, {
    policies: names.map((n) => makers[n]),
    sizer: queueingSizer,
    allocator: mipAllocator(scenario),
    onProgress: options.onProgress,
  });
}
