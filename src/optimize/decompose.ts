/**
 * Allocation at scale: a class decomposition with a valid lower bound.
 *
 * 1. Aggregate (aggregateModel.ts). Pools are grouped into *pool groups*,
 *    workloads into *classes* that place CPU along the extreme rays of their
 *    members' shape cone; the node side (nodes, reservations, lifecycle,
 *    churn, quotas, budget) is the exact model's, shared verbatim.
 * 2. Bound. Every feasible plan maps to a feasible point of the aggregated
 *    model with no larger objective (aggregateModel.ts, docs/allocation.md), so
 *    its MIP's dual bound (and its LP bound), less the most the seeded
 *    tie-break prices can add, plus the starts every plan makes, is a valid
 *    lower bound. Past 96 steps the LP is solved in windows, the bound their sum.
 * 3. Disaggregate. Per step, members are split over the groups in ratio order
 *    matching the class's CPU per group, then placed into the group's pools
 *    (highest effective priority, then largest instances first; back where
 *    they ran first, then one instance at a time where the scarcer resource
 *    keeps the largest share free, so the pools fill in step in CPU and
 *    memory; traffic partners' zones first; zone spread respected); what does
 *    not fit goes to the cheapest eligible pool with room, then is repaired by
 *    adding nodes where quota, maintenance and budget allow.
 * 4. Re-split (stepPolish.ts). The step's LP over the pools each workload was
 *    given (and ran in the step before) re-splits instances and nodes at
 *    least cost; nodes are made whole per group, instances go back where the
 *    LP put them as far as they fit, the rest is placed as in 3.
 * 5. Polish. Nodes are trimmed to what placements need, consolidated (a node
 *    emptied when its instances fit elsewhere), traffic partners aligned and
 *    instances moved back where they ran (alignTraffic.ts), reservations
 *    re-chosen per pool; the caller recomputes the plan's true cost with `evaluatePlan`.
 */
import { availableParallelism } from 'node:os';
import { lcg } from '../forecast/random.ts';
import {
  type AggregateModel,
  CPU_UNIT,
  DEFAULT_LP_WINDOW_STEPS,
  type PoolGroup,
  WINDOWED_AFTER_STEPS,
  type WorkloadClass,
  buildAggregate,
  contentionPossible,
  lpWindows,
  marginalPrices,
  poolGroups,
  unavoidableStarts,
  windowContext,
  windowReservations,
  workloadClasses,
} from './aggregateModel.ts';
import { type HorizonContext, type HorizonPlan, fitsPool, moveInstances, minimumsHold, networkOf, nodeShare, perNode, placedCount, poolUse, ranBefore, spreadAllowsOneMore, survivors } from './horizon.ts';
import { solveModels } from './parallelSolve.ts';
import { type SolveResult, solveModel } from './solver.ts';
import { alignTraffic, keepInPlace } from './alignTraffic.ts';
import { type PolishResult, polishStep } from './stepPolish.ts';
import { StepPlacement, budgetAllows, quotaAllows } from './stepPlacement.ts';

export interface DecomposeOptions {
  /** Time for the aggregated LP and MIP together, seconds (the LP must finish: its bound is the guarantee). */
  readonly aggregateTimeLimitSeconds?: number;
  /** Relative gap at which the aggregated MIP stops. */
  readonly aggregateGap?: number;
  /** Shape bins per doubling of the memory:CPU ratio (finer = tighter bound, larger model). */
  readonly binsPerOctave?: number;
  /** HiGHS options for the aggregated LP (e.g. `{ solver: 'ipm' }`). */
  readonly lpOptions?: Readonly<Record<string, string | number | boolean>>;
  /** Solve the aggregated MIP after its LP (default: when it has at most `aggregateMipMaxVariables` columns). */
  readonly aggregateMip?: boolean;
  readonly aggregateMipMaxVariables?: number;
  /** Time for the aggregated MIP when it runs, seconds (default 5). */
  readonly aggregateMipSeconds?: number;
  /**
   * λ ∈ [0, 1]: weight of the group-move bound against the start bound in the
   * migration part of the bound (default 0 = start bound only; see docs: valid but it slows the LP).
   */
  readonly moveWeight?: number;
  /**
   * Largest tie-break price per vCPU and step on class flows, $ (default 1e-5;
   * 0 = none). The bound subtracts the most it can add: a valid bound at any value.
   */
  readonly tieBreak?: number;
  /** How the LP's fractional nodes become whole when the aggregated MIP is not solved: per group (default) or every fractional pool up. */
  readonly rounding?: 'group' | 'pool';
  /**
   * Re-split each step's placement by the step's LP over the pools the greedy
   * placement chose (stepPolish.ts), then make it whole again; kept per step
   * where cheaper (default true; not after the aggregated MIP).
   */
  readonly polish?: boolean;
  /**
   * Pools the re-split offers each workload: `given` (default) those the
   * greedy placement gave it and those it ran in the step before; `touched`
   * also every other pool in the step's LP, added by pricing (a cheaper plan
   * for about three times the re-split's time, see docs/allocation.md).
   */
  readonly resplitPools?: 'given' | 'touched';
  /**
   * One aggregated LP per window of at most this many steps (0: one LP
   * however long; default: one LP up to 96 steps, windows of 24 beyond). The
   * LP's time grows faster than its steps (1,000 benchmark workloads: 24
   * steps 3.6 s, 72 steps 21 s, 168 steps 96 s); the windows' bound is the
   * sum of theirs (see `windowContext`).
   */
  readonly lpWindowSteps?: number;
  /**
   * Worker threads for the windows' LPs, solved at once (default: one per
   * window up to the machine's available parallelism; 1 = one after another
   * in this thread, as one LP always is).
   */
  readonly lpWorkers?: number;
}

