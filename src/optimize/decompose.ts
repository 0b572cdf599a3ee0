/**
 * Allocation at scale: a class decomposition with a valid lower bound.
 *
 * 1. Aggregate. Pools are grouped by (provider, tags, node memory:CPU ratio,
 *    network) into *pool groups*; workloads into *classes* by (the set of pool
 *    groups they may use, memory:CPU ratio bin, network:CPU bin, which node
 *    sizes one instance exceeds, and effective priority per step when
 *    contention is possible). A class places CPU amounts F_kgj in each group along
 *    the extreme rays j of its shape cone {(c, m, n): ρ_lo c ≤ m ≤ ρ_hi c,
 *    ν_lo c ≤ n ≤ ν_hi c}, where ρ, ν are the smallest and largest ratios of
 *    its members. The node side (nodes, reservations, lifecycle, churn,
 *    quotas, budget) is the exact model's, shared verbatim.
 * 2. Bound. Every feasible plan of the original problem maps to a feasible
 *    point of the aggregated model with no larger objective (see
 *    docs/allocation.md): member vectors lie in the class cone, per-pool
 *    capacity sums to group capacity, the shortfall price per CPU is the
 *    members' minimum less the migration price, instance starts every plan
 *    makes are added (`unavoidableStarts`), other migration and traffic
 *    costs (≥ 0) and packing cuts are dropped, zone spread is dropped and provider spread summed; size cuts
 *    (members larger than a node size only use larger nodes) stay valid. So
 *    the aggregated MIP's dual bound (and its LP bound) is a valid lower bound.
 *    Small seeded tie-break prices on class flows (the same every step) make
 *    the degenerate LP keep a class in the same groups across steps; the bound
 *    subtracts the most they can add. Past 96 steps the LP is solved in
 *    windows (`windowContext`), each a relaxation of its part of the horizon,
 *    the bound their sum.
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
import { InvalidInputError } from '../core/errors.ts';
import { lcg } from '../forecast/random.ts';
import { type Constraint, type LinearModel, ModelBuilder } from './lp.ts';
import { type HorizonContext, type HorizonPlan, fitsPool, moveInstances, minimumsHold, networkOf, nodeShare, perNode, placedCount, poolUse, ranBefore, spreadAllowsOneMore, survivors } from './horizon.ts';
import { type NodeSide, type RowInfo, addNodeSide } from './horizonModel.ts';
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
    /** Seconds in the aggregated LP (and MIP when run). */
    readonly solveSeconds: number;
    /** Seconds in the per-step re-split LPs (building and solving), their simplex iterations, and the steps where the re-split was kept. */
    readonly polishSeconds: number;
    readonly polishIterations: number;
    readonly polishedSteps: number;
    /** Seconds for the whole decomposition (building, solving, disaggregating). */
    readonly seconds: number;
    readonly status: string;
  };
}

interface PoolGroup {
  readonly pools: readonly number[];
  readonly provider: string;
  readonly ratio: number;
  readonly network: boolean;
}

interface WorkloadClass {
  readonly members: readonly number[];
  readonly groups: readonly number[];
  /** Extreme rays: memory and network per unit of CPU. */
  readonly rays: readonly (readonly [number, number])[];
  readonly providerSpread: boolean;
  /** Smallest member instance, vCPU and GiB: no member runs on nodes smaller than this. */
  readonly minCpu: number;
  readonly minMem: number;
  /** Largest member instance, vCPU: a CPU amount moved between groups is at least this many vCPU per instance moved. */
  readonly maxCpu: number;
}

const log2 = Math.log2;
/** The aggregated model counts vCPUs, GiB and Gb/s, keeping its coefficients near 1. */
const CPU_UNIT = 1000;
const MEM_UNIT = 1024;
const NET_UNIT = 1000;
/** At most this many final traffic-alignment sweeps over the steps (repeated while a sweep moves an instance). */
const MAX_ALIGN_SWEEPS = 5;

