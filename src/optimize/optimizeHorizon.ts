/**
 * Entry point of multi-step allocation: picks the exact MIP when it is small
 * enough, the class decomposition otherwise, and always returns a plan checked
 * against every hard constraint, its cost recomputed from the decisions, a
 * valid lower bound and the gap. Infeasible input raises an `InfeasibleError`
 * naming the conflicting constraints in user terms.
 */
import { InfeasibleError, firstProblems } from '../core/errors.ts';
import type { Allocation } from '../core/plan.ts';
import { type DecomposeOptions, type Decomposed, solveDecomposed } from './decompose.ts';
import { diagnoseHorizon, quickChecks } from './diagnose.ts';
import { type CostBreakdown, type HorizonContext, type HorizonInput, type HorizonPlan, buildContext, checkPlan, evaluatePlan, placementSize, stepAllocation } from './horizon.ts';
import { type HorizonModel, buildHorizonModel, solveExact } from './horizonModel.ts';
import { type PackBlocked, packPlan } from './packPlan.ts';
import { improveByPoolGroups, improveByWindows } from './windows.ts';
import { SolverAbortedError, relativeGap } from './solver.ts';

export type HorizonMethod = 'exact' | 'decomposition';

/** When the decomposition's plan breaks a hard constraint, the exact model is tried up to this multiple of `exactLimit`. */
const EXACT_FALLBACK_FACTOR = 5;

/**
 * Exact models with at least this many placement variables start from the
 * decomposition's plan, improved by fix-and-optimize over time windows
 * (windows.ts; past `exactLimit`, also over pool groups), as a MIP start: on them HiGHS can spend its whole time limit
 * before its own heuristics find a good incumbent. Smaller models (the
 * replay's per-step solves) solve to optimality faster than the decomposition runs.
 */
const WARM_START_PLACEMENTS = 500;

/**
 * Share of the time limit by which the fix-and-optimize neighbourhoods stop
 * (time windows, then pool groups), leaving the rest to the full model (its
 * bound, and a last improvement).
 */
const WINDOWS_SHARE = 0.7;

export interface HorizonOptions extends DecomposeOptions {
  /** `auto` (default): exact when the placement model has at most `exactLimit` placement variables. */
  readonly method?: 'auto' | HorizonMethod;
  readonly exactLimit?: number;
  readonly timeLimitSeconds?: number;
  readonly mipRelGap?: number;
  /**
   * A known plan for the same pools and workloads (e.g. the base case's, when
   * solving a what-if alternative). When it meets every hard constraint of
   * this input it is the exact model's start, and the answer is never worse.
   */
  readonly start?: { readonly context: HorizonContext; readonly plan: HorizonPlan };
  /**
   * Raise node counts to what packing each step's instances node by node
   * needs (packPlan.ts: moving instances where that is cheaper, then emptying
   * on-demand nodes into room elsewhere), and cost that: the models count
   * capacity per pool, which a scheduler placing instances on individual nodes
   * cannot always match.
   */
  readonly packNodes?: boolean;
}

export interface HorizonResult {
  readonly method: HorizonMethod;
  readonly plan: HorizonPlan;
  readonly context: HorizonContext;
  /** Step-by-step allocations by name. */
  readonly allocations: readonly Allocation[];
  readonly reservedByPool: Readonly<Record<string, number>>;
  readonly cost: CostBreakdown;
  /** Valid lower bound on `cost.objective` for the original (undecomposed) problem. */
  readonly lowerBound: number;
  /** (objective − lowerBound) / objective. */
  readonly gap: number;
  readonly seconds: number;
  /** Missing instances per workload per step (contention), by name. */
  readonly shortfall: Readonly<Record<string, readonly number[]>>;
  /** Size and timing of the aggregated model (decomposition only). */
  readonly aggregate?: Decomposed['aggregate'];
  /** The aggregated LP's price of one more instance per step and workload index (decomposition only; see `Decomposed`). */
  readonly aggregateMarginalCost?: Decomposed['marginalCostPerInstance'];
  /** Set when HiGHS aborted on the exact model (see `SolverAbortedError`) and the plan is its start: why. */
  readonly exactAborted?: string;
  /** With `packNodes`: node-steps added so that every step packs node by node, where a limit stopped that, and the seconds it took. */
  readonly packing?: { readonly addedNodeSteps: number; readonly removedNodeSteps: number; readonly movedInstances: number; readonly blocked: readonly PackBlocked[]; readonly seconds: number };
}

