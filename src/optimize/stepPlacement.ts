/**
 * One step's placement while the decomposition builds it: nodes per pool,
 * resources used per pool and instances per workload per pool, with the
 * moves the disaggregation makes on them (place first-fit or balanced, grow a
 * node where it is cheapest, start over). Every move keeps per-pool capacity,
 * the per-node packing cut, eligibility, maintenance and zone/provider spread;
 * growth also keeps pool and provider quotas and the budget.
 */
import { type HorizonContext, addUse, eligibleSets, fitsPool, perNode, survivors } from './horizon.ts';

export class StepPlacement {
  /** CPU, memory and network used per pool. */
  used: number[][];
  /** Instances per workload per pool. */
  rows: Map<number, number>[];
  /** Workloads with instances per pool. */
  private residents: Set<number>[];
  private readonly eligible: readonly ReadonlySet<number>[];

  constructor(
    private readonly ctx: HorizonContext,
    readonly t: number,
    /** Nodes per pool (grown in place). */
    readonly nodes: Int32Array,
    /** Instances per workload per pool the step before, if any. */
    private readonly previous: readonly ReadonlyMap<number, number>[] | undefined,
    /** Reserved nodes per pool (free to grow into). */
    private readonly reserved: Int32Array,
  ) {
    this.used = ctx.pools.map(() => [0, 0, 0]);
    this.rows = ctx.workloads.map(() => new Map());
    this.residents = ctx.pools.map(() => new Set());
    this.eligible = eligibleSets(ctx);
  }

  /** Whether `count` more instances of w fit pool p's current nodes. */
  fits(wi: number, p: number, count: number): boolean {
    return fitsPool(this.ctx, wi, p, count, this.nodes[p], this.used[p], this.rows[wi].get(p) ?? 0);
  }

  put(wi: number, p: number, count: number): void {
    addUse(this.ctx, this.used[p], wi, p, count);
    const x = (this.rows[wi].get(p) ?? 0) + count;
    if (x > 0) this.rows[wi].set(p, x), this.residents[p].add(wi);
    else this.rows[wi].delete(p), this.residents[p].delete(wi);
  }

  /** How many more instances of w pool p's failure domain may hold: at most req − target per domain, so losing it leaves the target. */
  domainCap(wi: number, p: number): number {
    const { ctx, t } = this;
    const w = ctx.workloads[wi];
    const target = ctx.spreadTarget[t][wi];
    if (!w.spread || target === 0) return Infinity;
    const key = w.spread.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
    let inDomain = 0;
    for (const [q, c] of this.rows[wi]) if (key[q] === key[p]) inDomain += c;
    return Math.max(0, ctx.req[t][wi] - target - inDomain);
  }

  /**
   * First fit into `candidates` (the pools w ran in the step before first,
   * then the caller's order), as many at a time as fit; workloads with a
   * spread go one at a time round-robin. Returns what is left.
   */
  placeInto(wi: number, candidates: readonly number[], count: number): number {
    const { ctx, t } = this;
    let left = count;
    const prev = this.previous?.[wi];
    const order = [...candidates].sort((a, b) => (prev?.get(b) ?? 0) - (prev?.get(a) ?? 0));
    const spread = ctx.spreadTarget[t][wi] > 0;
    let progress = true;
    while (left > 0 && progress) {
      progress = false;
      for (const p of order) {
        if (left === 0) break;
        if (ctx.avail[t][p] === 0 || !this.eligible[wi].has(p)) continue;
        let k = Math.min(left, spread ? 1 : left, this.domainCap(wi, p));
        while (k > 0 && !this.fits(wi, p, k)) k = Math.floor(k / 2);
        if (k > 0) {
          this.put(wi, p, k);
          left -= k;
          progress = true;
        }
      }
    }
    return left;
  }

  /**
   * Balanced placement into a group's pools: first back where the workload
   * ran the step before, then one instance at a time into the pool whose
   * scarcer resource keeps the largest share free afterwards, so a group's
   * pools fill in step in CPU and memory instead of one after the other.
   * Returns what is left.
   */
  placeBalanced(wi: number, candidates: readonly number[], count: number): number {
    const { ctx, t } = this;
    let left = count;
    const prev = this.previous?.[wi];
    if (prev) {
      for (const [p, x] of prev) {
        if (left === 0) break;
        if (ctx.avail[t][p] === 0 || !this.eligible[wi].has(p) || !candidates.includes(p)) continue;
        let k = Math.min(left, x - (this.rows[wi].get(p) ?? 0), this.domainCap(wi, p));
        while (k > 0 && !this.fits(wi, p, k)) k = Math.floor(k / 2);
        if (k > 0) this.put(wi, p, k), (left -= k);
      }
    }
    const r = ctx.workloads[wi].perInstance;
    const usable = candidates.filter((p) => ctx.avail[t][p] > 0 && this.eligible[wi].has(p));
    while (left > 0) {
      let best = -1;
      let bestScore = -Infinity;
      for (const p of usable) {
        if (this.domainCap(wi, p) <= 0 || !this.fits(wi, p, 1)) continue;
        const c = ctx.pools[p].nodeType.capacity;
        const n = this.nodes[p];
        const score = Math.min((n * c.cpuMillicores - this.used[p][0] - r.cpuMillicores) / c.cpuMillicores, (n * c.memoryMiB - this.used[p][1] - r.memoryMiB) / c.memoryMiB);
        if (score > bestScore) (bestScore = score), (best = p);
      }
      if (best < 0) break;
      this.put(wi, best, 1);
      left--;
    }
    return left;
  }