function poolGroups(ctx: HorizonContext): { groups: PoolGroup[]; groupOf: Int32Array } {
  const byKey = new Map<string, number[]>();
  ctx.pools.forEach((p, i) => {
    const c = p.nodeType.capacity;
    const ratio = c.memoryMiB / c.cpuMillicores;
    const key = `${p.provider}|${[...p.tags].sort().join(',')}|${ratio.toFixed(4)}|${c.networkMbps !== undefined}`;
    byKey.set(key, [...(byKey.get(key) ?? []), i]);
  });
  const groups: PoolGroup[] = [];
  const groupOf = new Int32Array(ctx.pools.length);
  for (const members of byKey.values()) {
    const p = ctx.pools[members[0]];
    members.forEach((i) => (groupOf[i] = groups.length));
    groups.push({ pools: members, provider: p.provider, ratio: p.nodeType.capacity.memoryMiB / p.nodeType.capacity.cpuMillicores, network: p.nodeType.capacity.networkMbps !== undefined });
  }
  return { groups, groupOf };
}

/**
 * Whether shortfall may be part of a good plan: a budget, or some step whose
 * CPU demand exceeds half of what the pools may run (provider CPU quotas
 * counted). Only then do classes keep their members' priority profiles apart
 * (the bound prices a class's shortfall at its cheapest member, so mixing
 * priorities stays valid but is loose when capacity is short).
 */
function contentionPossible(ctx: HorizonContext): boolean {
  if (ctx.budget) return true;
  for (let t = 0; t < ctx.steps; t++) {
    let demand = 0;
    ctx.workloads.forEach((w, wi) => (demand += ctx.req[t][wi] * w.perInstance.cpuMillicores));
    const byProvider = new Map<string, number>();
    ctx.pools.forEach((p, i) => byProvider.set(p.provider, (byProvider.get(p.provider) ?? 0) + ctx.avail[t][i] * p.nodeType.capacity.cpuMillicores));
    let supply = 0;
    for (const [provider, cpu] of byProvider) {
      const quota = ctx.quotas.find((q) => q.provider === provider)?.maxCpuMillicores;
      supply += Math.min(cpu, quota ?? Infinity);
    }
    if (demand > 0.5 * supply) return true;
  }
  return false;
}

function workloadClasses(ctx: HorizonContext, groupOf: Int32Array, binsPerOctave: number): WorkloadClass[] {
  const byKey = new Map<string, number[]>();
  const byPriority = contentionPossible(ctx);
  const cpuSizes = [...new Set(ctx.pools.map((p) => p.nodeType.capacity.cpuMillicores))];
  const memSizes = [...new Set(ctx.pools.map((p) => p.nodeType.capacity.memoryMiB))];
  const groupSets: number[][] = [];
  ctx.workloads.forEach((w, wi) => {
    const r = w.perInstance;
    if (!(r.cpuMillicores > 0)) throw new InvalidInputError(`workload '${w.name}'`, 'the decomposition needs cpuMillicores > 0 per instance');
    const groups = [...new Set(ctx.eligible[wi].map((p) => groupOf[p]))].sort((a, b) => a - b);
    groupSets.push(groups);
    const memBin = Math.floor(log2(Math.max(r.memoryMiB, 1) / r.cpuMillicores) * binsPerOctave);
    const netBin = r.networkMbps ? Math.floor(log2(r.networkMbps / r.cpuMillicores) * binsPerOctave) : 'none';
    const profile = byPriority ? Array.from({ length: ctx.steps }, (_, t) => ctx.priority[t][wi]).join(',') : '';
    // Size: which node sizes the instance exceeds. Members with the same count
    // meet the same size cuts, so finer size bins would not tighten the bound.
    const sizeBin = `${cpuSizes.filter((s) => r.cpuMillicores > s).length}/${memSizes.filter((s) => r.memoryMiB > s).length}`;
    const key = `${groups.join(',')}|${memBin}|${netBin}|${sizeBin}|${profile}`;
    byKey.set(key, [...(byKey.get(key) ?? []), wi]);
  });
  return [...byKey.values()].map((members) => {
    const shapes = members.map((wi) => ctx.workloads[wi].perInstance);
    const memRatios = shapes.map((r) => r.memoryMiB / MEM_UNIT / (r.cpuMillicores / CPU_UNIT));
    const netRatios = shapes.map((r) => (r.networkMbps ?? 0) / NET_UNIT / (r.cpuMillicores / CPU_UNIT));
    const rho = [Math.min(...memRatios), Math.max(...memRatios)];
    const nu = [Math.min(...netRatios), Math.max(...netRatios)];
    const rays: [number, number][] = [];
    for (const m of new Set(rho)) for (const n of new Set(nu)) rays.push([m, n]);
    return {
      members,
      groups: groupSets[members[0]],
      rays,
      providerSpread: members.some((wi) => ctx.workloads[wi].spread?.domain === 'provider'),
      minCpu: Math.min(...shapes.map((r) => r.cpuMillicores)) / CPU_UNIT,
      minMem: Math.min(...shapes.map((r) => r.memoryMiB)) / MEM_UNIT,
      maxCpu: Math.max(...shapes.map((r) => r.cpuMillicores)) / CPU_UNIT,
    };
  });
}

