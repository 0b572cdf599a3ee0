/**
 * Multi-step allocation: input types, the derived per-step data every solver
 * shares (availability after maintenance, eligibility, effective priorities,
 * shortfall prices), and the exact evaluation and checking of a plan. Solvers
 * (`horizonModel.ts` exact MIP, `decompose.ts` at scale) return a `HorizonPlan`
 * and are judged by `evaluatePlan` / `checkPlan` here, so the cost a solver
 * reports is always recomputed from the decisions, never taken on trust.
 */
import { InvalidInputError } from '../core/errors.ts';
import type { Pool, Resources, SpreadRequirement } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { type PriorityRule, effectivePriority, levelPenalties } from './contention.ts';

/** A pool as the horizon model sees it: a `Pool` plus commitment and lifecycle prices. */
export interface HorizonPool extends Pool {
  /**
   * Price per hour of one reserved (committed) node: bought once for the whole
   * horizon and paid every step whether used or not; nodes above the reserved
   * count are on demand at `costPerHour`. Absent: no reservation offered.
   */
  readonly reservedCostPerHour?: number;
  /** One-off cost of creating the pool (it did not exist, or was torn down). */
  readonly createCost?: number;
  /** One-off cost of tearing the pool down. */
  readonly teardownCost?: number;
}

export interface HorizonWorkload {
  readonly name: string;
  readonly perInstance: Resources;
  /** Instances needed at each step (from sizing), length = steps. */
  readonly instances: readonly number[];
  /** Guaranteed minimum instances per step: never given up under contention. */
  readonly minInstances: number;
  /** Base priority, higher is more important (rules may override it per step). */
  readonly priority: number;
  /** Compliance tags: runs only in pools offering all of them (never violated). */
  readonly tags: readonly string[];
  readonly spread?: SpreadRequirement;
}

/** Limits across all pools of one provider (account quotas), per step. */
export interface ProviderQuota {
  readonly provider: string;
  readonly maxNodes?: number;
  readonly maxCpuMillicores?: number;
  readonly maxMemoryMiB?: number;
}

/** Steps [fromStep, toStep) in which `nodesDown` nodes of a pool (all when absent) cannot run. */
export interface MaintenanceWindow {
  readonly name: string;
  readonly pool: string;
  readonly fromStep: number;
  readonly toStep: number;
  readonly nodesDown?: number;
}

/** Traffic between two workloads (both directions together), GiB per hour. */
export interface TrafficEdge {
  readonly from: string;
  readonly to: string;
  readonly gibPerHour: number;
}

export interface HorizonCosts {
  /** Cost of adding or removing one node between steps (and against `current`). */
  readonly churnPerNode?: number;
  /** Cost of starting one instance in a pool where it did not run the step before. */
  readonly migrationPerInstance?: number;
  /** Price of traffic crossing zones (within a provider), per GiB. */
  readonly crossZonePerGiB?: number;
  /** Extra price of traffic crossing providers, per GiB (on top of the zone price). */
  readonly crossProviderPerGiB?: number;
}

export interface HorizonInput {
  readonly steps: number;
  readonly stepHours: number;
  /** Hour of day (0–24) at the start of step 0, for time-windowed priority rules. */
  readonly startHourOfDay?: number;
  readonly workloads: readonly HorizonWorkload[];
  readonly pools: readonly HorizonPool[];
  readonly quotas?: readonly ProviderQuota[];
  readonly maintenance?: readonly MaintenanceWindow[];
  readonly traffic?: readonly TrafficEdge[];
  readonly rules?: readonly PriorityRule[];
  readonly activeFlags?: readonly string[];
  /** Most that nodes may cost in one step (on-demand + reserved share), one value or one per step. */
  readonly budgetPerStep?: number | readonly number[];
  readonly costs?: HorizonCosts;
  /** The running allocation: churn, migrations and pool lifecycle are priced against it. */
  readonly current?: Allocation;
}

/**
 * Named groups of hard constraints, the unit the infeasibility diagnosis
 * removes and restores (`guarantee:w`, `spread:w`, `tags:w`, `budget`,
 * `quota:provider`, `poolQuota:p`, `minNodes:p`, `maintenance:name`).
 */
export type ConstraintGroup = string;

