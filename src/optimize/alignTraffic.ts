/**
 * Local searches on one step of a plan, after disaggregation.
 *
 * Traffic alignment (`alignTraffic`): a local search on one step of a plan that moves single
 * instances of workloads with traffic partners between pools so that each
 * pair's zone (and provider) shares match, as long as the traffic it saves
 * exceeds what it adds: the migration of the moved instance and, when the
 * target pool has no room, the price of one more node there for the step.
 *
 * An edge (a, b) with V GiB/h crosses ½ Σ_d |f_a(d) − f_b(d)| of its volume
 * (f: share of the needed instances in domain d, see docs/allocation.md), so
 * moving one instance of a from domain d to d' changes that sum by at most
 * 2 / N_a: the search is a sequence of strictly improving single moves and
 * stops. Every move keeps eligibility (tags, size), zone or provider spread,
 * per-node packing and pool capacity; a node is added only where the pool's
 * quota, maintenance, the provider quota and the budget leave room. Where
 * the target pool is full and may not grow (own racks at their limit, a
 * provider quota), the move may swap: instances of workloads without
 * traffic partners leave the target for the pool the moved instance frees,
 * when the traffic saved exceeds every start the swap adds. A move onto a
 * new node carries as many of the workload's instances as the node holds
 * (one alone may not pay for the node).
 *
 * Keep in place (`keepInPlace`): instances that started in a pool go back to
 * a pool where the workload ran more instances the step before, when that
 * pool's nodes have room (no node added).
 */
import { type HorizonContext, edgeCost, edgesByWorkload, eligibleSets, fitsPool, moveInstances, nodeShare, poolUse, ranBefore, spreadAllowsOneMore } from './horizon.ts';
import { budgetAllows, quotaAllows } from './stepPlacement.ts';

export interface AlignStep {
  /** Nodes per pool at this step (updated in place when a node is added). */
  readonly nodes: Int32Array;
  /** Instances per workload per pool at this step (updated in place). */
  readonly rows: Map<number, number>[];
  /** Reserved nodes per pool (a node within the reservation adds no price). */
  readonly reserved: Int32Array;
  /** Instances per workload per pool the step before (migration), if any. */
  readonly previous?: readonly ReadonlyMap<number, number>[];
  /** Instances per workload per pool the step after (a move also changes its starts), if any. */
  readonly next?: readonly ReadonlyMap<number, number>[];
}

/** Result: instances of workloads with traffic partners moved, nodes added, and instances swapped out of their way. */
export interface AlignResult {
  readonly moves: number;
  readonly nodesAdded: number;
  /** Instances of workloads without traffic partners moved to make room (swaps). */
  readonly swapped: number;
}

/** Most instances a swap moves out of the way for one instance. */
const MAX_SWAP_INSTANCES = 8;
/** Most workloads (largest instances first) a swap looks at in the target pool. */
const MAX_SWAP_CANDIDATES = 32;

