/**
 * The aggregated model of the decomposition (decompose.ts, steps 1–2).
 *
 * Pools are grouped by (provider, tags, node memory:CPU ratio, network) into
 * *pool groups*; workloads into *classes* by (the set of pool groups they may
 * use, memory:CPU ratio bin, network:CPU bin, which node sizes one instance
 * exceeds, and effective priority per step when contention is possible). A
 * class places CPU amounts F_kgj in each group along the extreme rays j of its
 * shape cone {(c, m, n): ρ_lo c ≤ m ≤ ρ_hi c, ν_lo c ≤ n ≤ ν_hi c}; the node
 * side is the exact model's (horizonModel.ts). Every feasible plan maps to a
 * feasible point of this model with no larger objective, so its LP optimum,
 * less the most the tie-break prices add, plus `unavoidableStarts` times the
 * migration price, is a valid lower bound (docs/allocation.md). On long
 * horizons the LP is solved per window (`lpWindows`, `windowContext`).
 */
import { InvalidInputError } from '../core/errors.ts';
import { type Constraint, type LinearModel, ModelBuilder } from './lp.ts';
import type { HorizonContext } from './horizon.ts';
import { type NodeSide, type RowInfo, addNodeSide } from './horizonModel.ts';

export interface PoolGroup {
  readonly pools: readonly number[];
  readonly provider: string;
  readonly ratio: number;
  readonly network: boolean;
}

export interface WorkloadClass {
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
export const CPU_UNIT = 1000;
export const MEM_UNIT = 1024;
export const NET_UNIT = 1000;

export function poolGroups(ctx: HorizonContext): { groups: PoolGroup[]; groupOf: Int32Array } {
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
export function contentionPossible(ctx: HorizonContext): boolean {
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

export function workloadClasses(ctx: HorizonContext, groupOf: Int32Array, binsPerOctave: number): WorkloadClass[] {
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

export interface AggregateModel {
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

/** Steps per window of the aggregated LP on long horizons (DecomposeOptions.lpWindowSteps). */
export const DEFAULT_LP_WINDOW_STEPS = 24;
/** Horizons up to this many steps get one aggregated LP by default. */
export const WINDOWED_AFTER_STEPS = 96;

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
export function windowContext(ctx: HorizonContext, from: number, to: number): HorizonContext {
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
export function windowReservations(ctx: HorizonContext, groups: readonly PoolGroup[], reservedOf: readonly Int32Array[], nodeCounts: readonly Int32Array[]): Int32Array {
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
export function buildAggregate(
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

/**
 * One more instance of a workload adds its CPU, memory and network to its
 * class's demand rows (when a class has no memory or network row, its members
 * share one ratio and the CPU row carries it), so the LP prices it at those
 * rows' duals times its resources.
 */
export function marginalPrices(ctx: HorizonContext, classes: readonly WorkloadClass[], demandRows: readonly (readonly [number, number, number])[][], duals: Float64Array): Float64Array[] {
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