interface AggregateModel {
  readonly model: LinearModel;
  readonly nodes: NodeSide;
  /** flow[t][k][gi][j]: the column of class k's CPU along ray j in its gi-th group at step t. */
  readonly flow: readonly (readonly (readonly (readonly number[])[])[])[];
  /** demandRows[t][k]: the class's CPU, memory and network demand rows (−1: none), for its marginal prices. */
  readonly demandRows: readonly (readonly [number, number, number])[][];
  /** Size cuts, added to the LP lazily. */
  readonly sizeCuts: readonly Constraint[];
  /** The most the tie-break prices can add to the objective (the bound subtracts it). */
  readonly tieBreakMax: number;
}

interface SolvedWindow extends AggregateModel {
  /** The window's first step in the horizon. */
  readonly from: number;
  readonly relaxed: SolveResult;
}

/** Steps per window of the aggregated LP on long horizons (DecomposeOptions.lpWindowSteps). */
const DEFAULT_LP_WINDOW_STEPS = 24;
/** Horizons up to this many steps get one aggregated LP by default. */
const WINDOWED_AFTER_STEPS = 96;

/** The horizon's steps cut into windows of at most `size` steps, as even as can be ([from, to) each); one window when size ≤ 0. */
export function lpWindows(steps: number, size: number): [number, number][] {
  const count = size > 0 ? Math.ceil(steps / size) : 1;
  return Array.from({ length: count }, (_, i): [number, number] => [Math.round((i * steps) / count), Math.round(((i + 1) * steps) / count)]);
}

/**
 * Steps [from, to) as a horizon of their own, for one window of the
 * aggregated LP. Every plan of the whole horizon gives each window a point of
 * its model with no larger cost when the window (a) has its own reservations,
 * paid for its steps only (the plan's, for every window), and (b) pays
 * nothing for change into its first step (`freeStart`: node churn, pool
 * creation and teardown, group moves there are free; the plan's are ≥ 0). So
 * the sum of the windows' optima is a lower bound of the aggregated model of
 * the whole horizon, and so of the problem (with the start bound, which is
 * the whole horizon's and added once).
 */
function windowContext(ctx: HorizonContext, from: number, to: number): HorizonContext {
  const cut = <X>(perStep: readonly X[]): X[] => perStep.slice(from, to);
  return {
    ...ctx,
    steps: to - from,
    avail: cut(ctx.avail),
    req: cut(ctx.req),
    guaranteed: cut(ctx.guaranteed),
    spreadTarget: cut(ctx.spreadTarget),
    priority: cut(ctx.priority),
    priorityRule: cut(ctx.priorityRule),
    penalty: cut(ctx.penalty),
    budget: ctx.budget && cut(ctx.budget),
  };
}

/** The lower median. */
function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * One reservation for the horizon from windows that each chose their own:
 * per pool group, the median over the windows of the CPU they reserved,
 * in whole nodes of the group's pool with the most node-CPU over the
 * horizon (pools of a group cost alike per vCPU, and windows solved apart
 * settle that tie differently). The LP's node counts grow to it: reserved
 * nodes are paid for anyway, so the placement may fill them.
 */