/** Helpers over one step's rows and nodes, shared by the local searches below. */
function stepState(ctx: HorizonContext, t: number, step: AlignStep) {
  const { pools, workloads } = ctx;
  const { nodes: n, rows } = step;
  const edgesOf = edgesByWorkload(ctx);
  const used = poolUse(ctx, rows);
  const fits = (wi: number, q: number, nodes: number): boolean => fitsPool(ctx, wi, q, 1, nodes, used[q], rows[wi].get(q) ?? 0);
  const spreadOk = (wi: number, from: number, to: number): boolean => {
    const spread = workloads[wi].spread;
    // A move within one failure domain never changes what losing a domain leaves.
    const key = spread?.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
    return (spread !== undefined && key[from] === key[to]) || spreadAllowsOneMore(ctx, t, wi, rows[wi], to);
  };
  // swappableIn[p]: workloads without traffic partners that have instances in
  // pool p, largest share of one of its nodes first (built on first use,
  // dropped when a move changes who is in p).
  const swappableIn = new Map<number, number[]>();
  let members: Set<number>[] | undefined;
  const swappable = (p: number): number[] => {
    let list = swappableIn.get(p);
    if (!list) {
      if (!members) {
        members = pools.map(() => new Set<number>());
        rows.forEach((row, v) => {
          if (edgesOf[v].length === 0) for (const q of row.keys()) members![q].add(v);
        });
      }
      const shares = [...members[p]].map((v) => [nodeShare(pools[p], workloads[v].perInstance), v] as const);
      list = shares.sort((a, b) => b[0] - a[0] || a[1] - b[1]).map(([, v]) => v);
      swappableIn.set(p, list);
    }
    return list;
  };
  const move = (wi: number, from: number, to: number) => {
    // The swap index only follows workloads without partners, and only once built.
    if (!members || edgesOf[wi].length > 0) return moveInstances(ctx, rows, used, wi, from, to);
    const had = [rows[wi].has(from), rows[wi].has(to)];
    moveInstances(ctx, rows, used, wi, from, to);
    [from, to].forEach((p, i) => {
      if (had[i] === rows[wi].has(p)) return;
      if (had[i]) members![p].delete(wi);
      else members![p].add(wi);
      swappableIn.delete(p);
    });
  };
  /** Starts at this step and the next caused by w's instances in pool p (migration price applies). */
  const startsAt = (wi: number, p: number): number => {
    const x = rows[wi].get(p) ?? 0;
    const before = ranBefore(ctx, t, step.previous, wi, p);
    const after = step.next?.[wi].get(p);
    return Math.max(0, x - before) + (after === undefined ? 0 : Math.max(0, after - x));
  };
  const trafficOf = (wi: number): number => edgesOf[wi].reduce((sum, e) => sum + edgeCost(ctx, t, rows, e), 0);
  const nodePrice = (q: number): number => (n[q] >= step.reserved[q] ? pools[q].costPerHour * ctx.stepHours : 0) + 2 * ctx.churnPerNode;
  const canGrow = (q: number): boolean => n[q] < ctx.avail[t][q] && quotaAllows(ctx, t, n, q) && budgetAllows(ctx, t, n, q, step.reserved);

  /**
   * Room for one instance of wi in the full pool `to`, made by moving
   * instances of workloads without traffic partners (the MAX_SWAP_CANDIDATES
   * with the largest instances, largest first, at most MAX_SWAP_INSTANCES
   * instances) from `to` to `from`, the pool wi's instance leaves:
   * eligibility, spread, capacity and the per-node cut hold for all. Returns
   * the change in wi's traffic plus the starts all of them add, priced, and
   * the instances to move; undefined when no such set makes room.
   */
  const swapInto = (wi: number, from: number, to: number): { delta: number; out: number[] } | undefined => {
    const startsOf = (v: number) => startsAt(v, from) + startsAt(v, to);
    const base = trafficOf(wi);
    const wiBefore = startsOf(wi);
    move(wi, from, to);
    // Not worth looking further when the move alone, with room, would not pay for one more start.
    if (trafficOf(wi) - base + (startsOf(wi) - wiBefore) * ctx.migrationPerInstance >= -ctx.migrationPerInstance) {
      move(wi, to, from);
      return undefined;
    }
    // Starts of each workload moved out of the way, before its first move.
    const before = new Map<number, number>();
    const out: number[] = [];
    const candidates = swappable(to);
    for (let i = 0; i < Math.min(candidates.length, MAX_SWAP_CANDIDATES); i++) {
      const v = candidates[i];
      if (v === wi || !eligibleAt(v, from)) continue;
      while (out.length < MAX_SWAP_INSTANCES && !fitsNow(wi, to) && (rows[v].get(to) ?? 0) > 0 && fits(v, from, n[from]) && spreadOk(v, to, from)) {
        if (!before.has(v)) before.set(v, startsOf(v));
        move(v, to, from);
        out.push(v);
      }
      if (fitsNow(wi, to) || out.length >= MAX_SWAP_INSTANCES) break;
    }
    const fitted = fitsNow(wi, to);
    let starts = startsOf(wi) - wiBefore;
    for (const [v, b] of before) starts += startsOf(v) - b;
    const delta = trafficOf(wi) - base + starts * ctx.migrationPerInstance;
    for (const v of out) move(v, from, to);
    move(wi, to, from);
    return fitted && out.length > 0 ? { delta, out } : undefined;
  };
  /** Whether pool q's instances, as they are now, fit its nodes (after a tentative move into it). */
  const fitsNow = (wi: number, q: number): boolean => fitsPool(ctx, wi, q, 0, n[q], used[q], rows[wi].get(q) ?? 0);
  const eligible = eligibleSets(ctx);
  const eligibleAt = (v: number, p: number): boolean => eligible[v].has(p) && ctx.avail[t][p] > 0;

  return { n, rows, edgesOf, fits, spreadOk, move, startsAt, trafficOf, nodePrice, canGrow, swapInto };
}