export interface Decomposed {
  readonly plan: HorizonPlan;
  readonly lowerBound: number;
  /**
   * Per step and workload index: what one more instance costs in the
   * aggregated LP (its class's demand-row duals times the instance's CPU,
   * memory and network), over one step; NaN where the class has no demand
   * at that step. A local price of the relaxation, like any LP dual.
   */
  readonly marginalCostPerInstance: readonly Float64Array[];
  readonly aggregate: {
    readonly classes: number;
    readonly groups: number;
    /** Windows of the aggregated LP (see `lpWindowSteps`); variables, rows and cuts are summed over them. */
    readonly windows: number;
    readonly variables: number;
    /** Constraints, size cuts included. */
    readonly rows: number;
    /** Size cuts the LP's optimum violated, added lazily (the rest hold without being in the LP). */
    readonly sizeCutsAdded: number;
    /** Seconds in the aggregated LP (and MIP when run); windows solved at once count once (wall-clock time). */
    readonly solveSeconds: number;
    /**
     * Dual simplex iterations of the aggregated LP (every window and lazy
     * round): the LP's work, which unlike its seconds does not move with the
     * machine's speed.
     */
    readonly lpIterations: number;
    /** Seconds in the per-step re-split LPs (building and solving), their simplex iterations, and the steps where the re-split was kept. */
    readonly polishSeconds: number;
    readonly polishIterations: number;
    readonly polishedSteps: number;
    /** Seconds for the whole decomposition (building, solving, disaggregating). */
    readonly seconds: number;
    readonly status: string;
  };
}

/** At most this many final traffic-alignment sweeps over the steps (repeated while a sweep moves an instance). */
const MAX_ALIGN_SWEEPS = 5;

interface SolvedWindow extends AggregateModel {
  /** The window's first step in the horizon. */
  readonly from: number;
  readonly relaxed: SolveResult;
}

