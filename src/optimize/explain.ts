/**
 * Why each workload got what it got, in user terms.
 *
 * - Where: for the workload's peak step, each pool it uses and why: the
 *   cheapest eligible price per instance (node price × the instance's share of
 *   a node), or why the cheaper pools were not used (missing tag, node too
 *   small, quota or maintenance limit, provider quota, spread over domains).
 * - Binding constraints per step: budget exhausted, every eligible pool at its
 *   limit, guaranteed minimum holding under contention, priority rules active.
 * - Marginal cost of one more instance at each step: the dual of the
 *   workload's demand row in the LP with the plan's pool open/closed states
 *   and reservations fixed (nodes and placements continuous). It is the LP's
 *   price of one more unit, a local estimate: it says what one more instance
 *   costs at the margin (e.g. a share of a node, or the shortfall price when
 *   no capacity can be bought). Where that LP is too large (the
 *   decomposition's sizes), the price comes from the decomposition's
 *   aggregated LP instead: the duals of the workload's class demand rows
 *   times its CPU, memory and network, a coarser estimate of the same kind.
 */
import { type HorizonContext, type HorizonPlan, fits, offers, placedCount, placementSize, ranBefore } from './horizon.ts';
import { buildHorizonModel } from './horizonModel.ts';
import type { HorizonResult } from './optimizeHorizon.ts';
import { solveModel } from './solver.ts';
import { stepRanges } from './text.ts';

export interface PoolChoice {
  readonly pool: string;
  readonly instances: number;
  /** Price of one instance there per hour (node price × share of a node). */
  readonly costPerInstanceHour: number;
  readonly reason: string;
}

export interface WorkloadExplanation {
  readonly workload: string;
  readonly peakStep: number;
  readonly pools: readonly PoolChoice[];
  /** Cheaper pools not used at the peak step, and why. */
  readonly passedOver: readonly string[];
  readonly binding: readonly string[];
  /** Marginal cost of one more instance at each step (undefined when not computed; NaN at steps the aggregated LP has no demand for it). */
  readonly marginalCostPerInstance?: readonly number[];
  /** Which LP priced it: the plan's own model (states and reservations fixed), or the decomposition's aggregated model. */
  readonly marginalFrom?: 'plan LP' | 'aggregated LP';
  readonly shortfall: readonly number[];
  /** The explanation as sentences. */
  readonly text: readonly string[];
}

const money = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(4).replace(/0+$/, '').replace(/\.$/, ''));

function instanceShare(ctx: HorizonContext, w: number, p: number): number {
  const r = ctx.workloads[w].perInstance;
  const c = ctx.pools[p].nodeType.capacity;
  let share = Math.max(r.cpuMillicores / c.cpuMillicores, r.memoryMiB / c.memoryMiB);
  if (r.networkMbps && c.networkMbps) share = Math.max(share, r.networkMbps / c.networkMbps);
  return share;
}

/** Price of one instance of w in pool p per hour (reserved price when the pool has idle reserved nodes). */
function pricePerInstance(ctx: HorizonContext, w: number, p: number): number {
  const pool = ctx.pools[p];
  return instanceShare(ctx, w, p) * pool.costPerHour;
}

function spendAt(ctx: HorizonContext, plan: HorizonPlan, t: number): number {
  let spend = 0;
  ctx.pools.forEach((p, i) => {
    spend += (p.costPerHour * Math.max(0, plan.nodes[t][i] - plan.reserved[i]) + (p.reservedCostPerHour ?? 0) * plan.reserved[i]) * ctx.stepHours;
  });
  return spend;
}

/** Marginal costs from the LP with open/closed states and reservations fixed; undefined if too large. */
async function marginalCosts(ctx: HorizonContext, plan: HorizonPlan, maxVariables: number): Promise<number[][] | undefined> {
  if (placementSize(ctx) > maxVariables) return undefined;
  const model = buildHorizonModel(ctx, { fixOpen: plan.open, fixReserved: plan.reserved });
  const lp = await solveModel(model.model, { via: 'arrays', relax: true, timeLimitSeconds: 30 });
  if (lp.status !== 'optimal') return undefined;
  return Array.from({ length: ctx.steps }, (_, t) => Array.from(model.demandRow[t], (r) => (r < 0 ? 0 : lp.rowDuals[r])));
}

export interface ExplainOptions {
  /** Only these workloads (default: all). */
  readonly workloads?: readonly string[];
  /** Skip the LP for marginal costs above this many placement variables. */
  readonly maxLpVariables?: number;
}

