/**
 * The exact multi-step MIP (see docs/allocation.md for the formulation).
 * Index sets: steps t, pools p, workloads w, eligible (w, p) pairs.
 *
 *   n_pt ∈ ℤ  nodes;  r_p ∈ ℤ reserved nodes;  o_pt ≥ n_pt − r_p on-demand nodes
 *   u_pt ∈ {0,1} pool exists (pools with create/teardown prices only)
 *   x_wpt ∈ ℤ instances;  s_wt ∈ [0, req − guaranteed] shortfall
 *   capacity, packing cut, demand, provider quota, budget, spread, churn,
 *   migration and traffic-split rows as built below.
 *
 * Each row carries a `RowInfo` saying what it means, so explanations can speak
 * of quotas, budgets and pools rather than row numbers.
 */
import { ModelBuilder, type LinearModel } from './lp.ts';
import { type HorizonContext, type HorizonPlan, networkOf, perNode } from './horizon.ts';
import { type SolveResult, solveModel } from './solver.ts';

export type RowKind = 'capacity' | 'pack' | 'demand' | 'quota' | 'budget' | 'spread' | 'lifecycle' | 'churn' | 'migration' | 'traffic' | 'reserved';

export interface RowInfo {
  readonly kind: RowKind;
  readonly t: number;
  readonly pool?: number;
  readonly workload?: number;
  readonly provider?: string;
  readonly resource?: 'cpu' | 'memory' | 'network';
  readonly domain?: string;
}

export interface HorizonModel {
  readonly model: LinearModel;
  readonly rows: readonly RowInfo[];
  readonly nodeVar: readonly Int32Array[];
  readonly openVar: readonly Int32Array[];
  readonly reservedVar: Int32Array;
  /** x[t][w]: [pool, variable] pairs. */
  readonly placementVar: readonly (readonly (readonly (readonly [number, number])[])[])[];
  readonly shortVar: readonly Int32Array[];
  readonly demandRow: readonly Int32Array[];
}

export interface BuildOptions {
  /** Fix the pools' open/closed state (explanations: the LP with integer structure fixed). */
  readonly fixOpen?: readonly (readonly boolean[])[];
  /** Fix reserved nodes per pool. */
  readonly fixReserved?: Int32Array;
  /**
   * The horizon continues one before it (a window of the decomposition's LP):
   * change into its first step (node churn, pool creation and teardown) is
   * not charged, as nothing is known of the step before.
   */
  readonly freeStart?: boolean;
}

const NONE = -1;

type RowFn = (info: RowInfo, label: string, idx: number[], coef: number[], sense: '<=' | '>=' | '=', rhs: number) => number;

export interface NodeSide {
  readonly nodeVar: readonly Int32Array[];
  readonly openVar: readonly Int32Array[];
  readonly reservedVar: Int32Array;
}

/**
 * Nodes, reservations, pool lifecycle, churn, provider quotas and budget: the
 * part of the model that does not depend on how workloads are represented, so
 * the exact model and the decomposition's aggregated model share it verbatim.
 */