export async function solveDecomposed(ctx: HorizonContext, options: DecomposeOptions = {}): Promise<Decomposed | undefined> {
  const started = performance.now();
  const { groups, groupOf } = poolGroups(ctx);
  const classes = workloadClasses(ctx, groupOf, options.binsPerOctave ?? 2);
  const T = ctx.steps;
  // Weight of the group-move bound against the start bound (see `groupMoves`).
  const moveWeight = ctx.migrationPerInstance > 0 ? Math.min(1, Math.max(0, options.moveWeight ?? 0)) : 0;
  // Tie-break: a small, seeded price per vCPU of class k in group g, the same
  // at every step. The LP's flows are degenerate (many class-to-group splits
  // cost the same); with these prices it picks the same split at every step
  // where demand allows, so the disaggregation keeps instances where they
  // are. The bound subtracts the most these prices can add (below).
  const tieBreak = options.tieBreak ?? 1e-5;
  const rand = lcg(1);
  const preference = classes.map(() => groups.map(() => tieBreak * (0.5 + 0.5 * rand())));
  // Long horizons: one LP per window of steps, each a relaxation of its part (see `windowContext`).
  const windows = lpWindows(T, options.lpWindowSteps ?? (T > WINDOWED_AFTER_STEPS ? DEFAULT_LP_WINDOW_STEPS : 0));
  const timeLimit = options.aggregateTimeLimitSeconds ?? 600;
  const aggregates = windows.map(([from, to]) => buildAggregate(windows.length === 1 ? ctx : windowContext(ctx, from, to), classes, groups, groupOf, preference, moveWeight, from > 0));
  // The windows' LPs are independent: solved at once on every core.
  const lpStarted = performance.now();
  const seconds = Math.max(1, timeLimit - (lpStarted - started) / 1000);
  const lpWorkers = options.lpWorkers ?? Math.min(windows.length, availableParallelism());
  const solved = await solveModels(
    aggregates.map((a) => ({ model: a.model, options: { via: 'arrays', relax: true, timeLimitSeconds: seconds, highsOptions: options.lpOptions, lazy: a.sizeCuts } })),
    lpWorkers,
  );
  const lpSeconds = (performance.now() - lpStarted) / 1000;
  const parts: SolvedWindow[] = [];
  for (const [i, relaxed] of solved.entries()) {
    if (relaxed.status === 'infeasible') return undefined;
    if (relaxed.status !== 'optimal') throw new Error(`aggregated LP failed: ${relaxed.statusText}`);
    parts.push({ ...aggregates[i], from: windows[i][0], relaxed });
  }
  // The aggregated MIP (integer nodes, open/closed pools) tightens the bound and
  // gives integral node counts, but only pays off while it is small; larger
  // models (and windowed ones) go from the LP straight to disaggregation,
  // which builds integral nodes from the LP's floor upwards.
  const whole = parts.length === 1 ? parts[0] : undefined;
  const useMip = whole !== undefined && (options.aggregateMip ?? whole.model.variables.length <= (options.aggregateMipMaxVariables ?? 15_000));
  const remaining = Math.max(0.5, Math.min(options.aggregateMipSeconds ?? 5, timeLimit - (performance.now() - started) / 1000));
  const mip = whole && useMip ? await solveModel({ variables: whole.model.variables, constraints: [...whole.model.constraints, ...whole.sizeCuts] }, { via: 'arrays', timeLimitSeconds: remaining, mipRelGap: options.aggregateGap ?? 0.003 }) : undefined;
  if (mip?.status === 'infeasible') return undefined;
  const mipFinished = mip !== undefined && (mip.status === 'optimal' || mip.status === 'timeLimit');
  const mipSolved = mipFinished && whole !== undefined && mip.objective <= 1.5 * whole.relaxed.objective + 1;
  // Windows: the sum of their optima (each less its tie-break's most).
  const lpBound = parts.reduce((sum, w) => sum + w.relaxed.objective - w.tieBreakMax, 0);
  const mipBound = mipFinished && whole ? mip.lowerBound - whole.tieBreakMax : -Infinity;
  const lowerBound = Math.max(lpBound, mipBound) + (1 - moveWeight) * unavoidableStarts(ctx) * ctx.migrationPerInstance;
  const valuesOf = (w: SolvedWindow) => (mipSolved && mip ? mip.values : w.relaxed.values);
  /** Step t's window, its step within the window, and the values it was solved to. */
  const windowOf = Int32Array.from({ length: T }, (_, t) => parts.reduce((found, w, i) => (w.from <= t ? i : found), 0));
  const at = (t: number) => {
    const w = parts[windowOf[t]];
    return { w, local: t - w.from, values: valuesOf(w) };
  };
  const reservedOf = parts.map((w) => Int32Array.from(w.nodes.reservedVar, (v) => (v < 0 ? 0 : Math.max(0, Math.round(valuesOf(w)[v])))));
  // From the MIP: its integral counts. From the LP: round up where the
  // provider quota and budget allow (largest fractions first), down elsewhere;
  // disaggregation then adds nodes where placements still need them.
  const nodeCounts = Array.from({ length: T }, (_, t) => {
    const { w, local, values } = at(t);
    const lp = Float64Array.from(w.nodes.nodeVar[local], (v) => values[v]);
    const n = Int32Array.from(lp, (x, p) => Math.min(ctx.avail[t][p], Math.max(0, mipSolved ? Math.round(x) : Math.floor(x + 1e-6))));
    const reserved = reservedOf[windowOf[t]];
    if (!mipSolved && (options.rounding ?? 'group') === 'group') {
      // Per group: cover the CPU and memory the LP's fractional node parts
      // give the group with whole nodes instead of rounding every fractional
      // pool up (up to one idle node per pool).
      n.set(roundGroups(ctx, t, groups, lp, reserved));
    } else if (!mipSolved) {
      const order = ctx.pools.map((_, p) => p).filter((p) => lp[p] - n[p] > 1e-6).sort((a, b) => lp[b] - n[b] - (lp[a] - n[a]) || a - b);
      for (const p of order) if (n[p] < ctx.avail[t][p] && quotaAllows(ctx, t, n, p) && budgetAllows(ctx, t, n, p, reserved)) n[p]++;
    }
    return n;
  });
  const openAgg = Array.from({ length: T }, (_, t) => {
    const { w, local, values } = at(t);
    return ctx.pools.map((_, p) => (w.nodes.openVar[local][p] < 0 ? true : values[w.nodes.openVar[local][p]] > 0.5));
  });
  const reserved = parts.length === 1 ? reservedOf[0] : windowReservations(ctx, groups, reservedOf, nodeCounts);
  const share = (t: number, k: number): { group: number; cpu: number; ratio: number }[] => {
    const { w, local, values } = at(t);
    return classes[k].groups
      .map((g, gi) => {
        let cpu = 0;
        let mem = 0;
        w.flow[local][k][gi]?.forEach((f, j) => {
          cpu += values[f];
          mem += values[f] * classes[k].rays[j][0];
        });
        return { group: g, cpu, ratio: cpu > 0 ? mem / cpu : 0 };
      })
      .filter((x) => x.cpu > 1e-6)
      .sort((a, b) => a.ratio - b.ratio);
  };
  const stats = { polishSeconds: 0, polishIterations: 0, polishedSteps: 0 };
  // After the aggregated MIP the greedy placement starts from its whole nodes, which re-splitting by a step LP and rounding again tends to lose.
  const plan = await disaggregate(ctx, groups, classes, share, nodeCounts, openAgg, reserved, (options.polish ?? true) && !mipSolved ? (options.resplitPools ?? 'given') : undefined, stats);
  const sum = (f: (w: SolvedWindow) => number) => parts.reduce((total, w) => total + f(w), 0);
  const lpStatus = `LP ${parts[0].relaxed.statusText}${parts.length > 1 ? ` (${parts.length} windows)` : ''}`;
  return {
    plan,
    lowerBound,
    marginalCostPerInstance: parts.flatMap((w) => marginalPrices(ctx, classes, w.demandRows, w.relaxed.rowDuals)),
    aggregate: {
      classes: classes.length,
      groups: groups.length,
      windows: parts.length,
      variables: sum((w) => w.model.variables.length),
      rows: sum((w) => w.model.constraints.length + w.sizeCuts.length),
      sizeCutsAdded: sum((w) => w.relaxed.lazyAdded ?? 0),
      solveSeconds: lpSeconds + (mip?.seconds ?? 0),
      lpIterations: sum((w) => w.relaxed.iterations ?? 0),
      polishSeconds: stats.polishSeconds,
      polishIterations: stats.polishIterations,
      polishedSteps: stats.polishedSteps,
      seconds: (performance.now() - started) / 1000,
      status: mip ? `MIP ${mip.statusText}` : lpStatus,
    },
  };
}