const byName = <T extends { readonly name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Everything solvers need, indexed: pools p, workloads w, steps t. */
export interface HorizonContext {
  readonly input: HorizonInput;
  readonly steps: number;
  readonly stepHours: number;
  readonly pools: readonly HorizonPool[];
  readonly workloads: readonly HorizonWorkload[];
  readonly poolIndex: ReadonlyMap<string, number>;
  readonly workloadIndex: ReadonlyMap<string, number>;
  /** Nodes pool p may run at step t (quota minus maintenance): avail[t][p]. */
  readonly avail: readonly Int32Array[];
  readonly maxNodes: Int32Array;
  readonly minNodes: Int32Array;
  /** Pools with a create/teardown price get an explicit open/closed state. */
  readonly lifecycle: readonly boolean[];
  readonly initialNodes: Int32Array;
  readonly initialOpen: readonly boolean[];
  /** Pools workload w may use (tags offered, one instance fits a node), ignoring maintenance. */
  readonly eligible: readonly (readonly number[])[];
  readonly req: readonly Int32Array[];
  readonly guaranteed: readonly Int32Array[];
  /** Instances that must survive the loss of one failure domain, req-capped: spreadTarget[t][w]. */
  readonly spreadTarget: readonly Int32Array[];
  readonly priority: readonly Float64Array[];
  readonly priorityRule: readonly (readonly (string | undefined)[])[];
  /** Shortfall penalty per missing instance: penalty[t][w]. */
  readonly penalty: readonly Float64Array[];
  /** The lowest level's penalty: more than one more instance can cost in any way. */
  readonly basePenalty: number;
  readonly budget: readonly number[] | undefined;
  readonly quotas: readonly ProviderQuota[];
  readonly zoneKey: readonly string[];
  readonly providerKey: readonly string[];
  readonly traffic: readonly { a: number; b: number; gibPerHour: number }[];
  readonly churnPerNode: number;
  readonly migrationPerInstance: number;
  readonly crossZonePerGiB: number;
  readonly crossProviderPerGiB: number;
  readonly dropped: ReadonlySet<ConstraintGroup>;
}

const fail = (where: string, problem: string): never => {
  throw new InvalidInputError(where, problem);
};

function validate(input: HorizonInput): void {
  if (!(Number.isInteger(input.steps) && input.steps >= 1)) fail('horizon', `steps must be an integer ≥ 1, got ${input.steps}`);
  if (!(input.stepHours > 0)) fail('horizon', `stepHours must be > 0, got ${input.stepHours}`);
  const names = new Set<string>();
  for (const p of input.pools) {
    const where = `pool '${p.name}'`;
    if (names.has(`p:${p.name}`)) fail(where, 'duplicate pool name');
    names.add(`p:${p.name}`);
    if (!(p.nodeType.capacity.cpuMillicores > 0 && p.nodeType.capacity.memoryMiB > 0)) fail(where, 'node capacity must be positive');
    if (!(p.costPerHour >= 0)) fail(where, `costPerHour must be ≥ 0, got ${p.costPerHour}`);
    if (p.reservedCostPerHour !== undefined && !(p.reservedCostPerHour >= 0)) fail(where, `reservedCostPerHour must be ≥ 0, got ${p.reservedCostPerHour}`);
    if (!(Number.isInteger(p.minNodes) && Number.isInteger(p.maxNodes) && 0 <= p.minNodes && p.minNodes <= p.maxNodes)) {
      fail(where, `needs integers 0 ≤ minNodes ≤ maxNodes, got ${p.minNodes}..${p.maxNodes}`);
    }
    if ((p.createCost ?? 0) < 0 || (p.teardownCost ?? 0) < 0) fail(where, 'createCost and teardownCost must be ≥ 0');
  }
  for (const w of input.workloads) {
    const where = `workload '${w.name}'`;
    if (names.has(`w:${w.name}`)) fail(where, 'duplicate workload name');
    names.add(`w:${w.name}`);
    if (w.instances.length !== input.steps) fail(where, `instances needs one value per step (${input.steps}), got ${w.instances.length}`);
    w.instances.forEach((n, t) => {
      if (!(Number.isInteger(n) && n >= 0)) fail(`${where} step ${t}`, `instances must be an integer ≥ 0, got ${n}`);
    });
    if (!(Number.isInteger(w.minInstances) && w.minInstances >= 0)) fail(where, `minInstances must be an integer ≥ 0, got ${w.minInstances}`);
    const r = w.perInstance;
    if (!(r.cpuMillicores >= 0 && r.memoryMiB >= 0 && (r.networkMbps ?? 0) >= 0)) fail(where, 'perInstance resources must be ≥ 0');
    if (w.spread && !(Number.isInteger(w.spread.survivingInstances) && w.spread.survivingInstances >= 0)) fail(where, 'spread.survivingInstances must be an integer ≥ 0');
  }
  const poolNames = new Set(input.pools.map((p) => p.name));
  const workloadNames = new Set(input.workloads.map((w) => w.name));
  for (const m of input.maintenance ?? []) {
    const where = `maintenance window '${m.name}'`;
    if (!poolNames.has(m.pool)) fail(where, `unknown pool '${m.pool}'`);
    if (!(Number.isInteger(m.fromStep) && Number.isInteger(m.toStep) && 0 <= m.fromStep && m.fromStep < m.toStep && m.toStep <= input.steps)) {
      fail(where, `needs integer steps 0 ≤ fromStep < toStep ≤ ${input.steps}, got ${m.fromStep}..${m.toStep}`);
    }
    if (m.nodesDown !== undefined && !(Number.isInteger(m.nodesDown) && m.nodesDown >= 0)) fail(where, 'nodesDown must be an integer ≥ 0');
  }
  for (const e of input.traffic ?? []) {
    const where = `traffic '${e.from}' → '${e.to}'`;
    if (!workloadNames.has(e.from) || !workloadNames.has(e.to)) fail(where, 'names an unknown workload');
    if (!(e.gibPerHour >= 0)) fail(where, 'gibPerHour must be ≥ 0');
  }
  for (const r of input.rules ?? []) {
    for (const w of r.workloads) if (!workloadNames.has(w)) fail(`priority rule '${r.name}'`, `unknown workload '${w}'`);
  }
  const budget = input.budgetPerStep;
  if (Array.isArray(budget) && budget.length !== input.steps) fail('budgetPerStep', `needs one value per step (${input.steps}), got ${budget.length}`);
}

export function offers(pool: Pool, tags: readonly string[]): boolean {
  return tags.every((t) => pool.tags.includes(t));
}

/** Whether one instance fits one node of the pool (network only when both sides state it). */
export function fits(pool: Pool, r: Resources): boolean {
  const c = pool.nodeType.capacity;
  return r.cpuMillicores <= c.cpuMillicores && r.memoryMiB <= c.memoryMiB && (r.networkMbps === undefined || c.networkMbps === undefined || r.networkMbps <= c.networkMbps);
}

/** Most instances of this shape one node holds. */
export function perNode(pool: Pool, r: Resources): number {
  const c = pool.nodeType.capacity;
  let n = Infinity;
  if (r.cpuMillicores > 0) n = Math.min(n, c.cpuMillicores / r.cpuMillicores);
  if (r.memoryMiB > 0) n = Math.min(n, c.memoryMiB / r.memoryMiB);
  if (r.networkMbps && c.networkMbps !== undefined) n = Math.min(n, c.networkMbps / r.networkMbps);
  return Math.floor(n + 1e-9);
}

/** The share of one of the pool's nodes one instance takes: its larger share of CPU or memory. */
export function nodeShare(pool: Pool, r: Resources): number {
  const c = pool.nodeType.capacity;
  return Math.max(r.cpuMillicores / c.cpuMillicores, r.memoryMiB / c.memoryMiB);
}

/** Network demand of an instance counted against a pool (0 when either side leaves it unconstrained). */
export function networkOf(pool: Pool, r: Resources): number {
  return pool.nodeType.capacity.networkMbps !== undefined ? r.networkMbps ?? 0 : 0;
}

/** Per pool, the [CPU millicores, memory MiB, network Mbps] a step's instances (`rows`: per workload, instances per pool) use. */
export function poolUse(ctx: HorizonContext, rows: readonly ReadonlyMap<number, number>[]): number[][] {
  const used = ctx.pools.map(() => [0, 0, 0]);
  rows.forEach((row, wi) => {
    for (const [p, x] of row) addUse(ctx, used[p], wi, p, x);
  });
  return used;
}

/** Adds `count` instances of workload wi (negative: removes) to `used`, pool p's [CPU, memory, network]. */
export function addUse(ctx: HorizonContext, used: number[], wi: number, p: number, count: number): void {
  const r = ctx.workloads[wi].perInstance;
  used[0] += count * r.cpuMillicores;
  used[1] += count * r.memoryMiB;
  used[2] += count * networkOf(ctx.pools[p], r);
}

/** Moves `count` instances of workload wi from pool `from` to pool `to` in a step's rows and per-pool use (see `poolUse`). */
export function moveInstances(ctx: HorizonContext, rows: readonly Map<number, number>[], used: readonly number[][], wi: number, from: number, to: number, count = 1): void {
  addUse(ctx, used[from], wi, from, -count);
  addToRow(rows[wi], from, -count);
  addUse(ctx, used[to], wi, to, count);
  addToRow(rows[wi], to, count);
}

/** Each workload's eligible pools as a set (built once per context, on first use). */
const eligibleSetsOf = new WeakMap<HorizonContext, readonly ReadonlySet<number>[]>();
export function eligibleSets(ctx: HorizonContext): readonly ReadonlySet<number>[] {
  let sets = eligibleSetsOf.get(ctx);
  if (!sets) eligibleSetsOf.set(ctx, (sets = ctx.eligible.map((list) => new Set(list))));
  return sets;
}

/**
 * Whether `count` more instances of workload wi fit `nodes` nodes of pool p,
 * which already use `used` ([CPU, memory, network]) and hold `have` of wi's
 * instances: the pool's capacity in aggregate and the per-node cut (no more
 * of one shape than `perNode` × nodes). The room check every local move
 * makes; whether the instances also pack node by node is binpack's question.
 */
export function fitsPool(ctx: HorizonContext, wi: number, p: number, count: number, nodes: number, used: readonly number[], have: number): boolean {
  const r = ctx.workloads[wi].perInstance;
  const pool = ctx.pools[p];
  const c = pool.nodeType.capacity;
  return (
    used[0] + count * r.cpuMillicores <= nodes * c.cpuMillicores &&
    used[1] + count * r.memoryMiB <= nodes * c.memoryMiB &&
    (c.networkMbps === undefined || used[2] + count * networkOf(pool, r) <= nodes * c.networkMbps) &&
    have + count <= perNode(pool, r) * nodes
  );
}

export function hourOfStep(input: HorizonInput, t: number): number {
  return (input.startHourOfDay ?? 0) + t * input.stepHours;
}

/** Derives the indexed context; `dropped` constraint groups are left out (for diagnosis). */
export function buildContext(input: HorizonInput, dropped: ReadonlySet<ConstraintGroup> = new Set()): HorizonContext {
  validate(input);
  const pools = [...input.pools].sort(byName);
  const workloads = [...input.workloads].sort(byName);
  const T = input.steps;
  const poolIndex = new Map(pools.map((p, i) => [p.name, i]));
  const workloadIndex = new Map(workloads.map((w, i) => [w.name, i]));
  const UNLIMITED = 1_000_000;
  const maxNodes = Int32Array.from(pools, (p) => (dropped.has(`poolQuota:${p.name}`) ? UNLIMITED : p.maxNodes));
  const minNodes = Int32Array.from(pools, (p) => (dropped.has(`minNodes:${p.name}`) ? 0 : p.minNodes));
  const avail = Array.from({ length: T }, () => Int32Array.from(maxNodes));
  for (const m of input.maintenance ?? []) {
    if (dropped.has(`maintenance:${m.name}`)) continue;
    const p = poolIndex.get(m.pool)!;
    for (let t = m.fromStep; t < m.toStep; t++) avail[t][p] = Math.max(0, avail[t][p] - (m.nodesDown ?? maxNodes[p]));
  }
  const lifecycle = pools.map((p) => p.createCost !== undefined || p.teardownCost !== undefined);
  const initialNodes = Int32Array.from(pools, (p) => input.current?.nodesByPool[p.name] ?? 0);
  const initialOpen = pools.map((_, i) => initialNodes[i] > 0);
  const eligible = workloads.map((w) => {
    const tags = dropped.has(`tags:${w.name}`) ? [] : w.tags;
    const list: number[] = [];
    pools.forEach((p, i) => {
      if (offers(p, tags) && fits(p, w.perInstance)) list.push(i);
    });
    return list;
  });
  const req = Array.from({ length: T }, (_, t) => Int32Array.from(workloads, (w) => w.instances[t]));
  const guaranteed = Array.from({ length: T }, (_, t) =>
    Int32Array.from(workloads, (w) => (dropped.has(`guarantee:${w.name}`) ? 0 : Math.min(w.minInstances, w.instances[t]))),
  );
  const spreadTarget = Array.from({ length: T }, (_, t) =>
    Int32Array.from(workloads, (w) => (w.spread && !dropped.has(`spread:${w.name}`) ? Math.min(w.spread.survivingInstances, w.instances[t]) : 0)),
  );
  const flags = new Set(input.activeFlags ?? []);
  const rules = input.rules ?? [];
  const priority: Float64Array[] = [];
  const priorityRule: (string | undefined)[][] = [];
  for (let t = 0; t < T; t++) {
    const hour = hourOfStep(input, t);
    const row = new Float64Array(workloads.length);
    const why: (string | undefined)[] = [];
    workloads.forEach((w, i) => {
      const e = effectivePriority(w.name, w.priority, rules, hour, flags);
      row[i] = e.priority;
      why.push(e.rule);
    });
    priority.push(row);
    priorityRule.push(why);
  }
  const costs = input.costs ?? {};
  const churnPerNode = costs.churnPerNode ?? 0;
  const migrationPerInstance = costs.migrationPerInstance ?? 0;
  const crossZonePerGiB = costs.crossZonePerGiB ?? 0;
  const crossProviderPerGiB = costs.crossProviderPerGiB ?? 0;
  const traffic = (input.traffic ?? []).map((e) => ({ a: workloadIndex.get(e.from)!, b: workloadIndex.get(e.to)!, gibPerHour: e.gibPerHour }));
  // Base shortfall price: more than one more instance can cost in any way (a
  // whole node-step on demand or reserved, migration, churn of a node both
  // ways, creating and tearing down its pool, all its traffic crossing).
  const maxNodeStep = Math.max(0, ...pools.map((p) => Math.max(p.costPerHour, (p.reservedCostPerHour ?? 0) * T))) * input.stepHours;
  const maxLifecycle = Math.max(0, ...pools.map((p) => (p.createCost ?? 0) + (p.teardownCost ?? 0)));
  const maxTraffic = Math.max(0, ...traffic.map((e) => e.gibPerHour)) * input.stepHours * (crossZonePerGiB + crossProviderPerGiB);
  const base = 2 * maxNodeStep + migrationPerInstance + 2 * churnPerNode + maxLifecycle + maxTraffic + 1;
  const penalty = priority.map((row) => Float64Array.from(levelPenalties(workloads.map((w, i) => ({ priority: row[i], perInstance: w.perInstance })), base)));
  const rawBudget = input.budgetPerStep;
  const budget = rawBudget === undefined || dropped.has('budget') ? undefined : Array.from({ length: T }, (_, t) => (typeof rawBudget === 'number' ? rawBudget : rawBudget[t]));
  return {
    input,
    steps: T,
    stepHours: input.stepHours,
    pools,
    workloads,
    poolIndex,
    workloadIndex,
    avail,
    maxNodes,
    minNodes,
    lifecycle,
    initialNodes,
    initialOpen,
    eligible,
    req,
    guaranteed,
    spreadTarget,
    priority,
    priorityRule,
    penalty,
    basePenalty: base,
    budget,
    quotas: (input.quotas ?? []).filter((q) => !dropped.has(`quota:${q.provider}`)),
    zoneKey: pools.map((p) => `${p.provider}/${p.zone}`),
    providerKey: pools.map((p) => p.provider),
    traffic,
    churnPerNode,
    migrationPerInstance,
    crossZonePerGiB,
    crossProviderPerGiB,
    dropped,
  };
}

/** Decisions of a horizon plan, indexed like the context. */
export interface HorizonPlan {
  /** nodes[t][p] */
  readonly nodes: readonly Int32Array[];
  /** open[t][p]: the pool exists at step t (always true for pools without lifecycle prices). */
  readonly open: readonly (readonly boolean[])[];
  /** Reserved nodes per pool, for the whole horizon. */
  readonly reserved: Int32Array;
  /** placement[t][w]: pool index → instances. */
  readonly placement: readonly (readonly ReadonlyMap<number, number>[])[];
}

export interface CostBreakdown {
  readonly onDemand: number;
  readonly reserved: number;
  readonly churn: number;
  readonly migration: number;
  readonly lifecycle: number;
  readonly traffic: number;
  /** Sum of the above: what the plan costs. */
  readonly total: number;
  /** Shortfall penalty (a price on missing instances, not money spent). */
  readonly shortfallPenalty: number;
  /** total + shortfallPenalty: the objective every solver minimizes. */
  readonly objective: number;
}

export function placedCount(row: ReadonlyMap<number, number>): number {
  let n = 0;
  for (const v of row.values()) n += v;
  return n;
}

/**
 * Whether one more instance of workload wi in pool `to` at step t keeps its
 * spread: losing the whole failure domain of `to` must still leave the
 * instances its spread target asks for.
 */
export function spreadAllowsOneMore(ctx: HorizonContext, t: number, wi: number, row: ReadonlyMap<number, number>, to: number): boolean {
  const w = ctx.workloads[wi];
  const target = ctx.spreadTarget[t][wi];
  if (!w.spread || target === 0) return true;
  const key = w.spread.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
  let placed = 0;
  let inDomain = 0;
  for (const [q, x] of row) {
    placed += x;
    if (key[q] === key[to]) inDomain += x;
  }
  return placed - (inDomain + 1) >= target;
}

/**
 * Instances of workload wi that ran in pool p the step before t: from
 * `previous` (step t − 1's rows) when given, else the running allocation at
 * step 0 (none at later steps).
 */
export function ranBefore(ctx: HorizonContext, t: number, previous: readonly ReadonlyMap<number, number>[] | undefined, wi: number, p: number): number {
  if (previous) return previous[wi].get(p) ?? 0;
  return t === 0 ? ctx.input.current?.instances[ctx.workloads[wi].name]?.[ctx.pools[p].name] ?? 0 : 0;
}

/**
 * What workload wi keeps at step t if its largest failure domain is lost:
 * its instances outside that domain (all of them when it has no spread), with
 * the instances placed and that domain's key.
 */
export function survivors(ctx: HorizonContext, wi: number, row: ReadonlyMap<number, number>): { placed: number; surviving: number; largest: string } {
  const spread = ctx.workloads[wi].spread;
  const key = spread?.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
  let placed = 0;
  const byDomain = new Map<string, number>();
  for (const [p, x] of row) {
    placed += x;
    if (spread) byDomain.set(key[p], (byDomain.get(key[p]) ?? 0) + x);
  }
  let largest = '';
  let most = 0;
  for (const [d, x] of byDomain) if (x > most) (largest = d), (most = x);
  return { placed, surviving: placed - most, largest };
}

/** Whether workload wi keeps its guaranteed minimum at step t, and its spread target if its largest failure domain is lost. */
export function minimumsHold(ctx: HorizonContext, t: number, wi: number, row: ReadonlyMap<number, number>): boolean {
  const { placed, surviving } = survivors(ctx, wi, row);
  const target = ctx.spreadTarget[t][wi];
  return placed >= ctx.guaranteed[t][wi] && (target === 0 || surviving >= target);
}

/** Adds `by` (negative to remove) to a workload's instances in pool p; a pool left with none leaves the row. */
export function addToRow(row: Map<number, number>, p: number, by: number): void {
  const x = (row.get(p) ?? 0) + by;
  if (x > 0) row.set(p, x);
  else row.delete(p);
}

/** Each workload's traffic edges (those with volume, between two workloads), by workload index. */
export function edgesByWorkload(ctx: HorizonContext): HorizonContext['traffic'][number][][] {
  const edgesOf: HorizonContext['traffic'][number][][] = ctx.workloads.map(() => []);
  for (const e of ctx.traffic) {
    if (e.gibPerHour <= 0 || e.a === e.b) continue;
    edgesOf[e.a].push(e);
    edgesOf[e.b].push(e);
  }
  return edgesOf;
}

/** Cost of traffic edge e at step t under the given rows: ½ Σ_domain |share_a − share_b| of its volume crosses (see docs). */
export function edgeCost(ctx: HorizonContext, t: number, rows: readonly ReadonlyMap<number, number>[], e: { a: number; b: number; gibPerHour: number }): number {
  const na = ctx.req[t][e.a];
  const nb = ctx.req[t][e.b];
  if (na === 0 || nb === 0 || e.gibPerHour === 0) return 0;
  let cost = 0;
  for (const [key, price] of [
    [ctx.zoneKey, ctx.crossZonePerGiB],
    [ctx.providerKey, ctx.crossProviderPerGiB],
  ] as const) {
    if (price === 0) continue;
    const share = new Map<string, number>();
    for (const [p, n] of rows[e.a]) share.set(key[p], (share.get(key[p]) ?? 0) + n / na);
    for (const [p, n] of rows[e.b]) share.set(key[p], (share.get(key[p]) ?? 0) - n / nb);
    let tv = 0;
    for (const v of share.values()) tv += Math.abs(v);
    cost += 0.5 * tv * e.gibPerHour * ctx.stepHours * price;
  }
  return cost;
}

function trafficCost(ctx: HorizonContext, plan: HorizonPlan, t: number): number {
  let cost = 0;
  for (const e of ctx.traffic) cost += edgeCost(ctx, t, plan.placement[t], e);
  return cost;
}

export function evaluatePlan(ctx: HorizonContext, plan: HorizonPlan): CostBreakdown {
  const { pools, steps: T, stepHours } = ctx;
  let onDemand = 0;
  let reserved = 0;
  let churn = 0;
  let migration = 0;
  let lifecycle = 0;
  let traffic = 0;
  let shortfallPenalty = 0;
  pools.forEach((p, i) => {
    reserved += (p.reservedCostPerHour ?? 0) * plan.reserved[i] * stepHours * T;
  });
  for (let t = 0; t < T; t++) {
    pools.forEach((p, i) => {
      const n = plan.nodes[t][i];
      onDemand += p.costPerHour * Math.max(0, n - plan.reserved[i]) * stepHours;
      const before = t === 0 ? ctx.initialNodes[i] : plan.nodes[t - 1][i];
      churn += ctx.churnPerNode * Math.abs(n - before);
      if (ctx.lifecycle[i]) {
        const wasOpen = t === 0 ? ctx.initialOpen[i] : plan.open[t - 1][i];
        if (plan.open[t][i] && !wasOpen) lifecycle += p.createCost ?? 0;
        if (!plan.open[t][i] && wasOpen) lifecycle += p.teardownCost ?? 0;
      }
    });
    ctx.workloads.forEach((w, wi) => {
      const row = plan.placement[t][wi];
      if (ctx.migrationPerInstance > 0) {
        for (const [p, n] of row) {
          migration += ctx.migrationPerInstance * Math.max(0, n - ranBefore(ctx, t, t > 0 ? plan.placement[t - 1] : undefined, wi, p));
        }
      }
      shortfallPenalty += ctx.penalty[t][wi] * Math.max(0, ctx.req[t][wi] - placedCount(row));
    });
    traffic += trafficCost(ctx, plan, t);
  }
  const total = onDemand + reserved + churn + migration + lifecycle + traffic;
  return { onDemand, reserved, churn, migration, lifecycle, traffic, total, shortfallPenalty, objective: total + shortfallPenalty };
}

/** What a plan breaks, by kind; `message` is in user terms and starts with the step. */
export type ViolationKind =
  | 'overNeeded'
  | 'belowGuaranteed'
  | 'ineligible'
  | 'overPerNode'
  | 'spread'
  | 'nodesOverAvailable'
  | 'closedWithNodes'
  | 'belowMinNodes'
  | 'overCapacity'
  | 'budget'
  | 'quota';

export interface HorizonViolation {
  readonly step: number;
  readonly kind: ViolationKind;
  /** The workload, pool or provider concerned, where there is one. */
  readonly workload?: string;
  readonly pool?: string;
  readonly provider?: string;
  readonly message: string;
}

/**
 * Every hard constraint a plan must meet, checked from the decisions; returns
 * violations in user terms (empty = valid). Solvers' outputs go through this
 * in tests and before a decomposition result is returned.
 */
export function checkPlan(ctx: HorizonContext, plan: HorizonPlan): string[] {
  const out: string[] = [];
  for (let t = 0; t < ctx.steps; t++) for (const v of stepViolations(ctx, plan, t)) out.push(v.message);
  return out;
}

/** The hard constraints of step t a plan breaks (checkPlan, one step, with what each concerns). */
export function stepViolations(ctx: HorizonContext, plan: HorizonPlan, t: number): HorizonViolation[] {
  const out: HorizonViolation[] = [];
  const { pools, workloads } = ctx;
  const tol = 1e-6;
  const used = pools.map(() => [0, 0, 0]);
  workloads.forEach((w, wi) => {
    const row = plan.placement[t][wi];
    const placed = placedCount(row);
    const about = (kind: ViolationKind, text: string, pool?: string) => out.push({ step: t, kind, workload: w.name, ...(pool !== undefined ? { pool } : {}), message: `step ${t}: workload '${w.name}' ${text}` });
    if (placed > ctx.req[t][wi]) about('overNeeded', `placed ${placed} > needed ${ctx.req[t][wi]}`);
    if (placed < ctx.guaranteed[t][wi]) about('belowGuaranteed', `placed ${placed} < guaranteed ${ctx.guaranteed[t][wi]}`);
    const domains = new Map<string, number>();
    for (const [p, n] of row) {
      if (n <= 0) continue;
      if (!ctx.eligible[wi].includes(p)) about('ineligible', `in pool '${pools[p].name}' it may not use (tags or size)`, pools[p].name);
      if (n > perNode(pools[p], w.perInstance) * plan.nodes[t][p]) about('overPerNode', `has more instances in '${pools[p].name}' than its nodes hold`, pools[p].name);
      addUse(ctx, used[p], wi, p, n);
      if (w.spread) {
        const key = w.spread.domain === 'zone' ? ctx.zoneKey[p] : ctx.providerKey[p];
        domains.set(key, (domains.get(key) ?? 0) + n);
      }
    }
    const target = ctx.spreadTarget[t][wi];
    if (target > 0) {
      for (const [d, n] of domains) if (placed - n < target) about('spread', `keeps ${placed - n} < ${target} instances if ${w.spread!.domain} ${d} fails`);
      if (placed < target) about('spread', `has ${placed} < ${target} instances for its spread`);
    }
  });
  let spend = 0;
  const byProvider = new Map<string, [number, number, number]>();
  pools.forEach((p, i) => {
    const n = plan.nodes[t][i];
    const c = p.nodeType.capacity;
    const about = (kind: ViolationKind, text: string) => out.push({ step: t, kind, pool: p.name, message: `step ${t}: pool '${p.name}' ${text}` });
    if (n > ctx.avail[t][i]) about('nodesOverAvailable', `has ${n} nodes > ${ctx.avail[t][i]} available (quota, maintenance)`);
    if (ctx.lifecycle[i] && !plan.open[t][i] && n > 0) about('closedWithNodes', 'is closed but has nodes');
    const open = ctx.lifecycle[i] ? plan.open[t][i] : true;
    if (open && n < Math.min(ctx.minNodes[i], ctx.avail[t][i])) about('belowMinNodes', `has ${n} < minNodes ${ctx.minNodes[i]}`);
    if (used[i][0] > n * c.cpuMillicores + tol || used[i][1] > n * c.memoryMiB + tol || (c.networkMbps !== undefined && used[i][2] > n * c.networkMbps + tol)) {
      about('overCapacity', 'over capacity');
    }
    spend += (p.costPerHour * Math.max(0, n - plan.reserved[i]) + (p.reservedCostPerHour ?? 0) * plan.reserved[i]) * ctx.stepHours;
    const q = byProvider.get(p.provider) ?? [0, 0, 0];
    byProvider.set(p.provider, [q[0] + n, q[1] + n * c.cpuMillicores, q[2] + n * c.memoryMiB]);
  });
  if (ctx.budget && spend > ctx.budget[t] + 1e-6) out.push({ step: t, kind: 'budget', message: `step ${t}: spend ${spend.toFixed(2)} > budget ${ctx.budget[t]}` });
  for (const q of ctx.quotas) {
    const [n, cpu, mem] = byProvider.get(q.provider) ?? [0, 0, 0];
    if ((q.maxNodes !== undefined && n > q.maxNodes) || (q.maxCpuMillicores !== undefined && cpu > q.maxCpuMillicores) || (q.maxMemoryMiB !== undefined && mem > q.maxMemoryMiB)) {
      out.push({ step: t, kind: 'quota', provider: q.provider, message: `step ${t}: provider '${q.provider}' over its quota` });
    }
  }
  return out;
}

/** A plan's step t as the `Allocation` the rest of headroom uses (names, not indices). */
export function stepAllocation(ctx: HorizonContext, plan: HorizonPlan, t: number): Allocation {
  const nodesByPool: Record<string, number> = {};
  let costPerHour = 0;
  ctx.pools.forEach((p, i) => {
    nodesByPool[p.name] = plan.nodes[t][i];
    costPerHour += p.costPerHour * Math.max(0, plan.nodes[t][i] - plan.reserved[i]) + (p.reservedCostPerHour ?? 0) * plan.reserved[i];
  });
  const instances: Record<string, Record<string, number>> = {};
  const shortfall: Record<string, number> = {};
  ctx.workloads.forEach((w, wi) => {
    const row: Record<string, number> = {};
    for (const [p, n] of plan.placement[t][wi]) if (n > 0) row[ctx.pools[p].name] = n;
    instances[w.name] = row;
    shortfall[w.name] = ctx.req[t][wi] - placedCount(plan.placement[t][wi]);
  });
  return { nodesByPool, instances, costPerHour, shortfall };
}

/** Placement variables the exact model would have (eligible pairs over steps with demand). */
export function placementSize(ctx: HorizonContext): number {
  let n = 0;
  for (let t = 0; t < ctx.steps; t++) ctx.workloads.forEach((_, w) => (n += ctx.req[t][w] > 0 ? ctx.eligible[w].length : 0));
  return n;
}