export function addNodeSide(b: ModelBuilder, row: RowFn, ctx: HorizonContext, options: BuildOptions = {}): NodeSide {
  const { pools, steps: T, stepHours: h } = ctx;
  const P = pools.length;
  const reservedVar = new Int32Array(P).fill(NONE);
  pools.forEach((p, i) => {
    if (p.reservedCostPerHour === undefined) return;
    const fixed = options.fixReserved?.[i];
    reservedVar[i] = b.addVariable(`r_${p.name}`, fixed ?? 0, fixed ?? ctx.maxNodes[i], p.reservedCostPerHour * h * T, true);
  });
  const nodeVar: Int32Array[] = [];
  const openVar: Int32Array[] = [];
  const onDemandVar: Int32Array[] = [];
  for (let t = 0; t < T; t++) {
    // Change into the first step of a window (`freeStart`) is free.
    const chargeChange = !(t === 0 && options.freeStart);
    const nv = new Int32Array(P);
    const uv = new Int32Array(P).fill(NONE);
    const ov = new Int32Array(P).fill(NONE);
    pools.forEach((p, i) => {
      const avail = ctx.avail[t][i];
      const floor = Math.min(ctx.minNodes[i], avail);
      const hasReserved = reservedVar[i] !== NONE;
      nv[i] = b.addVariable(`n_${p.name}_${t}`, ctx.lifecycle[i] ? 0 : floor, avail, hasReserved ? 0 : p.costPerHour * h, true);
      if (hasReserved) {
        ov[i] = b.addVariable(`o_${p.name}_${t}`, 0, avail, p.costPerHour * h, false);
        row({ kind: 'reserved', t, pool: i }, `od_${p.name}_${t}`, [ov[i], nv[i], reservedVar[i]], [1, -1, 1], '>=', 0);
      }
      if (ctx.lifecycle[i]) {
        const fixed = options.fixOpen?.[t][i];
        const lo = fixed === undefined ? 0 : fixed ? 1 : 0;
        const hi = fixed === undefined ? 1 : lo;
        uv[i] = b.addVariable(`u_${p.name}_${t}`, lo, hi, 0, true);
        row({ kind: 'lifecycle', t, pool: i }, `open_hi_${p.name}_${t}`, [nv[i], uv[i]], [1, -avail], '<=', 0);
        if (floor > 0) row({ kind: 'lifecycle', t, pool: i }, `open_lo_${p.name}_${t}`, [nv[i], uv[i]], [1, -floor], '>=', 0);
        const prevU = t === 0 ? NONE : openVar[t - 1][i];
        const wasOpen = ctx.initialOpen[i] ? 1 : 0;
        if (p.createCost && chargeChange) {
          const c = b.addVariable(`create_${p.name}_${t}`, 0, 1, p.createCost, false);
          // c ≥ u_t − u_{t−1}
          if (prevU === NONE) row({ kind: 'lifecycle', t, pool: i }, `cr_${p.name}_${t}`, [c, uv[i]], [1, -1], '>=', -wasOpen);
          else row({ kind: 'lifecycle', t, pool: i }, `cr_${p.name}_${t}`, [c, uv[i], prevU], [1, -1, 1], '>=', 0);
        }
        if (p.teardownCost && chargeChange) {
          const d = b.addVariable(`teardown_${p.name}_${t}`, 0, 1, p.teardownCost, false);
          if (prevU === NONE) row({ kind: 'lifecycle', t, pool: i }, `td_${p.name}_${t}`, [d, uv[i]], [1, 1], '>=', wasOpen);
          else row({ kind: 'lifecycle', t, pool: i }, `td_${p.name}_${t}`, [d, uv[i], prevU], [1, 1, -1], '>=', 0);
        }
      }
      if (ctx.churnPerNode > 0 && chargeChange) {
        // n_t − n_{t−1} = up − down, each node added or removed paying the churn price.
        const up = b.addVariable(`up_${p.name}_${t}`, 0, Infinity, ctx.churnPerNode, false);
        const down = b.addVariable(`down_${p.name}_${t}`, 0, Infinity, ctx.churnPerNode, false);
        if (t === 0) row({ kind: 'churn', t, pool: i }, `ch_${p.name}_${t}`, [nv[i], up, down], [1, -1, 1], '=', ctx.initialNodes[i]);
        else row({ kind: 'churn', t, pool: i }, `ch_${p.name}_${t}`, [nv[i], nodeVar[t - 1][i], up, down], [1, -1, -1, 1], '=', 0);
      }
    });
    nodeVar.push(nv);
    openVar.push(uv);
    onDemandVar.push(ov);
  }

  // Provider quotas and budget, per step.
  for (let t = 0; t < T; t++) {
    for (const q of ctx.quotas) {
      const members = pools.map((p, i) => [p, i] as const).filter(([p]) => p.provider === q.provider);
      const limits: [number | undefined, (i: number) => number, string][] = [
        [q.maxNodes, () => 1, 'nodes'],
        [q.maxCpuMillicores, (i) => pools[i].nodeType.capacity.cpuMillicores, 'cpu'],
        [q.maxMemoryMiB, (i) => pools[i].nodeType.capacity.memoryMiB, 'mem'],
      ];
      for (const [limit, coef, what] of limits) {
        if (limit === undefined) continue;
        row({ kind: 'quota', t, provider: q.provider }, `quota_${what}_${q.provider}_${t}`, members.map(([, i]) => nodeVar[t][i]), members.map(([, i]) => coef(i)), '<=', limit);
      }
    }
    if (ctx.budget) {
      const idx: number[] = [];
      const coef: number[] = [];
      pools.forEach((p, i) => {
        if (reservedVar[i] !== NONE) {
          idx.push(onDemandVar[t][i], reservedVar[i]);
          coef.push(p.costPerHour * h, (p.reservedCostPerHour ?? 0) * h);
        } else {
          idx.push(nodeVar[t][i]);
          coef.push(p.costPerHour * h);
        }
      });
      row({ kind: 'budget', t }, `budget_${t}`, idx, coef, '<=', ctx.budget[t]);
    }
  }

  return { nodeVar, openVar, reservedVar };
}