  /** Repair: adds nodes one at a time where one is cheapest per instance of w it will hold (among `among`), placing `count` instances. Returns what is left. */
  grow(wi: number, count: number, among: readonly number[] = this.ctx.eligible[wi]): number {
    let left = count;
    while (left > 0) {
      const p = this.cheapestGrowable(wi, left, among);
      if (p < 0) break;
      this.nodes[p]++;
      left = this.placeInto(wi, [p], left);
    }
    return left;
  }

  /**
   * Contention: makes room for one more instance of w in pool p by removing
   * instances of workloads of lower effective priority (of any other
   * workload when `forMinimum`: a guaranteed minimum goes before every
   * priority), only above their `floor` (guaranteed minimum or spread
   * target) and keeping their spread, lowest priority first. Returns whether
   * w now fits; when it cannot be made to fit, nothing is removed.
   */
  evictFor(wi: number, p: number, floor: (v: number) => number, forMinimum = false): boolean {
    const { ctx, t } = this;
    if (this.fits(wi, p, 1)) return true;
    const mine = ctx.priority[t][wi];
    const victims = [...this.residents[p]]
      .filter((v) => v !== wi && (forMinimum || ctx.priority[t][v] < mine))
      .sort((a, b) => ctx.priority[t][a] - ctx.priority[t][b] || ctx.workloads[b].perInstance.cpuMillicores - ctx.workloads[a].perInstance.cpuMillicores || a - b);
    const removed: number[] = [];
    for (const v of victims) {
      while ((this.rows[v].get(p) ?? 0) > 0 && !this.fits(wi, p, 1)) {
        this.put(v, p, -1);
        const { placed, surviving } = survivors(ctx, v, this.rows[v]);
        if (placed < floor(v) || surviving < ctx.spreadTarget[t][v]) {
          this.put(v, p, 1);
          break;
        }
        removed.push(v);
      }
      if (this.fits(wi, p, 1)) return true;
    }
    for (const v of removed) this.put(v, p, 1);
    return false;
  }

  /** Empties the placement (nodes stay). */
  clear(): void {
    for (const u of this.used) u.fill(0);
    for (const r of this.rows) r.clear();
    for (const r of this.residents) r.clear();
  }

  snapshot(): { rows: Map<number, number>[]; used: number[][]; nodes: Int32Array } {
    return { rows: this.rows.map((r) => new Map(r)), used: this.used.map((u) => [...u]), nodes: Int32Array.from(this.nodes) };
  }

  restore(s: { rows: Map<number, number>[]; used: number[][]; nodes: Int32Array }): void {
    this.rows = s.rows;
    this.used = s.used;
    this.nodes.set(s.nodes);
    this.residents = this.ctx.pools.map(() => new Set());
    this.rows.forEach((row, wi) => row.forEach((_, p) => this.residents[p].add(wi)));
  }

  /** The pool among `among` where one more node is cheapest per instance of w it will hold (at most `need`), with quota, maintenance, spread and budget room; −1 if none. */
  private cheapestGrowable(wi: number, need: number, among: readonly number[]): number {
    const { ctx, t, nodes: n, reserved } = this;
    const r = ctx.workloads[wi].perInstance;
    let best = -1;
    let bestCost = Infinity;
    let spend = 0;
    ctx.pools.forEach((p, i) => {
      spend += (p.costPerHour * Math.max(0, n[i] - reserved[i]) + (p.reservedCostPerHour ?? 0) * reserved[i]) * ctx.stepHours;
    });
    for (const p of among) {
      if (n[p] >= ctx.avail[t][p] || this.domainCap(wi, p) <= 0) continue;
      const pool = ctx.pools[p];
      const extra = n[p] >= reserved[p] ? pool.costPerHour * ctx.stepHours : 0;
      if (ctx.budget && spend + extra > ctx.budget[t] + 1e-9) continue;
      if (!quotaAllows(ctx, t, n, p)) continue;
      // Per instance it will hold: a large node for the last few instances is mostly idle.
      const perInstance = extra / Math.max(1, Math.min(perNode(pool, r), need));
      if (perInstance < bestCost) {
        bestCost = perInstance;
        best = p;
      }
    }
    return best;
  }
}

/** Whether one more node in pool p keeps its provider's quotas at step t. */
export function quotaAllows(ctx: HorizonContext, t: number, n: ArrayLike<number>, p: number): boolean {
  const provider = ctx.pools[p].provider;
  for (const q of ctx.quotas) {
    if (q.provider !== provider) continue;
    let nodes = 1;
    let cpu = ctx.pools[p].nodeType.capacity.cpuMillicores;
    let mem = ctx.pools[p].nodeType.capacity.memoryMiB;
    ctx.pools.forEach((pool, i) => {
      if (pool.provider !== provider) return;
      nodes += n[i];
      cpu += n[i] * pool.nodeType.capacity.cpuMillicores;
      mem += n[i] * pool.nodeType.capacity.memoryMiB;
    });
    if ((q.maxNodes !== undefined && nodes > q.maxNodes) || (q.maxCpuMillicores !== undefined && cpu > q.maxCpuMillicores) || (q.maxMemoryMiB !== undefined && mem > q.maxMemoryMiB)) return false;
  }
  return true;
}

/** Whether one more node in pool p keeps step t within its budget (reserved nodes paid whatever runs). */
export function budgetAllows(ctx: HorizonContext, t: number, n: ArrayLike<number>, p: number, reserved: Int32Array): boolean {
  if (!ctx.budget) return true;
  let spend = 0;
  ctx.pools.forEach((pool, i) => {
    spend += (pool.costPerHour * Math.max(0, n[i] + (i === p ? 1 : 0) - reserved[i]) + (pool.reservedCostPerHour ?? 0) * reserved[i]) * ctx.stepHours;
  });
  return spend <= ctx.budget[t] + 1e-9;
}