export async function optimizeHorizon(input: HorizonInput, options: HorizonOptions = {}): Promise<HorizonResult> {
  const started = performance.now();
  const ctx = buildContext(input);
  const obvious = quickChecks(ctx);
  if (obvious.length) throw new InfeasibleError('no plan meets every hard constraint', obvious);
  const exactLimit = options.exactLimit ?? 20_000;
  let method: HorizonMethod = options.method && options.method !== 'auto' ? options.method : placementSize(ctx) <= exactLimit ? 'exact' : 'decomposition';
  let plan: HorizonPlan;
  let lowerBound: number;
  let violations: string[];
  let aggregate: Decomposed['aggregate'] | undefined;
  let aggregateMarginalCost: Decomposed['marginalCostPerInstance'] | undefined;
  const timeLimitSeconds = options.timeLimitSeconds ?? 30;
  const exact = async (start?: HorizonPlan, seconds = timeLimitSeconds, model?: HorizonModel) => {
    const solved = await solveExact(ctx, seconds, options.mipRelGap ?? 1e-4, start, model);
    if ('infeasible' in solved) throw await infeasible(input);
    return solved;
  };
  const given = usableStart(ctx, options.start);
  let exactAborted: string | undefined;
  if (method === 'exact') {
    // The decomposition's start takes at most a fifth of the time limit; the exact model gets the rest.
    const warm = placementSize(ctx) >= WARM_START_PLACEMENTS ? await solveDecomposed(ctx, { aggregateMipSeconds: Math.min(5, timeLimitSeconds / 5), ...options }) : undefined;
    let start = cheapest(ctx, [given, warm && checkPlan(ctx, warm.plan).length === 0 ? warm.plan : undefined]);
    const model = buildHorizonModel(ctx);
    let solved: Awaited<ReturnType<typeof exact>> | undefined;
    try {
      const deadline = started + WINDOWS_SHARE * timeLimitSeconds * 1000;
      if (start && warm) start = (await improveByWindows(ctx, model, start, { deadline })).plan;
      // Past the size `auto` solves exactly, HiGHS alone barely moves the
      // start (1,000 workloads, one step: 44.873 → 44.868 in 600 s); freeing
      // a few pool groups at a time re-chooses the mix of workloads over them.
      if (start && warm && placementSize(ctx) > exactLimit) start = (await improveByPoolGroups(ctx, model, start, { deadline })).plan;
      solved = await exact(start, Math.max(1, timeLimitSeconds - (performance.now() - started) / 1000), model);
    } catch (error) {
      // HiGHS ran out of its heap on the exact model: the start (the
      // decomposition's plan, or the caller's) is the answer, with its bound.
      if (!(error instanceof SolverAbortedError) || !start) throw error;
      exactAborted = error.message;
    }
    // HiGHS keeps an accepted start as its incumbent; should it have rejected
    // it (numerics) and stopped at its time limit with something worse, the
    // start is still the better answer.
    plan = cheapest(ctx, [solved?.plan, start])!;
    lowerBound = solved?.solve.lowerBound ?? 0;
    if (warm) lowerBound = Math.max(lowerBound, warm.lowerBound);
    violations = checkPlan(ctx, plan);
  } else {
    const solved = await solveDecomposed(ctx, options);
    if (!solved) throw await infeasible(input);
    plan = solved.plan;
    lowerBound = solved.lowerBound;
    aggregate = solved.aggregate;
    aggregateMarginalCost = solved.marginalCostPerInstance;
    // The decomposition's bound ignores zone spread and its placement is
    // greedy: on small, tight inputs (a budget that leaves no node to spare)
    // it can miss a plan the exact model finds. Then the exact model answers,
    // while it is small enough to solve.
    violations = checkPlan(ctx, plan);
    if (given && (violations.length > 0 || cheapest(ctx, [plan, given]) === given)) {
      plan = given;
      violations = [];
    }
    if (violations.length > 0 && placementSize(ctx) <= EXACT_FALLBACK_FACTOR * exactLimit) {
      const solved = await exact();
      method = 'exact';
      plan = solved.plan;
      lowerBound = Math.max(lowerBound, solved.solve.lowerBound);
      violations = checkPlan(ctx, plan);
    }
  }
  if (violations.length) throw new Error(`internal: ${method} plan breaks constraints:\n  ${firstProblems(violations).join('\n  ')}`);
  let packing: HorizonResult['packing'];
  if (options.packNodes) {
    const packStarted = performance.now();
    const packed = packPlan(ctx, plan);
    plan = packed.plan;
    packing = {
      addedNodeSteps: packed.addedNodeSteps,
      removedNodeSteps: packed.removedNodeSteps,
      movedInstances: packed.movedInstances,
      blocked: packed.blocked,
      seconds: (performance.now() - packStarted) / 1000,
    };
  }
  const cost = evaluatePlan(ctx, plan);
  // A bound above the recomputed objective can only come from solver tolerances.
  lowerBound = Math.min(lowerBound, cost.objective);
  const shortfall: Record<string, number[]> = {};
  ctx.workloads.forEach((w, wi) => {
    shortfall[w.name] = Array.from({ length: ctx.steps }, (_, t) => ctx.req[t][wi] - [...plan.placement[t][wi].values()].reduce((a, b) => a + b, 0));
  });
  return {
    method,
    plan,
    context: ctx,
    allocations: Array.from({ length: ctx.steps }, (_, t) => stepAllocation(ctx, plan, t)),
    reservedByPool: Object.fromEntries(ctx.pools.map((p, i) => [p.name, plan.reserved[i]])),
    cost,
    lowerBound,
    gap: relativeGap(cost.objective, lowerBound),
    seconds: (performance.now() - started) / 1000,
    shortfall,
    aggregate,
    ...(method === 'decomposition' && aggregateMarginalCost ? { aggregateMarginalCost } : {}),
    ...(packing ? { packing } : {}),
    ...(exactAborted ? { exactAborted } : {}),
  };
}