export function buildHorizonModel(ctx: HorizonContext, options: BuildOptions = {}): HorizonModel {
  const { pools, workloads, steps: T, stepHours: h } = ctx;
  const b = new ModelBuilder();
  const rows: RowInfo[] = [];
  const row: RowFn = (info, label, idx, coef, sense, rhs) => {
    rows.push(info);
    return b.addConstraint(label, idx, coef, sense, rhs);
  };
  const { nodeVar, openVar, reservedVar } = addNodeSide(b, row, ctx, options);

  // Placement, demand, capacity, spread, migration.
  const placementVar: (readonly [number, number])[][][] = [];
  const shortVar: Int32Array[] = [];
  const demandRow: Int32Array[] = [];
  const hasNetwork = pools.some((p) => p.nodeType.capacity.networkMbps !== undefined) && workloads.some((w) => (w.perInstance.networkMbps ?? 0) > 0);
  for (let t = 0; t < T; t++) {
    const cap = pools.map(() => ({ cpu: [[], []] as [number[], number[]], mem: [[], []] as [number[], number[]], net: [[], []] as [number[], number[]] }));
    const xs: (readonly [number, number])[][] = [];
    const sv = new Int32Array(workloads.length).fill(NONE);
    const dr = new Int32Array(workloads.length).fill(NONE);
    workloads.forEach((w, wi) => {
      const need = ctx.req[t][wi];
      const list: (readonly [number, number])[] = [];
      xs.push(list);
      if (need === 0) return;
      for (const p of ctx.eligible[wi]) {
        if (ctx.avail[t][p] === 0) continue;
        // No upper bound: the demand row caps x, and a bound at `need` would make that row's dual the
        // shortfall price instead of the price of one more instance.
        const x = b.addVariable(`x_${w.name}_${pools[p].name}_${t}`, 0, Infinity, 0, true);
        list.push([p, x]);
        const r = w.perInstance;
        if (r.cpuMillicores > 0) cap[p].cpu[0].push(x), cap[p].cpu[1].push(r.cpuMillicores);
        if (r.memoryMiB > 0) cap[p].mem[0].push(x), cap[p].mem[1].push(r.memoryMiB);
        const net = networkOf(pools[p], r);
        if (net > 0) cap[p].net[0].push(x), cap[p].net[1].push(net);
        const k = perNode(pools[p], r);
        if (k < need) row({ kind: 'pack', t, pool: p, workload: wi }, `pack_${w.name}_${pools[p].name}_${t}`, [x, nodeVar[t][p]], [1, -k], '<=', 0);
        if (ctx.migrationPerInstance > 0) {
          const before = t === 0 ? ctx.input.current?.instances[w.name]?.[pools[p].name] ?? 0 : NONE;
          const m = b.addVariable(`mig_${w.name}_${pools[p].name}_${t}`, 0, Infinity, ctx.migrationPerInstance, false);
          const prev = t === 0 ? undefined : placementVar[t - 1][wi].find(([q]) => q === p)?.[1];
          if (t === 0 || prev === undefined) row({ kind: 'migration', t, pool: p, workload: wi }, `mig_${w.name}_${t}`, [m, x], [1, -1], '>=', t === 0 ? -before : 0);
          else row({ kind: 'migration', t, pool: p, workload: wi }, `mig_${w.name}_${t}`, [m, x, prev], [1, -1, 1], '>=', 0);
        }
      }
      sv[wi] = b.addVariable(`s_${w.name}_${t}`, 0, need - ctx.guaranteed[t][wi], ctx.penalty[t][wi], false);
      dr[wi] = row({ kind: 'demand', t, workload: wi }, `demand_${w.name}_${t}`, [...list.map(([, x]) => x), sv[wi]], [...list.map(() => 1), 1], '=', need);
      const target = ctx.spreadTarget[t][wi];
      if (target > 0 && w.spread) {
        const key = w.spread.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
        const domains = [...new Set(list.map(([p]) => key[p]))];
        row({ kind: 'spread', t, workload: wi }, `spread_total_${w.name}_${t}`, list.map(([, x]) => x), list.map(() => 1), '>=', target);
        for (const d of domains) {
          // Σ_{p∈d} x − Σ_p x ≤ −target: the other domains alone hold `target`.
          const idx = list.filter(([p]) => key[p] !== d).map(([, x]) => x);
          row({ kind: 'spread', t, workload: wi, domain: d }, `spread_${w.name}_${t}`, idx, idx.map(() => 1), '>=', target);
        }
      }
    });
    pools.forEach((p, i) => {
      const c = p.nodeType.capacity;
      const add = (terms: [number[], number[]], capacity: number, resource: 'cpu' | 'memory' | 'network') => {
        if (terms[0].length === 0) return;
        row({ kind: 'capacity', t, pool: i, resource }, `cap_${resource}_${p.name}_${t}`, [...terms[0], nodeVar[t][i]], [...terms[1], -capacity], '<=', 0);
      };
      add(cap[i].cpu, c.cpuMillicores, 'cpu');
      add(cap[i].mem, c.memoryMiB, 'memory');
      if (hasNetwork && c.networkMbps !== undefined) add(cap[i].net, c.networkMbps, 'network');
    });
    placementVar.push(xs);
    shortVar.push(sv);
    demandRow.push(dr);
  }

  // Traffic split: y_{e,d,t} ≥ |share of a in d − share of b in d|, cost ½ V h price Σ_d y.
  for (let t = 0; t < T; t++) {
    for (const e of ctx.traffic) {
      const na = ctx.req[t][e.a];
      const nb = ctx.req[t][e.b];
      if (na === 0 || nb === 0 || e.gibPerHour === 0) continue;
      for (const [key, price, what] of [
        [ctx.zoneKey, ctx.crossZonePerGiB, 'zone'],
        [ctx.providerKey, ctx.crossProviderPerGiB, 'provider'],
      ] as const) {
        if (price === 0) continue;
        const xa = placementVar[t][e.a];
        const xb = placementVar[t][e.b];
        const domains = [...new Set([...xa, ...xb].map(([p]) => key[p]))];
        for (const d of domains) {
          const y = b.addVariable(`split_${what}_${t}`, 0, Infinity, 0.5 * e.gibPerHour * h * price, false);
          const idx = [y, ...xa.filter(([p]) => key[p] === d).map(([, x]) => x), ...xb.filter(([p]) => key[p] === d).map(([, x]) => x)];
          const coefA = xa.filter(([p]) => key[p] === d).map(() => 1 / na);
          const coefB = xb.filter(([p]) => key[p] === d).map(() => 1 / nb);
          row({ kind: 'traffic', t, domain: d }, `tr_a_${t}`, idx, [1, ...coefA.map((c) => -c), ...coefB], '>=', 0);
          row({ kind: 'traffic', t, domain: d }, `tr_b_${t}`, idx, [1, ...coefA, ...coefB.map((c) => -c)], '>=', 0);
        }
      }
    }
  }
  return { model: b.build(), rows, nodeVar, openVar, reservedVar, placementVar, shortVar, demandRow };
}

