/**
 * Fix-and-optimize over time windows, for exact models HiGHS cannot close in
 * its time limit. From a plan that meets every hard constraint, re-solve the
 * exact model for a few consecutive steps at a time with every integer
 * decision outside the window fixed at the plan's value (nodes, open pools
 * and placements of the other steps, reservations); keep a window's answer
 * when the whole plan then costs less, and sweep again while a sweep still
 * gains. Each window is a small MIP (presolve removes the fixed columns), and
 * it sees what a per-step greedy cannot: churn and starts against both
 * neighbours, a pool kept open over a quiet hour.
 *
 * The method is the classic fix-and-optimize MIP heuristic (Helber and
 * Sahling, "A fix-and-optimize approach for the multi-level capacitated lot
 * sizing problem", Int. J. Production Economics 123, 2010) with time windows
 * as its subproblems. It improves the plan only; the lower bound still comes
 * from the full model (or the decomposition).
 */
import { type HorizonContext, type HorizonPlan, checkPlan, evaluatePlan } from './horizon.ts';
import { type HorizonModel, extractPlan, planStart } from './horizonModel.ts';
import { solveModel } from './solver.ts';

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
  /** Windows solved, and those whose answer was kept. */
  readonly windows: number;
  readonly improved: number;
}

export async function improveByWindows(ctx: HorizonContext, m: HorizonModel, plan: HorizonPlan, options: WindowOptions): Promise<WindowResult> {
  const T = ctx.steps;
  const width = Math.max(1, options.windowSteps ?? 4);
  const stride = Math.max(1, options.strideSteps ?? 2);
  if (T <= width) return { plan, windows: 0, improved: 0 };
  const base = m.model.variables;
  // The integer columns each step owns; reservations belong to no window and stay fixed.
  const columnsOf = Array.from({ length: T }, (_, t) => [
    ...m.nodeVar[t],
    ...[...m.openVar[t]].filter((v) => v >= 0),
    ...m.placementVar[t].flatMap((list) => list.map(([, x]) => x)),
  ]);
  let best = plan;
  let bestCost = evaluatePlan(ctx, plan).objective;
  let windows = 0;
  let improved = 0;
  for (let gained = true; gained; ) {
    gained = false;
    for (let from = 0; from < T; from += stride) {
      const left = (options.deadline - performance.now()) / 1000;
      if (left <= 0.05) return { plan: best, windows, improved };
      const start = planStart(ctx, m, best);
      const variables = base.slice();
      start.indices.forEach((c, i) => (variables[c] = { ...base[c], lower: start.values[i], upper: start.values[i] }));
      for (let t = from; t < Math.min(T, from + width); t++) for (const c of columnsOf[t]) variables[c] = base[c];
      const solved = await solveModel({ variables, constraints: m.model.constraints }, { via: 'arrays', timeLimitSeconds: Math.min(options.windowSeconds ?? 2, left), mipRelGap: 1e-4, start });
      windows++;
      if ((solved.status !== 'optimal' && solved.status !== 'timeLimit') || solved.values.length === 0) continue;
      const next = extractPlan(ctx, m, solved.values);
      const cost = evaluatePlan(ctx, next).objective;
      if (cost < bestCost - 1e-9 && checkPlan(ctx, next).length === 0) {
        best = next;
        bestCost = cost;
        improved++;
        gained = true;
      }
      if (from + width >= T) break;
    }
  }
  return { plan: best, windows, improved };
}
