/**
 * Fix-and-optimize, for exact models HiGHS cannot close in its time limit.
 * From a plan that meets every hard constraint, re-solve the exact model with
 * every integer decision outside a neighbourhood fixed at the plan's value;
 * keep the answer when the whole plan then costs less. Each neighbourhood is
 * a smaller MIP: HiGHS gets the model with the fixed columns taken out
 * (`fixColumns`), never the whole model.
 *
 * Two kinds of neighbourhood:
 * - **Time windows** (`improveByWindows`): a few consecutive steps, every
 *   pool. A window sees what a per-step greedy cannot: churn and starts
 *   against both neighbours, a pool kept open over a quiet hour. Sweeps repeat
 *   while a sweep still gains.
 * - **Pool groups** (`improveByPoolGroups`): every step, the pools of a few
 *   pool groups (provider, tags, node memory:CPU ratio): each instance in
 *   those pools may move to any other of them, and their nodes (and
 *   reservations) are chosen again. It re-chooses the mix of whole workloads
 *   over the groups, which is where the decomposition's one-step plans lose
 *   most (docs/allocation.md, "7 December 2026, evening": at 1,000 workloads
 *   and one step, 1.86% → 0.87% above the bound in ten rounds of 40 s).
 *
 * The method is the classic fix-and-optimize MIP heuristic (Helber and
 * Sahling, "A fix-and-optimize approach for the multi-level capacitated lot
 * sizing problem", Int. J. Production Economics 123, 2010); with random
 * neighbourhoods it is a large-neighbourhood search. It improves the plan
 * only; the lower bound still comes from the full model (or the
 * decomposition).
 */
import { poolGroups } from './aggregateModel.ts';
import { type HorizonContext, type HorizonPlan, checkPlan, evaluatePlan } from './horizon.ts';
import { type HorizonModel, extractPlan, planStart } from './horizonModel.ts';
import { fixColumns } from './lp.ts';
import { type SolveResult, SolverAbortedError, solveModel } from './solver.ts';
import { lcg } from '../forecast/random.ts';

export interface WindowOptions {
  /** Stop starting windows after this time (`performance.now()` milliseconds). */
  readonly deadline: number;
  /** Steps re-solved together (default 4). */
  readonly windowSteps?: number;
  /** Steps between window starts (default 2: windows overlap by half). */
  readonly strideSteps?: number;
  /** Time limit of one window's MIP, seconds (default 2). */
  readonly windowSeconds?: number;
}

export interface WindowResult {
  readonly plan: HorizonPlan;
  /** Neighbourhoods (time windows, or sets of pool groups) solved, and those whose answer was kept. */
  readonly windows: number;
  readonly improved: number;
}

/** Fix-and-optimize over time windows (see the module comment), sweeping while a sweep gains, until the deadline. */
export async function improveByWindows(ctx: HorizonContext, m: HorizonModel, plan: HorizonPlan, options: WindowOptions): Promise<WindowResult> {
  const T = ctx.steps;
  const width = Math.max(1, options.windowSteps ?? 4);
  const stride = Math.max(1, options.strideSteps ?? 2);
  if (T <= width) return { plan, windows: 0, improved: 0 };
  // The integer columns each step owns; reservations belong to no window and stay fixed.
  const columnsOf = Array.from({ length: T }, (_, t) => [
    ...m.nodeVar[t],
    ...[...m.openVar[t]].filter((v) => v >= 0),
    ...m.placementVar[t].flatMap((list) => list.map(([, x]) => x)),
  ]);
  const search = new Neighbourhoods(ctx, m, plan);
  for (let gained = true; gained; ) {
    gained = false;
    for (let from = 0; from < T; from += stride) {
      const free: number[] = [];
      for (let t = from; t < Math.min(T, from + width); t++) free.push(...columnsOf[t]);
      const outcome = await search.solve(free, options.deadline, options.windowSeconds ?? 2);
      if (outcome === 'stop') return search.result();
      if (outcome === 'improved') gained = true;
      if (from + width >= T) break;
    }
  }
  return search.result();
}

export interface PoolGroupOptions {
  /** Stop starting neighbourhoods after this time (`performance.now()` milliseconds). */
  readonly deadline: number;
  /** Pool groups freed together (default 4). */
  readonly groups?: number;
  /** Time limit of one neighbourhood's MIP, seconds (default 40: HiGHS finds few better mixes at 1,000 workloads in 10 s). */
  readonly neighbourhoodSeconds?: number;
  /** Seed of the neighbourhoods' choice (default 1): the same seed, plan and time limits give the same neighbourhoods. */
  readonly seed?: number;
}