export async function explainHorizon(result: HorizonResult, options: ExplainOptions = {}): Promise<WorkloadExplanation[]> {
  const ctx = result.context;
  const plan = result.plan;
  const { pools, workloads } = ctx;
  const exactMarginal = await marginalCosts(ctx, plan, options.maxLpVariables ?? 50_000);
  const marginal: readonly ArrayLike<number>[] | undefined = exactMarginal ?? result.aggregateMarginalCost;
  const marginalFrom = exactMarginal ? 'plan LP' : result.aggregateMarginalCost ? 'aggregated LP' : undefined;
  const wanted = options.workloads ? new Set(options.workloads) : undefined;
  const out: WorkloadExplanation[] = [];
  const providerOverQuota = (t: number, provider: string): boolean =>
    ctx.quotas.some((q) => {
      if (q.provider !== provider) return false;
      let nodes = 0;
      let cpu = 0;
      let mem = 0;
      pools.forEach((p, i) => {
        if (p.provider !== provider) return;
        nodes += plan.nodes[t][i];
        cpu += plan.nodes[t][i] * p.nodeType.capacity.cpuMillicores;
        mem += plan.nodes[t][i] * p.nodeType.capacity.memoryMiB;
      });
      const minCpu = Math.min(...pools.filter((p) => p.provider === provider).map((p) => p.nodeType.capacity.cpuMillicores));
      const minMem = Math.min(...pools.filter((p) => p.provider === provider).map((p) => p.nodeType.capacity.memoryMiB));
      return (q.maxNodes !== undefined && nodes + 1 > q.maxNodes) || (q.maxCpuMillicores !== undefined && cpu + minCpu > q.maxCpuMillicores) || (q.maxMemoryMiB !== undefined && mem + minMem > q.maxMemoryMiB);
    });

  workloads.forEach((w, wi) => {
    if (wanted && !wanted.has(w.name)) return;
    const T = ctx.steps;
    let peak = 0;
    for (let t = 1; t < T; t++) if (ctx.req[t][wi] > ctx.req[peak][wi]) peak = t;
    const row = plan.placement[peak][wi];
    const eligible = ctx.eligible[wi].filter((p) => ctx.avail[peak][p] > 0);
    const cheapest = Math.min(...eligible.map((p) => pricePerInstance(ctx, wi, p)));
    const choices: PoolChoice[] = [...row]
      .sort((a, b) => b[1] - a[1])
      .map(([p, n]) => {
        const price = pricePerInstance(ctx, wi, p);
        const reasons: string[] = [];
        if (price <= cheapest + 1e-12) reasons.push('cheapest eligible pool per instance');
        else reasons.push(`${money(price)}/h per instance against ${money(cheapest)}/h at the cheapest eligible pool`);
        if (plan.reserved[p] > 0) reasons.push(`${plan.reserved[p]} reserved nodes already paid for`);
        if (w.spread && ctx.spreadTarget[peak][wi] > 0) reasons.push(`spread: ${ctx.spreadTarget[peak][wi]} instances must survive the loss of any one ${w.spread.domain}`);
        const prev = ranBefore(ctx, peak, peak > 0 ? plan.placement[peak - 1] : undefined, wi, p);
        if (prev > 0 && ctx.migrationPerInstance > 0) reasons.push('already ran there (moving costs migrations)');
        return { pool: pools[p].name, instances: n, costPerInstanceHour: price, reason: reasons.join('; ') };
      });
    const usedPrice = Math.max(0, ...[...row.keys()].map((p) => pricePerInstance(ctx, wi, p)));
    const passedOver: string[] = [];
    const cheaper = pools.map((_, p) => p).filter((p) => !row.has(p) && pricePerInstance(ctx, wi, p) < usedPrice - 1e-12);
    for (const p of cheaper.sort((a, b) => pricePerInstance(ctx, wi, a) - pricePerInstance(ctx, wi, b)).slice(0, 5)) {
      const pool = pools[p];
      let why: string;
      if (!offers(pool, w.tags) && !ctx.dropped.has(`tags:${w.name}`)) why = `does not offer tag ${w.tags.filter((t) => !pool.tags.includes(t)).join(', ')}`;
      else if (!fits(pool, w.perInstance)) why = 'its nodes are too small for one instance';
      else if (ctx.avail[peak][p] === 0) why = ctx.avail[peak][p] < pool.maxNodes ? 'in maintenance at that step' : 'quota 0';
      else if (plan.nodes[peak][p] >= ctx.avail[peak][p]) why = ctx.avail[peak][p] < pool.maxNodes ? `at its limit of ${ctx.avail[peak][p]} nodes (maintenance takes the rest)` : `at its quota of ${pool.maxNodes} nodes`;
      else if (providerOverQuota(peak, pool.provider)) why = `provider '${pool.provider}' is at its quota`;
      else if (w.spread && ctx.spreadTarget[peak][wi] > 0) why = `spread over ${w.spread.domain}s limits how many instances one ${w.spread.domain} may hold`;
      else why = 'cheaper per instance, but filling it would need a new node while other pools have room, or churn, lifecycle or traffic costs outweigh the saving';
      passedOver.push(`'${pool.name}' (${money(pricePerInstance(ctx, wi, p))}/h per instance): ${why}`);
    }
    const shortfall = Array.from({ length: T }, (_, t) => ctx.req[t][wi] - placedCount(plan.placement[t][wi]));
    const binding: string[] = [];
    const shortSteps = shortfall.flatMap((s, t) => (s > 0 ? [t] : []));
    if (shortSteps.length) {
      const budgetSteps = ctx.budget ? shortSteps.filter((t) => spendAt(ctx, plan, t) >= ctx.budget![t] - 1e-6 * Math.max(1, ctx.budget![t]) - Math.min(...eligible.map((p) => pools[p].costPerHour)) * ctx.stepHours) : [];
      const fullSteps = shortSteps.filter((t) => ctx.eligible[wi].every((p) => plan.nodes[t][p] >= ctx.avail[t][p] || providerOverQuota(t, pools[p].provider)));
      if (budgetSteps.length) binding.push(`budget: spend is at the budget at ${stepRanges(budgetSteps)}`);
      if (fullSteps.length) {
        const windows = (ctx.input.maintenance ?? []).filter((m) => ctx.eligible[wi].some((p) => pools[p].name === m.pool) && fullSteps.some((t) => t >= m.fromStep && t < m.toStep)).map((m) => `'${m.name}'`);
        binding.push(`capacity: every pool it may use is at its quota at ${stepRanges(fullSteps)}` + (windows.length ? ` (maintenance ${windows.join(', ')})` : ''));
      }
      binding.push(`contention: short by ${shortSteps.map((t) => shortfall[t]).join('/')} instances at ${stepRanges(shortSteps)}, throttled after higher effective priorities`);
      const guaranteedSteps = shortSteps.filter((t) => ctx.guaranteed[t][wi] > 0);
      if (guaranteedSteps.length) binding.push(`guaranteed minimum of ${w.minInstances} held at ${stepRanges(guaranteedSteps)}`);
    }
    const ruleSteps = new Map<string, number[]>();
    for (let t = 0; t < T; t++) {
      const rule = ctx.priorityRule[t][wi];
      if (rule) ruleSteps.set(rule, [...(ruleSteps.get(rule) ?? []), t]);
    }
    for (const [rule, steps] of ruleSteps) binding.push(`priority rule '${rule}' sets its priority to ${ctx.priority[steps[0]][wi]} at ${stepRanges(steps)}`);
    if (w.tags.length) binding.push(`tags ${w.tags.join(', ')}: only ${ctx.eligible[wi].length} of ${pools.length} pools may run it`);
    const marginalCostPerInstance = marginal?.map((perStep) => perStep[wi]);
    const atPeak = marginalCostPerInstance?.[peak];
    const source = marginalFrom === 'plan LP' ? 'LP marginal price' : "marginal price in the decomposition's aggregated LP";
    const priced = atPeak !== undefined && Number.isFinite(atPeak) ? [`one more instance at the peak would cost about ${money(atPeak)} (${source}, over one ${ctx.stepHours} h step)`] : [];
    const text = [
      `'${w.name}' at its peak (step ${peak}) needs ${ctx.req[peak][wi]} instance${ctx.req[peak][wi] === 1 ? '' : 's'} and got ${placedCount(row)}` + (choices.length ? `: ${choices.map((c) => `${c.instances} in '${c.pool}' (${c.reason})`).join(', ')}` : ''),
      ...passedOver.map((p) => `passed over ${p}`),
      ...binding,
      ...priced,
    ];
    out.push({ workload: w.name, peakStep: peak, pools: choices, passedOver, binding, marginalCostPerInstance, ...(marginalFrom ? { marginalFrom } : {}), shortfall, text });
  });
  return out;
}