/**
 * Whole nodes from fractional ones: floors, then per pool group the cheapest
 * node (among the pools with a fractional part) that covers the CPU and
 * memory the fractional parts leave (reserved nodes free; the largest node
 * when none covers), within pool, provider quota and budget limits.
 */
function roundGroups(ctx: HorizonContext, t: number, groups: readonly PoolGroup[], lp: Float64Array, reserved: Int32Array): Int32Array {
  const n = Int32Array.from(lp, (x, p) => Math.min(ctx.avail[t][p], Math.max(0, Math.floor(x + 1e-6))));
  for (const g of groups) {
    // Grown only where the LP has a fractional node: the pools it chose.
    const partial = g.pools.filter((p) => lp[p] - n[p] > 1e-6);
    let cpu = 0;
    let mem = 0;
    for (const p of partial) {
      cpu += (lp[p] - n[p]) * ctx.pools[p].nodeType.capacity.cpuMillicores;
      mem += (lp[p] - n[p]) * ctx.pools[p].nodeType.capacity.memoryMiB;
    }
    while (cpu > 1e-3 || mem > 1e-3) {
      const growable = partial.filter((p) => n[p] < ctx.avail[t][p] && quotaAllows(ctx, t, n, p) && budgetAllows(ctx, t, n, p, reserved));
      if (growable.length === 0) break;
      const price = (p: number) => (n[p] < reserved[p] ? 0 : ctx.pools[p].costPerHour);
      const covers = growable.filter((p) => ctx.pools[p].nodeType.capacity.cpuMillicores >= cpu - 1e-3 && ctx.pools[p].nodeType.capacity.memoryMiB >= mem - 1e-3);
      const pick = covers.length
        ? covers.reduce((a, b) => (price(b) < price(a) - 1e-12 ? b : a))
        : growable.reduce((a, b) => (ctx.pools[b].nodeType.capacity.cpuMillicores > ctx.pools[a].nodeType.capacity.cpuMillicores ? b : a));
      n[pick]++;
      cpu -= ctx.pools[pick].nodeType.capacity.cpuMillicores;
      mem -= ctx.pools[pick].nodeType.capacity.memoryMiB;
    }
  }
  return n;
}