/** Reads a plan from solver values (rounded: integer columns come back within tolerance). */
export function extractPlan(ctx: HorizonContext, m: HorizonModel, values: Float64Array): HorizonPlan {
  const T = ctx.steps;
  const round = (v: number) => Math.max(0, Math.round(v));
  const nodes = Array.from({ length: T }, (_, t) => Int32Array.from(m.nodeVar[t], (v) => round(values[v])));
  const open = Array.from({ length: T }, (_, t) => ctx.pools.map((_, i) => (m.openVar[t][i] === NONE ? true : values[m.openVar[t][i]] > 0.5)));
  const reserved = Int32Array.from(m.reservedVar, (v) => (v === NONE ? 0 : round(values[v])));
  const placement = m.placementVar.map((xs) =>
    xs.map((list) => {
      const row = new Map<number, number>();
      for (const [p, x] of list) {
        const n = round(values[x]);
        if (n > 0) row.set(p, n);
      }
      return row;
    }),
  );
  return { nodes, open, reserved, placement };
}

export interface ExactSolve {
  readonly plan: HorizonPlan;
  readonly solve: SolveResult;
  readonly model: HorizonModel;
}

/**
 * A plan as a MIP start: its integer decisions (nodes, reservations, open
 * pools, placements); HiGHS completes the continuous columns (on-demand
 * nodes, churn, starts, shortfall, traffic) itself.
 */