/** The given start when it is for the same pools and workloads (by name, in order) and meets every hard constraint here. */
function usableStart(ctx: HorizonContext, start: HorizonOptions['start']): HorizonPlan | undefined {
  if (!start) return undefined;
  const same = <T extends { readonly name: string }>(a: readonly T[], b: readonly T[]) => a.length === b.length && a.every((x, i) => x.name === b[i].name);
  if (!same(ctx.pools, start.context.pools) || !same(ctx.workloads, start.context.workloads) || start.plan.nodes.length !== ctx.steps) return undefined;
  return checkPlan(ctx, start.plan).length === 0 ? start.plan : undefined;
}

/** The plan of least objective among the defined ones (the first on ties). */
function cheapest(ctx: HorizonContext, plans: readonly (HorizonPlan | undefined)[]): HorizonPlan | undefined {
  let best: HorizonPlan | undefined;
  let bestCost = Infinity;
  for (const p of plans) {
    if (!p) continue;
    const cost = evaluatePlan(ctx, p).objective;
    if (cost < bestCost - 1e-9) (best = p), (bestCost = cost);
  }
  return best;
}

async function infeasible(input: HorizonInput): Promise<InfeasibleError> {
  const conflicts = await diagnoseHorizon(input);
  return new InfeasibleError('no plan meets every hard constraint', conflicts.length ? conflicts : ['the constraints conflict, but no smaller set of named constraints could be isolated']);
}