/** Per-step placement of members into pools, repair, trimming and reservation choice. */
async function disaggregate(
  ctx: HorizonContext,
  groups: readonly PoolGroup[],
  classes: readonly WorkloadClass[],
  share: (t: number, k: number) => { group: number; cpu: number; ratio: number }[],
  nodeCounts: Int32Array[],
  openAgg: boolean[][],
  reservedAgg: Int32Array,
  polish: 'given' | 'touched' | undefined,
  stats: { polishSeconds: number; polishIterations: number; polishedSteps: number },
): Promise<HorizonPlan> {
  const { pools, workloads, steps: T } = ctx;
  const contention = contentionPossible(ctx);
  const placement: Map<number, number>[][] = [];
  // Traffic partners: the second of a pair follows the first into its zones.
  const partners: number[][] = workloads.map(() => []);
  const partnerVolume: Map<number, number>[] = workloads.map(() => new Map());
  /** Zones (provider/zone) where each workload has an eligible pool. */
  const zonesOf = ctx.eligible.map((list) => new Set(list.map((p) => ctx.zoneKey[p])));
  for (const e of ctx.traffic) {
    if (e.gibPerHour <= 0 || e.a === e.b) continue;
    partners[e.a].push(e.b);
    partners[e.b].push(e.a);
    partnerVolume[e.a].set(e.b, (partnerVolume[e.a].get(e.b) ?? 0) + e.gibPerHour);
    partnerVolume[e.b].set(e.a, (partnerVolume[e.b].get(e.a) ?? 0) + e.gibPerHour);
  }
  const priceOf = (wi: number, p: number) => pools[p].costPerHour * nodeShare(pools[p], workloads[wi].perInstance);
  /** w's eligible pools, cheapest share of a node first. */
  const byPrice = (wi: number) => [...ctx.eligible[wi]].sort((a, b) => priceOf(wi, a) - priceOf(wi, b) || a - b);
  /** Instances each workload must have at step t: its guaranteed minimum and its spread target. */
  const floorAt = (t: number) => (wi: number) => Math.max(ctx.guaranteed[t][wi], ctx.spreadTarget[t][wi]);
  /** Higher effective priority first (contention), then largest instances first (packing). */
  const orderAt = (t: number) => (a: number, b: number) => ctx.priority[t][b] - ctx.priority[t][a] || workloads[b].perInstance.cpuMillicores - workloads[a].perInstance.cpuMillicores || a - b;
  /**
   * Hard minimums under contention: while w has fewer instances than its
   * guaranteed minimum, or losing its largest failure domain would leave
   * fewer than its spread target, one more instance goes outside that domain
   * (moving one out of it when all w needs is placed): into room, onto a new
   * node where quota and budget allow, or into room made by evicting
   * instances of other workloads above their own minimums (minimums go before
   * priorities). What still fails is reported by checkPlan.
   */
  const holdMinimums = (step: StepPlacement, wi: number) => {
    const t = step.t;
    const key = workloads[wi].spread?.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
    const target = ctx.spreadTarget[t][wi];
    for (let guard = 0; guard < 4 * ctx.req[t][wi] + 4; guard++) {
      const { placed, surviving, largest } = survivors(ctx, wi, step.rows[wi]);
      const spreadShort = target > 0 && surviving < target;
      if (placed >= ctx.guaranteed[t][wi] && !spreadShort) return;
      const among = byPrice(wi).filter((q) => ctx.avail[t][q] > 0 && !(spreadShort && key[q] === largest));
      const moved = spreadShort && placed >= ctx.req[t][wi] ? [...step.rows[wi]].find(([p]) => key[p] === largest)?.[0] : undefined;
      if (moved !== undefined) step.put(wi, moved, -1);
      if (step.placeInto(wi, among, 1) === 0 || step.grow(wi, 1, among) === 0) continue;
      const p = among.find((q) => step.nodes[q] > 0 && step.domainCap(wi, q) > 0 && step.evictFor(wi, q, floorAt(t), true));
      if (p !== undefined) {
        step.put(wi, p, 1);
        continue;
      }
      if (moved !== undefined) step.put(wi, moved, 1);
      return;
    }
  };
  /**
   * A step's re-split made whole: nodes floored, each group's fractional
   * remainder covered by its cheapest covering nodes; the LP's whole
   * instances go back where it put them as far as they fit, the rest (its
   * fractional parts and what no longer fits) is placed as in the spill and
   * repair of the greedy placement.
   */
  const makeWhole = (step: StepPlacement, polished: PolishResult, reserved: Int32Array) => {
    step.clear();
    step.nodes.set(roundGroups(ctx, step.t, groups, polished.nodes, reserved));
    const rest: [number, number[], number][] = [];
    polished.amounts.forEach((m, wi) => {
      let left = 0;
      const partial: [number, number][] = [];
      for (const [p, v] of m) {
        let k = Math.floor(v + 1e-6);
        while (k > 0 && !step.fits(wi, p, k)) k--;
        if (k > 0) step.put(wi, p, k);
        left += v - k;
        if (v - k > 1e-6) partial.push([p, v - k]);
      }
      const count = Math.round(left);
      if (count > 0) rest.push([wi, partial.sort((a, b) => b[1] - a[1] || a[0] - b[0]).map(([p]) => p), count]);
    });
    const order = orderAt(step.t);
    rest.sort((a, b) => order(a[0], b[0]));
    for (const [wi, preferred, count] of rest) step.grow(wi, step.placeInto(wi, byPrice(wi), step.placeInto(wi, preferred, count)));
  };
  for (let t = 0; t < T; t++) {
    const n = nodeCounts[t];
    // Intended split: member → group → instances.
    const chunks: { w: number; group: number; count: number }[] = [];
    classes.forEach((k, ki) => {
      const members = k.members.filter((wi) => ctx.req[t][wi] > 0);
      if (members.length === 0) return;
      const parts = share(t, ki);
      const sorted = [...members].sort((a, b) => {
        const ra = workloads[a].perInstance.memoryMiB / workloads[a].perInstance.cpuMillicores;
        const rb = workloads[b].perInstance.memoryMiB / workloads[b].perInstance.cpuMillicores;
        return ra - rb || a - b;
      });
      const budget = parts.map((x) => x.cpu);
      let g = 0;
      let left = budget[0] ?? 0;
      for (const wi of sorted) {
        const cpu = workloads[wi].perInstance.cpuMillicores / CPU_UNIT;
        let rest = ctx.req[t][wi];
        while (rest > 0) {
          if (g >= parts.length) {
            chunks.push({ w: wi, group: -1, count: rest });
            break;
          }
          const room = Math.round(left / cpu);
          if (room <= 0 && g < parts.length - 1) {
            g++;
            left = budget[g];
            continue;
          }
          const take = g === parts.length - 1 ? rest : Math.min(rest, room);
          chunks.push({ w: wi, group: parts[g].group, count: take });
          rest -= take;
          left -= take * cpu;
        }
      }
    });
    const order = orderAt(t);
    const floor = floorAt(t);
    chunks.sort((a, b) => order(a.w, b.w));
    if (contention) {
      // Under contention every workload's minimum goes before anything above any minimum, so nodes, quotas and budget go to minimums first.
      const owed = Float64Array.from(workloads, (_, wi) => floor(wi));
      const first: typeof chunks = [];
      const then: typeof chunks = [];
      for (const c of chunks) {
        const k = Math.min(c.count, owed[c.w]);
        owed[c.w] -= k;
        if (k > 0) first.push({ ...c, count: k });
        if (c.count > k) then.push({ ...c, count: c.count - k });
      }
      chunks.splice(0, chunks.length, ...first, ...then);
    }
    const previous = t > 0 ? placement[t - 1] : undefined;
    const step = new StepPlacement(ctx, t, n, previous, reservedAgg);
    const unplaced = new Map<number, number>();
    /** Eligible pools in the zones a traffic partner already uses, cheapest first. */
    const nearPartners = (wi: number): number[] => {
      if (partners[wi].length === 0) return [];
      const zones = new Set<string>();
      for (const q of partners[wi]) for (const p of step.rows[q].keys()) zones.add(ctx.zoneKey[p]);
      return ctx.eligible[wi].filter((p) => zones.has(ctx.zoneKey[p])).sort((a, b) => priceOf(wi, a) - priceOf(wi, b));
    };
    /** Zone shares of w's heaviest-traffic partner already placed at this step, largest first. */
    const partnerShares = (wi: number): [string, number][] | undefined => {
      let best = -1;
      let volume = -1;
      for (const [q, v] of partnerVolume[wi]) if (step.rows[q].size > 0 && v > volume) (best = q), (volume = v);
      if (best < 0) return undefined;
      const byZone = new Map<string, number>();
      let total = 0;
      for (const [p, x] of step.rows[best]) byZone.set(ctx.zoneKey[p], (byZone.get(ctx.zoneKey[p]) ?? 0) + x), (total += x);
      return [...byZone].map(([z, x]): [string, number] => [z, x / total]).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    };
    /**
     * When no partner is placed yet: w's eligible pools in zones every partner
     * may also use (cheapest first), so a partner restricted by tags can follow
     * instead of paying cross-provider traffic; empty when that restricts nothing.
     */
    const sharedZones = (wi: number): number[] => {
      if (partners[wi].length === 0 || partners[wi].some((q) => step.rows[q].size > 0)) return [];
      const shared = ctx.eligible[wi].filter((p) => partners[wi].every((q) => zonesOf[q].has(ctx.zoneKey[p])));
      return shared.length > 0 && shared.length < ctx.eligible[wi].length ? shared.sort((a, b) => priceOf(wi, a) - priceOf(wi, b)) : [];
    };
    for (const c of chunks) {
      const shared = sharedZones(c.w);
      const near = shared.length ? shared : nearPartners(c.w);
      let left = c.count;
      const shares = partnerShares(c.w);
      if (shares) {
        // Mirror the partner's spread over zones: the crossing share is
        // ½ Σ_zone |share_a − share_b|, zero when both spread alike.
        for (const [zone, f] of shares) {
          if (left === 0) break;
          let inZone = 0;
          for (const [p, x] of step.rows[c.w]) if (ctx.zoneKey[p] === zone) inZone += x;
          const want = Math.min(left, Math.max(0, Math.round(f * ctx.req[t][c.w]) - inZone));
          if (want === 0) continue;
          const inZonePools = ctx.eligible[c.w].filter((p) => ctx.zoneKey[p] === zone).sort((a, b) => priceOf(c.w, a) - priceOf(c.w, b));
          left -= want - step.grow(c.w, step.placeInto(c.w, inZonePools, want), inZonePools);
        }
      }
      // Crossing zones or providers costs traffic on every request; growing a
      // node next to the partner is usually cheaper than splitting from it.
      if (near.length) left = step.grow(c.w, step.placeInto(c.w, near, left), near);
      left = step.placeBalanced(c.w, c.group >= 0 ? groups[c.group].pools : ctx.eligible[c.w], left);
      if (left > 0) unplaced.set(c.w, (unplaced.get(c.w) ?? 0) + left);
    }
    // Spill into the eligible pools with room (room already paid for costs nothing more), then repair by adding
    // nodes; under contention, into room taken from lower priorities above their minimums.
    for (const [wi, count] of [...unplaced].sort((a, b) => order(a[0], b[0]))) {
      let left = step.grow(wi, step.placeInto(wi, byPrice(wi), count));
      while (left > 0) {
        const p = byPrice(wi).find((q) => ctx.avail[t][q] > 0 && n[q] > 0 && step.domainCap(wi, q) > 0 && step.evictFor(wi, q, floor));
        if (p === undefined) break;
        step.put(wi, p, 1);
        left--;
      }
      if (left > 0) holdMinimums(step, wi);
    }
    const previousNodes = t > 0 ? trimNodes(ctx, t - 1, nodeCounts[t - 1], placement[t - 1], openAgg[t - 1]) : ctx.initialNodes;
    const polished = polish ? await polishStep({ ctx, t, rows: step.rows, previous, reserved: reservedAgg, open: openAgg[t], previousNodes, pricing: polish === 'touched' }) : undefined;
    if (polished) {
      stats.polishSeconds += polished.seconds;
      stats.polishIterations += polished.iterations;
      const greedy = step.snapshot();
      makeWhole(step, polished, reservedAgg);
      // Kept only if it keeps every guarantee and spread and is cheaper at this step than the greedy placement.
      if (!step.rows.every((row, wi) => minimumsHold(ctx, t, wi, row)) || stepCost(ctx, t, step.rows, previous, previousNodes, reservedAgg, openAgg[t]) > stepCost(ctx, t, greedy.rows, previous, previousNodes, reservedAgg, openAgg[t]) - 1e-9) step.restore(greedy);
      else stats.polishedSteps++;
    }
    placement.push(step.rows);
  }
  // Trim nodes to what placements need; keep pools' minimums and lifecycle.
  const nodesOut = nodeCounts.map((n, t) => trimNodes(ctx, t, n, placement[t], openAgg[t]));
  const partnersOf: number[][] = workloads.map(() => []);
  for (const e of ctx.traffic) if (e.gibPerHour > 0 && e.a !== e.b) partnersOf[e.a].push(e.b), partnersOf[e.b].push(e.a);
  for (let t = 0; t < T; t++) consolidate(ctx, t, nodesOut[t], placement[t], t > 0 ? placement[t - 1] : undefined, partnersOf, openAgg[t]);
  for (let t = 0; t < T; t++) {
    const step = { nodes: nodesOut[t], rows: placement[t], reserved: reservedAgg, previous: t > 0 ? placement[t - 1] : undefined, next: t + 1 < T ? placement[t + 1] : undefined };
    const moved = (ctx.traffic.length > 0 ? alignTraffic(ctx, t, step).moves : 0) + keepInPlace(ctx, t, step);
    if (moved > 0) nodesOut[t] = trimNodes(ctx, t, nodesOut[t], placement[t], openAgg[t]);
  }
  const open = nodesOut.map((n, t) => pools.map((_, p) => !ctx.lifecycle[p] || n[p] > 0 || openAgg[t][p]));
  const reserved = chooseReserved(ctx, { nodes: nodesOut, open, reserved: reservedAgg, placement });
  if (ctx.traffic.length > 0) {
    // Alignment once more with the reservations chosen: a node inside a new
    // reservation is free to grow into. A move at one step changes the starts
    // its neighbours count, so sweeps repeat until none moves anything.
    for (let sweep = 0, moved = 1; sweep < MAX_ALIGN_SWEEPS && moved > 0; sweep++) {
      moved = 0;
      for (let t = 0; t < T; t++) {
        const step = { nodes: nodesOut[t], rows: placement[t], reserved, previous: t > 0 ? placement[t - 1] : undefined, next: t + 1 < T ? placement[t + 1] : undefined };
        const moves = alignTraffic(ctx, t, step).moves;
        if (moves > 0) nodesOut[t] = trimNodes(ctx, t, nodesOut[t], placement[t], openAgg[t]);
        moved += moves;
      }
    }
  }
  return { nodes: nodesOut, open: nodesOut.map((n, t) => pools.map((_, p) => !ctx.lifecycle[p] || n[p] > 0 || openAgg[t][p])), reserved, placement };
}