export function planStart(ctx: HorizonContext, m: HorizonModel, plan: HorizonPlan): { indices: Int32Array; values: Float64Array } {
  const entries = new Map<number, number>();
  for (let t = 0; t < ctx.steps; t++) {
    ctx.pools.forEach((_, p) => {
      entries.set(m.nodeVar[t][p], plan.nodes[t][p]);
      if (m.openVar[t][p] !== NONE) entries.set(m.openVar[t][p], plan.open[t][p] ? 1 : 0);
    });
    m.placementVar[t].forEach((list, w) => {
      for (const [p, x] of list) entries.set(x, plan.placement[t][w].get(p) ?? 0);
    });
  }
  m.reservedVar.forEach((v, p) => {
    if (v !== NONE) entries.set(v, plan.reserved[p]);
  });
  const indices = Int32Array.from([...entries.keys()].sort((a, b) => a - b));
  return { indices, values: Float64Array.from(indices, (i) => entries.get(i)!) };
}

/** Solves the exact MIP, from `start` when given (a feasible plan: the result is never worse); `undefined` plan when infeasible. */
export async function solveExact(
  ctx: HorizonContext,
  timeLimitSeconds: number,
  mipRelGap: number,
  start?: HorizonPlan,
  model: HorizonModel = buildHorizonModel(ctx),
): Promise<ExactSolve | { readonly infeasible: true; readonly solve: SolveResult }> {
  const solve = await solveModel(model.model, { via: 'arrays', timeLimitSeconds, mipRelGap, start: start ? planStart(ctx, model, start) : undefined });
  if (solve.status === 'infeasible') return { infeasible: true, solve };
  if (solve.status !== 'optimal' && solve.status !== 'timeLimit') throw new Error(`horizon solve failed: ${solve.statusText}`);
  return { plan: extractPlan(ctx, model, solve.values), solve, model };
}
