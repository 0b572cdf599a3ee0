/**
 * One step of allocation: requirements + pools → nodes per pool and instances
 * per workload and pool, at least cost, for the replay and the control loop.
 *
 * This is the horizon engine (`optimizeHorizon`) over a single step, not a
 * model of its own: the same MIP (exact while small, the class decomposition
 * at scale), the same shortfall prices by priority (`contention.ts`: a higher
 * priority never loses an instance to a lower one, a guaranteed minimum is
 * never given up), the same packing cuts, and the same diagnosis of
 * infeasible input in user terms (`diagnose.ts`). Starting an instance in a
 * pool where it does not run now costs `migrationCostPerInstance` when the
 * running allocation is given.
 */
import type { Pool, Resources } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { type HorizonInput } from './horizon.ts';
import { optimizeHorizon } from './optimizeHorizon.ts';

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
  /** Cost of starting one instance in a pool where it does not run in `current`, in cost-per-hour units (0 = ignore). */
  readonly migrationCostPerInstance?: number;
}

export interface AllocateInput {
  readonly workloads: readonly WorkloadDemand[];
  readonly pools: readonly Pool[];
  /** The running allocation, to price migrations against. */
  readonly current?: Allocation;
  readonly options?: AllocateOptions;
}

export interface AllocationResult extends Allocation {
  /** `optimal`: proven within `mipRelGap`; `feasible`: a checked plan whose distance to the optimum is at most `gap`. */
  readonly status: 'optimal' | 'feasible';
  /** Cost + shortfall penalties + migration cost. */
  readonly objective: number;
  /** Valid lower bound on `objective`. */
  readonly lowerBound: number;
  /** (objective − lowerBound) / objective. */
  readonly gap: number;
  readonly solveSeconds: number;
  /** Shortfall penalty per missing instance, by workload (for explanations). */
  readonly shortfallPenalty: Readonly<Record<string, number>>;
}

/** Throws `InvalidInputError` for malformed input and `InfeasibleError` (naming the conflicting constraints) when the guarantees cannot be met. */
export async function allocate(input: AllocateInput): Promise<AllocationResult> {
  const options = input.options ?? {};
  const mipRelGap = options.mipRelGap ?? 1e-4;
  const horizon: HorizonInput = {
    steps: 1,
    stepHours: 1,
    pools: input.pools,
    workloads: input.workloads.map((w) => ({ ...w, instances: [w.instances] })),
    current: input.current,
    costs: { migrationPerInstance: input.current ? options.migrationCostPerInstance ?? 0 : 0 },
  };
  const result = await optimizeHorizon(horizon, { timeLimitSeconds: options.timeLimitSeconds ?? 10, mipRelGap });
  const step = result.allocations[0];
  const ctx = result.context;
  return {
    ...step,
    status: result.method === 'exact' && result.gap <= mipRelGap + 1e-9 ? 'optimal' : 'feasible',
    objective: result.cost.objective,
    lowerBound: result.lowerBound,
    gap: result.gap,
    solveSeconds: result.seconds,
    shortfallPenalty: Object.fromEntries(ctx.workloads.map((w, wi) => [w.name, ctx.penalty[0][wi]])),
  };
}