/**
 * What a step's placement costs on its own: the nodes it needs (reserved
 * nodes free), their churn, the instances it starts against the step before
 * and the shortfall penalty of what it leaves out.
 */
function stepCost(
  ctx: HorizonContext,
  t: number,
  rows: readonly ReadonlyMap<number, number>[],
  previous: readonly ReadonlyMap<number, number>[] | undefined,
  previousNodes: ArrayLike<number>,
  reserved: Int32Array,
  open: readonly boolean[],
): number {
  const need = trimNodes(ctx, t, ctx.avail[t], rows, open);
  let cost = 0;
  ctx.pools.forEach((p, i) => (cost += p.costPerHour * ctx.stepHours * Math.max(0, need[i] - reserved[i]) + ctx.churnPerNode * Math.abs(need[i] - previousNodes[i])));
  rows.forEach((row, wi) => {
    cost += ctx.penalty[t][wi] * Math.max(0, ctx.req[t][wi] - placedCount(row));
    for (const [p, x] of row) cost += ctx.migrationPerInstance * Math.max(0, x - ranBefore(ctx, t, previous, wi, p));
  });
  return cost;
}

/** Nodes per pool cut to what the placements need (capacity and per-node packing), keeping pools' minimums and open pools. */
function trimNodes(ctx: HorizonContext, t: number, n: Int32Array, rows: readonly ReadonlyMap<number, number>[], openAgg: readonly boolean[]): Int32Array {
  const { pools, workloads } = ctx;
  const need = new Float64Array(pools.length);
  const cpu = new Float64Array(pools.length);
  const mem = new Float64Array(pools.length);
  const net = new Float64Array(pools.length);
  workloads.forEach((w, wi) => {
    for (const [p, x] of rows[wi]) {
      cpu[p] += x * w.perInstance.cpuMillicores;
      mem[p] += x * w.perInstance.memoryMiB;
      net[p] += x * networkOf(pools[p], w.perInstance);
      need[p] = Math.max(need[p], Math.ceil(x / perNode(pools[p], w.perInstance)));
    }
  });
  return Int32Array.from(n, (count, p) => {
    const c = pools[p].nodeType.capacity;
    const needed = Math.max(need[p], Math.ceil(cpu[p] / c.cpuMillicores - 1e-9), Math.ceil(mem[p] / c.memoryMiB - 1e-9), c.networkMbps ? Math.ceil(net[p] / c.networkMbps - 1e-9) : 0);
    const open = !ctx.lifecycle[p] || openAgg[p] || needed > 0;
    const floor = open ? Math.min(ctx.minNodes[p], ctx.avail[t][p]) : 0;
    // An open pool never drops below its floor, even when the aggregate's count did.
    return Math.max(floor, Math.min(count, needed));
  });
}