function windowReservations(ctx: HorizonContext, groups: readonly PoolGroup[], reservedOf: readonly Int32Array[], nodeCounts: readonly Int32Array[]): Int32Array {
  const reserved = new Int32Array(ctx.pools.length);
  const cpuOf = (p: number) => ctx.pools[p].nodeType.capacity.cpuMillicores;
  for (const g of groups) {
    const cpu = median(reservedOf.map((r) => g.pools.reduce((sum, p) => sum + r[p] * cpuOf(p), 0)));
    if (cpu <= 0) continue;
    const offering = g.pools.filter((p) => ctx.pools[p].reservedCostPerHour !== undefined);
    const used = (p: number) => nodeCounts.reduce((sum, n) => sum + n[p], 0) * cpuOf(p);
    const pool = offering.reduce((best, p) => (used(p) > used(best) ? p : best), offering[0]);
    if (pool === undefined) continue;
    reserved[pool] = Math.min(ctx.maxNodes[pool], Math.round(cpu / cpuOf(pool)));
  }
  nodeCounts.forEach((n, t) => n.forEach((x, p) => (n[p] = Math.max(x, Math.min(ctx.avail[t][p], reserved[p])))));
  return reserved;
}

/** The aggregated model of a horizon (or of one window of it: `freeStart`, see `windowContext`). */
function buildAggregate(
  ctx: HorizonContext,
  classes: readonly WorkloadClass[],
  groups: readonly PoolGroup[],
  groupOf: Int32Array,
  preference: readonly (readonly number[])[],
  moveWeight: number,
  freeStart = false,
): AggregateModel {
  const T = ctx.steps;
  let tieBreakMax = 0;
  const b = new ModelBuilder();
  const row = (_info: RowInfo, label: string, idx: number[], coef: number[], sense: '<=' | '>=' | '=', rhs: number) => b.addConstraint(label, idx, coef, sense, rhs);
  const nodes = addNodeSide(b, row, ctx, { freeStart });
  // Size cuts (below) bind rarely: the LP gets them lazily, only those its optimum violates.
  const sizeCuts: Constraint[] = [];
  // flow[t][k][gi][j]: CPU (millicores) of class k along ray j in its gi-th group.
  const flow: number[][][][] = [];
  // demandRows[t][k]: the class's CPU, memory and network demand rows (−1: none), for its marginal prices.
  const demandRows: [number, number, number][][] = [];
  for (let t = 0; t < T; t++) {
    const capCpu = groups.map(() => [[], []] as [number[], number[]]);
    const capMem = groups.map(() => [[], []] as [number[], number[]]);
    const capNet = groups.map(() => [[], []] as [number[], number[]]);
    const flowT: number[][][] = [];
    const rowsT: [number, number, number][] = [];
    demandRows.push(rowsT);
    // Shortfall price: the members' penalty, capped at base × (level rank + 1),
    // which never exceeds it (each level adds at least `base`): still a lower
    // bound, with coefficients the LP can handle (level penalties reach 1e6+).
    const levels = [...new Set(ctx.priority[t])].sort((a, b) => a - b);
    const rank = new Map(levels.map((l, i) => [l, i]));
    classes.forEach((k, ki) => {
      let cpu = 0;
      let mem = 0;
      let net = 0;
      let guaranteedCpu = 0;
      let spreadCpu = 0;
      let price = Infinity;
      for (const wi of k.members) {
        const r = ctx.workloads[wi].perInstance;
        const n = ctx.req[t][wi];
        const vcpu = r.cpuMillicores / CPU_UNIT;
        cpu += n * vcpu;
        mem += (n * r.memoryMiB) / MEM_UNIT;
        net += (n * (r.networkMbps ?? 0)) / NET_UNIT;
        guaranteedCpu += ctx.guaranteed[t][wi] * vcpu;
        if (ctx.workloads[wi].spread?.domain === 'provider') spreadCpu += ctx.spreadTarget[t][wi] * vcpu;
        // Less the migration price: the start bound below credits each missing instance with one start.
        price = Math.min(price, (Math.min(ctx.penalty[t][wi], ctx.basePenalty * ((rank.get(ctx.priority[t][wi]) ?? 0) + 1)) - (1 - moveWeight) * ctx.migrationPerInstance) / vcpu);
      }
      const perGroup: number[][] = [];
      flowT.push(perGroup);
      rowsT.push([-1, -1, -1]);
      if (cpu === 0) return;
      // Flows never exceed demand (Σ flows + shortfall = CPU), so the tie-break adds at most this.
      tieBreakMax += cpu * Math.max(0, ...k.groups.map((g) => preference[ki][g]));
      const demandIdx: number[] = [];
      const memCoef: number[] = [];
      const netCoef: number[] = [];
      for (const g of k.groups) {
        const vars: number[] = [];
        k.rays.forEach(([m, n]) => {
          const f = b.addVariable(`f_${ki}_${g}_${t}`, 0, Infinity, preference[ki][g], false);
          vars.push(f);
          demandIdx.push(f);
          memCoef.push(m);
          netCoef.push(n);
          capCpu[g][0].push(f), capCpu[g][1].push(1);
          if (m > 0) capMem[g][0].push(f), capMem[g][1].push(m);
          if (n > 0 && groups[g].network) capNet[g][0].push(f), capNet[g][1].push(n);
        });
        perGroup.push(vars);
      }
      const shortIdx: number[] = [];
      k.rays.forEach(([m, n]) => {
        const s = b.addVariable(`short_${ki}_${t}`, 0, cpu - guaranteedCpu, price, false);
        shortIdx.push(s);
        demandIdx.push(s);
        memCoef.push(m);
        netCoef.push(n);
      });
      const demandRow = rowsT[ki];
      demandRow[0] = row({ kind: 'demand', t }, `cls_cpu_${ki}_${t}`, demandIdx, demandIdx.map(() => 1), '=', cpu);
      if (k.rays.some(([m]) => m !== k.rays[0][0])) demandRow[1] = row({ kind: 'demand', t }, `cls_mem_${ki}_${t}`, demandIdx, memCoef, '=', mem);
      if (k.rays.some(([, n]) => n !== k.rays[0][1])) demandRow[2] = row({ kind: 'demand', t }, `cls_net_${ki}_${t}`, demandIdx, netCoef, '=', net);
      row({ kind: 'demand', t }, `cls_guar_${ki}_${t}`, shortIdx, shortIdx.map(() => 1), '<=', cpu - guaranteedCpu);
      if (spreadCpu > 0) {
        // Summed provider spread: CPU outside any one provider ≥ Σ cpu_w · target_w.
        for (const d of new Set(k.groups.map((g) => groups[g].provider))) {
          const idx = k.groups.flatMap((g, gi) => (groups[g].provider === d ? [] : perGroup[gi]));
          row({ kind: 'spread', t, domain: d }, `cls_spread_${ki}_${t}`, idx, idx.map(() => 1), '>=', spreadCpu);
        }
      }
    });
    groups.forEach((g, gi) => {
      const add = (terms: [number[], number[]], capacity: (i: number) => number, label: string) => {
        if (terms[0].length === 0) return;
        const idx = [...terms[0], ...g.pools.map((p) => nodes.nodeVar[t][p])];
        const coef = [...terms[1], ...g.pools.map((p) => -capacity(p))];
        row({ kind: 'capacity', t }, `grp_${label}_${gi}_${t}`, idx, coef, '<=', 0);
      };
      add(capCpu[gi], (p) => ctx.pools[p].nodeType.capacity.cpuMillicores / CPU_UNIT, 'cpu');
      // Size cuts: instances larger than S run only on nodes larger than S, so
      // classes whose smallest member exceeds S fit in those pools' capacity.
      for (const [resource, capOf, minOf] of [
        ['cpu', (p: number) => ctx.pools[p].nodeType.capacity.cpuMillicores / CPU_UNIT, (k: WorkloadClass) => k.minCpu],
        ['mem', (p: number) => ctx.pools[p].nodeType.capacity.memoryMiB / MEM_UNIT, (k: WorkloadClass) => k.minMem],
      ] as const) {
        const sizes = [...new Set(g.pools.map(capOf))].sort((a, b) => a - b).slice(0, -1);
        for (const size of sizes) {
          const idx: number[] = [];
          const coef: number[] = [];
          classes.forEach((k, ki) => {
            if (!(minOf(k) > size)) return;
            const at = k.groups.indexOf(gi);
            if (at < 0 || !flowT[ki][at]) return;
            flowT[ki][at].forEach((f, j) => {
              idx.push(f);
              coef.push(resource === 'cpu' ? 1 : k.rays[j][0]);
            });
          });
          if (idx.length === 0) continue;
          const big = g.pools.filter((p) => capOf(p) > size);
          sizeCuts.push({ name: `grp_size_${resource}_${gi}_${t}`, sense: '<=', rhs: 0, indices: [...idx, ...big.map((p) => nodes.nodeVar[t][p])], coefficients: [...coef, ...big.map((p) => -capOf(p))] });
        }
      }
      add(capMem[gi], (p) => ctx.pools[p].nodeType.capacity.memoryMiB / MEM_UNIT, 'mem');
      if (g.network) add(capNet[gi], (p) => (ctx.pools[p].nodeType.capacity.networkMbps ?? 0) / NET_UNIT, 'net');
    });
    flow.push(flowT);
  }
  if (moveWeight > 0) groupMoves(b, row, ctx, classes, groupOf, flow, moveWeight, freeStart);
  const model = b.build();
  return { model, nodes, flow, demandRows, sizeCuts, tieBreakMax };
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
  const parts: SolvedWindow[] = [];
  for (const [from, to] of windows) {
    const aggregate = buildAggregate(windows.length === 1 ? ctx : windowContext(ctx, from, to), classes, groups, groupOf, preference, moveWeight, from > 0);
    const seconds = Math.max(1, timeLimit - (performance.now() - started) / 1000);
    const relaxed = await solveModel(aggregate.model, { via: 'arrays', relax: true, timeLimitSeconds: seconds, highsOptions: options.lpOptions, lazy: aggregate.sizeCuts });
    if (relaxed.status === 'infeasible') return undefined;
    if (relaxed.status !== 'optimal') throw new Error(`aggregated LP failed: ${relaxed.statusText}`);
    parts.push({ ...aggregate, from, relaxed });
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
      solveSeconds: sum((w) => w.relaxed.seconds) + (mip?.seconds ?? 0),
      polishSeconds: stats.polishSeconds,
      polishIterations: stats.polishIterations,
      polishedSteps: stats.polishedSteps,
      seconds: (performance.now() - started) / 1000,
      status: mip ? `MIP ${mip.statusText}` : lpStatus,
    },
  };
}