/**
 * Fix-and-optimize over pool groups (see the module comment): until the
 * deadline, free the pools of `groups` pool groups drawn at random among
 * those the plan uses (every step), and keep the answer when the plan costs
 * less. Returns the plan it was given when nothing improved it.
 */
export async function improveByPoolGroups(ctx: HorizonContext, m: HorizonModel, plan: HorizonPlan, options: PoolGroupOptions): Promise<WindowResult> {
  const { groups, groupOf } = poolGroups(ctx);
  const size = Math.max(1, options.groups ?? 4);
  const rand = lcg(options.seed ?? 1);
  const search = new Neighbourhoods(ctx, m, plan);
  // Columns of each pool: its nodes, open state and reservation at every step, and every placement in it.
  const columnsOfPool: number[][] = ctx.pools.map((_, p) => [...(m.reservedVar[p] >= 0 ? [m.reservedVar[p]] : [])]);
  for (let t = 0; t < ctx.steps; t++) {
    ctx.pools.forEach((_, p) => {
      columnsOfPool[p].push(m.nodeVar[t][p]);
      if (m.openVar[t][p] >= 0) columnsOfPool[p].push(m.openVar[t][p]);
    });
    for (const list of m.placementVar[t]) for (const [p, x] of list) columnsOfPool[p].push(x);
  }
  for (;;) {
    const best = search.result().plan;
    const used = groups.map((_, g) => g).filter((g) => groups[g].pools.some((p) => best.nodes.some((n) => n[p] > 0)));
    // With no more groups in use than a neighbourhood holds, the neighbourhood is all of them: solved once, unless that gains.
    const all = used.length <= size;
    const chosen = new Set<number>(all ? used : []);
    while (chosen.size < size && !all) chosen.add(used[Math.floor(rand() * used.length)]);
    const free = ctx.pools.flatMap((_, p) => (chosen.has(groupOf[p]) ? columnsOfPool[p] : []));
    const outcome = await search.solve(free, options.deadline, options.neighbourhoodSeconds ?? 40);
    if (outcome === 'stop' || (all && outcome === 'same')) return search.result();
  }
}

/** The best plan so far and the solve of one neighbourhood from it (every other integer column fixed at its value). */
class Neighbourhoods {
  private best: HorizonPlan;
  private bestCost: number;
  private windows = 0;
  private improved = 0;

  constructor(
    private readonly ctx: HorizonContext,
    private readonly m: HorizonModel,
    plan: HorizonPlan,
  ) {
    this.best = plan;
    this.bestCost = evaluatePlan(ctx, plan).objective;
  }

  /** `stop`: the deadline has passed, or HiGHS ran out of its heap; the search ends with the best plan so far. */
  async solve(free: readonly number[], deadline: number, seconds: number): Promise<'stop' | 'improved' | 'same'> {
    const left = (deadline - performance.now()) / 1000;
    if (left <= 0.05) return 'stop';
    const { ctx, m } = this;
    const start = planStart(ctx, m, this.best);
    // Every integer column outside the neighbourhood is fixed at the plan's value and taken out of the model HiGHS gets.
    const isFree = new Uint8Array(m.model.variables.length);
    for (const c of free) isFree[c] = 1;
    const fixed = new Map<number, number>();
    start.indices.forEach((c, i) => {
      if (!isFree[c]) fixed.set(c, start.values[i]);
    });
    const reduced = fixColumns(m.model, fixed);
    this.windows++;
    if (!reduced) return 'same';
    // The start's free columns, in the reduced model's numbering.
    const kept = [...start.indices.keys()].filter((i) => isFree[start.indices[i]]);
    const reducedStart = { indices: Int32Array.from(kept, (i) => reduced.indexOf[start.indices[i]]), values: Float64Array.from(kept, (i) => start.values[i]) };
    let solved: SolveResult;
    try {
      solved = await solveModel(reduced.model, { via: 'arrays', timeLimitSeconds: Math.min(seconds, left), mipRelGap: 1e-4, start: reducedStart });
    } catch (error) {
      // HiGHS ran out of its heap: keep what the search has, and stop it.
      if (error instanceof SolverAbortedError) return 'stop';
      throw error;
    }
    if ((solved.status !== 'optimal' && solved.status !== 'timeLimit') || solved.values.length === 0) return 'same';
    const next = extractPlan(ctx, m, reduced.expand(solved.values));
    const cost = evaluatePlan(ctx, next).objective;
    if (cost < this.bestCost - 1e-9 && checkPlan(ctx, next).length === 0) {
      this.best = next;
      this.bestCost = cost;
      this.improved++;
      return 'improved';
    }
    return 'same';
  }

  result(): WindowResult {
    return { plan: this.best, windows: this.windows, improved: this.improved };
  }
}