/**
 * Consolidation at one step: for each pool, dearest node first, try to empty
 * one node by moving the instances that would no longer fit into spare room of
 * other eligible pools (same zone for workloads with traffic partners; zone
 * spread kept); commit only if the node's price exceeds the migrations it adds.
 */
function consolidate(
  ctx: HorizonContext,
  t: number,
  n: Int32Array,
  rows: Map<number, number>[],
  previous: readonly ReadonlyMap<number, number>[] | undefined,
  partnersOf: readonly number[][],
  openAgg: readonly boolean[],
): void {
  const { pools, workloads } = ctx;
  const P = pools.length;
  const used = poolUse(ctx, rows);
  const residents: number[][] = Array.from({ length: P }, () => []);
  workloads.forEach((_, wi) => {
    for (const p of rows[wi].keys()) residents[p].push(wi);
  });
  const cap = (p: number, nodes: number) => {
    const c = pools[p].nodeType.capacity;
    return [nodes * c.cpuMillicores, nodes * c.memoryMiB, c.networkMbps === undefined ? Infinity : nodes * c.networkMbps];
  };
  const fitsAt = (wi: number, q: number, nodes: number) => fitsPool(ctx, wi, q, 1, nodes, used[q], rows[wi].get(q) ?? 0);
  const move = (wi: number, from: number, to: number, k: number) => moveInstances(ctx, rows, used, wi, from, to, k);
  const spreadOk = (wi: number, to: number) => spreadAllowsOneMore(ctx, t, wi, rows[wi], to);
  const order = pools.map((_, p) => p).sort((a, b) => pools[b].costPerHour - pools[a].costPerHour || a - b);
  for (const p of order) {
    // A pool with nodes is open: consolidation may shrink it to its floor, not close it (closing is a lifecycle decision).
    const floor = !ctx.lifecycle[p] || openAgg[p] || n[p] > 0 ? Math.min(ctx.minNodes[p], ctx.avail[t][p]) : 0;
    while (n[p] > floor) {
      const target = cap(p, n[p] - 1);
      const moves: [number, number][] = [];
      let migrations = 0;
      const over = () =>
        used[p][0] > target[0] || used[p][1] > target[1] || used[p][2] > target[2] || residents[p].some((wi) => (rows[wi].get(p) ?? 0) > perNode(pools[p], workloads[wi].perInstance) * (n[p] - 1));
      const candidates = [...residents[p]].filter((wi) => rows[wi].has(p)).sort((a, b) => workloads[b].perInstance.cpuMillicores - workloads[a].perInstance.cpuMillicores);
      for (const wi of candidates) {
        if (!over()) break;
        const zones = partnersOf[wi].length ? new Set([ctx.zoneKey[p]]) : undefined;
        while ((rows[wi].get(p) ?? 0) > 0 && over()) {
          const to = ctx.eligible[wi].find((q) => q !== p && n[q] > 0 && (!zones || zones.has(ctx.zoneKey[q])) && fitsAt(wi, q, n[q]) && spreadOk(wi, q));
          if (to === undefined) break;
          move(wi, p, to, 1);
          moves.push([wi, to]);
          if (!residents[to].includes(wi)) residents[to].push(wi);
          if ((previous?.[wi].get(to) ?? 0) < (rows[wi].get(to) ?? 0)) migrations++;
        }
      }
      const saving = pools[p].costPerHour * ctx.stepHours;
      if (over() || migrations * ctx.migrationPerInstance >= saving) {
        for (let i = moves.length - 1; i >= 0; i--) move(moves[i][0], moves[i][1], p, 1);
        break;
      }
      n[p]--;
    }
  }
}