export function alignTraffic(ctx: HorizonContext, t: number, step: AlignStep): AlignResult {
  const { n, rows, edgesOf, fits, spreadOk, move, startsAt, trafficOf, nodePrice, canGrow, swapInto } = stepState(ctx, t, step);
  let moves = 0;
  let nodesAdded = 0;
  let swapped = 0;
  const involved = [...new Set(ctx.traffic.flatMap((e) => (e.gibPerHour > 0 && e.a !== e.b ? [e.a, e.b] : [])))].sort((a, b) => a - b);
  // Each pass tries every single-instance move of every involved workload; a
  // move is kept only if it lowers traffic + migration (+ a node) strictly.
  for (let pass = 0; pass < 50; pass++) {
    let improved = false;
    for (const wi of involved) {
      if (ctx.req[t][wi] === 0) continue;
      // Zones and providers where some partner has instances: the only
      // targets that can lower the crossing. A provider counts on its own: a
      // workload whose zone spread keeps it out of its partner's zone still
      // saves the cross-provider price in another zone of that provider.
      const partnerDomains = new Set<string>();
      for (const e of edgesOf[wi]) for (const p of rows[e.a === wi ? e.b : e.a].keys()) partnerDomains.add(ctx.zoneKey[p]).add(ctx.providerKey[p]);
      const targets = ctx.eligible[wi].filter((q) => (partnerDomains.has(ctx.zoneKey[q]) || partnerDomains.has(ctx.providerKey[q])) && ctx.avail[t][q] > 0);
      let again = true;
      while (again) {
        again = false;
        const base = trafficOf(wi);
        if (base <= 1e-12) break;
        let best: { from: number; to: number; delta: number; grow: boolean; count?: number; swap?: { out: number[] } } | undefined;
        for (const from of [...rows[wi].keys()]) {
          for (const to of targets) {
            if (to === from || !spreadOk(wi, from, to)) continue;
            const room = fits(wi, to, n[to]);
            const grow = !room && fits(wi, to, n[to] + 1) && canGrow(to);
            if (!room && !grow) {
              const swap = swapInto(wi, from, to);
              if (swap && swap.delta < -1e-9 && (!best || swap.delta < best.delta)) best = { from, to, delta: swap.delta, grow: false, swap };
              continue;
            }
            const startsBefore = startsAt(wi, from) + startsAt(wi, to);
            // Into room: one instance (the search repeats). Onto a new node:
            // as many as it holds, since one instance alone may not pay for it.
            let count = 0;
            let bestCount = 0;
            let bestDelta = Infinity;
            do {
              move(wi, from, to);
              count++;
              const delta = trafficOf(wi) - base + (startsAt(wi, from) + startsAt(wi, to) - startsBefore) * ctx.migrationPerInstance + (grow ? nodePrice(to) : 0);
              if (delta < bestDelta) (bestDelta = delta), (bestCount = count);
            } while (grow && rows[wi].has(from) && fits(wi, to, n[to] + 1) && spreadOk(wi, from, to));
            for (let i = 0; i < count; i++) move(wi, to, from);
            if (bestDelta < -1e-9 && (!best || bestDelta < best.delta)) best = { from, to, delta: bestDelta, grow, count: bestCount };
          }
        }
        if (best) {
          if (best.grow) {
            n[best.to]++;
            nodesAdded++;
          }
          const count = best.count ?? 1;
          for (let i = 0; i < count; i++) move(wi, best.from, best.to);
          if (best.swap) {
            for (const v of best.swap.out) move(v, best.to, best.from);
            swapped += best.swap.out.length;
          }
          moves += count;
          improved = again = true;
        }
      }
    }
    if (!improved) break;
  }
  return { moves, nodesAdded, swapped };
}

/**
 * Keep in place: at step t, an instance of w that starts in pool q while w
 * has fewer instances than the step before in pool p is moved back to p when
 * p's nodes have room (no node is added), its spread holds, and the
 * migrations at t and t + 1 plus traffic fall. Node counts are unchanged;
 * the caller trims nodes the moves emptied. Returns instances moved.
 */
export function keepInPlace(ctx: HorizonContext, t: number, step: AlignStep): number {
  if (t === 0 || !step.previous || ctx.migrationPerInstance === 0) return 0;
  const { n, rows, edgesOf, fits, spreadOk, move, startsAt, trafficOf } = stepState(ctx, t, step);
  const previous = step.previous;
  let moves = 0;
  ctx.workloads.forEach((_, wi) => {
    for (;;) {
      const grown = [...rows[wi]].filter(([q, x]) => x > (previous[wi].get(q) ?? 0)).map(([q]) => q);
      const shrunk = [...previous[wi]].filter(([p, x]) => (rows[wi].get(p) ?? 0) < x && ctx.avail[t][p] > 0).map(([p]) => p);
      let done = false;
      for (const q of grown) {
        for (const p of shrunk) {
          if (!fits(wi, p, n[p]) || !spreadOk(wi, q, p)) continue;
          const traffic = edgesOf[wi].length ? trafficOf(wi) : 0;
          const starts = startsAt(wi, q) + startsAt(wi, p);
          move(wi, q, p);
          const delta = (startsAt(wi, q) + startsAt(wi, p) - starts) * ctx.migrationPerInstance + (edgesOf[wi].length ? trafficOf(wi) - traffic : 0);
          if (delta < -1e-12) {
            moves++;
            done = true;
            break;
          }
          move(wi, p, q);
        }
        if (done) break;
      }
      if (!done) break;
    }
  });
  return moves;
}