/**
 * One more instance of a workload adds its CPU, memory and network to its
 * class's demand rows (when a class has no memory or network row, its members
 * share one ratio and the CPU row carries it), so the LP prices it at those
 * rows' duals times its resources.
 */
function marginalPrices(ctx: HorizonContext, classes: readonly WorkloadClass[], demandRows: readonly (readonly [number, number, number])[][], duals: Float64Array): Float64Array[] {
  return demandRows.map((rowsT) => {
    const price = new Float64Array(ctx.workloads.length).fill(NaN);
    classes.forEach((k, ki) => {
      const [cpuRow, memRow, netRow] = rowsT[ki];
      if (cpuRow < 0) return;
      for (const wi of k.members) {
        const r = ctx.workloads[wi].perInstance;
        price[wi] =
          duals[cpuRow] * (r.cpuMillicores / CPU_UNIT) + (memRow < 0 ? 0 : duals[memRow] * (r.memoryMiB / MEM_UNIT)) + (netRow < 0 ? 0 : duals[netRow] * ((r.networkMbps ?? 0) / NET_UNIT));
      }
    });
    return price;
  });
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

/**
 * Group-move bound. A workload's starts are Σ_t Σ_p (x_wpt − x_wp,t−1)⁺, and
 * since the positive part of a sum is at most the sum of positive parts,
 * at least Σ_t Σ_g (X_wgt − X_wg,t−1)⁺ with X_wg its instances in pool group g
 * (X_wg,−1: running now). Over a class, Σ_w (ΔX_wg)⁺ ≥ Σ_w cpu_w (ΔX_wg)⁺ / cpuMax
 * ≥ (Σ_w cpu_w ΔX_wg)⁺ / cpuMax = (ΔF_kg)⁺ / cpuMax with F_kg the class's CPU in g,
 * so d_kgt ≥ F_kgt − F_kg,t−1, d ≥ 0, priced μ / cpuMax per vCPU, is a lower
 * bound on the plan's migration cost. The start bound (`unavoidableStarts`) is
 * another; starts ≥ both implies starts ≥ (1 − λ)·start bound + λ·group-move
 * bound for λ ∈ [0, 1], so the model charges λ·μ/cpuMax on d and the start
 * bound at (1 − λ)·μ (and the shortfall credit at (1 − λ)·μ per instance).
 * Besides tightening the bound, d makes the LP keep a class's CPU in the same
 * groups across steps where several splits cost the same, which is what lets
 * the disaggregation keep instances where they are.
 */
function groupMoves(
  b: ModelBuilder,
  row: (info: RowInfo, label: string, idx: number[], coef: number[], sense: '<=' | '>=' | '=', rhs: number) => number,
  ctx: HorizonContext,
  classes: readonly WorkloadClass[],
  groupOf: Int32Array,
  flow: readonly (readonly (readonly (readonly number[])[])[])[],
  weight: number,
  freeStart: boolean,
): void {
  classes.forEach((k, ki) => {
    // CPU running now per group (vCPU), from the current placement.
    const initial = new Map<number, number>();
    for (const wi of k.members) {
      const w = ctx.workloads[wi];
      for (const [pool, n] of Object.entries(ctx.input.current?.instances[w.name] ?? {})) {
        const p = ctx.poolIndex.get(pool);
        if (p === undefined || !ctx.eligible[wi].includes(p)) continue;
        initial.set(groupOf[p], (initial.get(groupOf[p]) ?? 0) + (n * w.perInstance.cpuMillicores) / CPU_UNIT);
      }
    }
    const price = (weight * ctx.migrationPerInstance) / k.maxCpu;
    k.groups.forEach((g, gi) => {
      for (let t = 0; t < ctx.steps; t++) {
        const now = flow[t][ki][gi] ?? [];
        // A window's first step: moves into it are free (see `windowContext`).
        if (now.length === 0 || (t === 0 && freeStart)) continue;
        const before = t > 0 ? flow[t - 1][ki][gi] ?? [] : [];
        const d = b.addVariable(`move_${ki}_${g}_${t}`, 0, Infinity, price, false);
        // d − F_t + F_{t−1} ≥ −(CPU running now, at t = 0)
        row({ kind: 'migration', t }, `move_${ki}_${g}_${t}`, [d, ...now, ...before], [1, ...now.map(() => -1), ...before.map(() => 1)], '>=', t === 0 ? -(initial.get(g) ?? 0) : 0);
      }
    });
  });
}

/**
 * Instance starts every plan makes if it places all it needs: for each
 * workload, Σ_t (N_t − N_{t−1})⁺ with N_{−1} the instances running now in
 * known pools. Any plan's starts are Σ_p (x_pt − x_p,t−1)⁺ ≥ (P_t − P_{t−1})⁺
 * with P_t = N_t − s_t placed, and (P_t − P_{t−1})⁺ ≥ (N_t − N_{t−1})⁺ − s_t
 * (s ≥ 0), so starts ≥ this count − Σ_t s_t: the bound adds the count times
 * the migration price and lowers every shortfall price by that price.
 */
export function unavoidableStarts(ctx: HorizonContext): number {
  let starts = 0;
  ctx.workloads.forEach((w, wi) => {
    const now = ctx.input.current?.instances[w.name] ?? {};
    let before = 0;
    for (const [pool, n] of Object.entries(now)) if (ctx.poolIndex.has(pool)) before += n;
    for (let t = 0; t < ctx.steps; t++) {
      starts += Math.max(0, ctx.req[t][wi] - before);
      before = ctx.req[t][wi];
    }
  });
  return starts;
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