/**
 * Best reservation per pool for fixed node counts: the cost
 * R·h·T·r + c·h·Σ_t max(0, n_t − r) is convex piecewise linear in r with
 * breakpoints at the n_t, so the best r is one of them (or 0). A candidate is
 * kept only if every step stays within budget.
 */
export function chooseReserved(ctx: HorizonContext, plan: HorizonPlan): Int32Array {
  const out = Int32Array.from(plan.reserved);
  ctx.pools.forEach((p, i) => {
    if (p.reservedCostPerHour === undefined) {
      out[i] = 0;
      return;
    }
    const candidates = [...new Set([0, ...plan.nodes.map((n) => n[i])])];
    let best = out[i];
    let bestCost = Infinity;
    for (const r of candidates) {
      out[i] = r;
      const cost = evaluatePlanReservedOnly(ctx, plan, i, r);
      if (cost < bestCost - 1e-9 && withinBudget(ctx, plan, out)) {
        bestCost = cost;
        best = r;
      }
    }
    out[i] = best;
  });
  return out;
}

function evaluatePlanReservedOnly(ctx: HorizonContext, plan: HorizonPlan, p: number, r: number): number {
  const pool = ctx.pools[p];
  let cost = (pool.reservedCostPerHour ?? 0) * r * ctx.stepHours * ctx.steps;
  for (let t = 0; t < ctx.steps; t++) cost += pool.costPerHour * Math.max(0, plan.nodes[t][p] - r) * ctx.stepHours;
  return cost;
}

function withinBudget(ctx: HorizonContext, plan: HorizonPlan, reserved: Int32Array): boolean {
  if (!ctx.budget) return true;
  for (let t = 0; t < ctx.steps; t++) {
    let spend = 0;
    ctx.pools.forEach((p, i) => {
      spend += (p.costPerHour * Math.max(0, plan.nodes[t][i] - reserved[i]) + (p.reservedCostPerHour ?? 0) * reserved[i]) * ctx.stepHours;
    });
    if (spend > ctx.budget[t] + 1e-6) return false;
  }
  return true;
}

