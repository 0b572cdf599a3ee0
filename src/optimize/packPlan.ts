/**
 * Node counts that hold a plan's instances node by node. The allocation
 * models count capacity per pool in aggregate (plus a per-workload packing
 * cut), so they fill a pool's last node to the brim in CPU and memory at
 * once; a scheduler placing instances on individual nodes then needs more.
 *
 * `packPlan` packs every step's instances in every pool with the vector bin
 * packing heuristics (binpack.ts: the first that fits, else the best of all)
 * and raises the pool's node count to what the packing needs, unless moving
 * what the extra nodes would hold into room other pools have costs less (in
 * starts and traffic made to cross zones). Where the pool may not grow that
 * far (its available nodes, or a provider quota), it keeps the nodes holding
 * instances with traffic partners, then its fullest ones; the instances on
 * the others move to other pools they may use (tags and zone spread kept):
 * to room where the share of a node plus the traffic the move makes cross
 * costs least, else to a new node where its price plus that traffic costs
 * least; those pools are packed in turn. Then on-demand nodes are
 * emptied node by node into room elsewhere where that saves more than the
 * moves cost (`consolidate`). A step that still breaks a quota or the budget
 * is left as it was and reported. Reservations are chosen again for the
 * packed node counts; every lower bound stays valid (it bounds a relaxation
 * of this problem).
 */
import { type ItemType, type PackedNode, type Packing, packWithin } from './binpack.ts';
import { chooseReserved } from './decompose.ts';
import { type HorizonContext, type HorizonPlan, addToRow, edgeCost, edgesByWorkload, fitsPool, moveInstances, networkOf, nodeShare, poolUse, spreadAllowsOneMore, stepViolations } from './horizon.ts';

export interface PackBlocked {
  readonly step: number;
  readonly pool: string;
  /** Nodes packing needs, and the most the step allows. */
  readonly nodesNeeded: number;
  readonly nodesAllowed: number;
  /** Why: the pool's available nodes, a provider quota or the budget (checkPlan's words). */
  readonly reason: string;
}

export interface PackedPlan {
  readonly plan: HorizonPlan;
  /** Node-steps added over the plan, node-steps below it (nodes emptied into room elsewhere), and instances moved to another pool. */
  readonly addedNodeSteps: number;
  readonly removedNodeSteps: number;
  readonly movedInstances: number;
  /** Steps left as they were (their instances do not pack onto the nodes allowed), by pool. */
  readonly blocked: readonly PackBlocked[];
}

/** Rounds of pack, move overflow, pack the receiving pools; moves into room only in the first half, so the rest settle by adding nodes. */
const ROUNDS = 10;

/** Heuristic packings a pool may refuse in one step's consolidation before it neither gives nor takes instances there (each check packs the whole pool). */
const REFUSALS = 3;

type Row = Map<number, number>;

/** The instances of pool p in `rows` packed (packWithin its `have` nodes, trying the first `heuristics`); undefined when it has none. */
function packPool(ctx: HorizonContext, rows: readonly Row[], p: number, have: number, heuristics?: number, countOnly?: boolean): Packing | undefined {
  const types: ItemType[] = [];
  for (const wi of usersOf(ctx)[p]) {
    const count = rows[wi].get(p) ?? 0;
    if (count > 0) types.push({ name: ctx.workloads[wi].name, size: ctx.workloads[wi].perInstance, count });
  }
  if (types.length === 0) return undefined;
  return packWithin(types, ctx.pools[p].nodeType.capacity, have, { heuristics, countOnly });
}

const users = new WeakMap<HorizonContext, number[][]>();

/** The workloads that may use each pool, in workload order (a pool's instances are found without reading every workload). */
function usersOf(ctx: HorizonContext): number[][] {
  let byPool = users.get(ctx);
  if (!byPool) {
    byPool = ctx.pools.map(() => []);
    ctx.eligible.forEach((pools, wi) => {
      for (const p of pools) byPool![p].push(wi);
    });
    users.set(ctx, byPool);
  }
  return byPool;
}

/** Price of the share of one of pool q's nodes that one instance of workload wi takes (its larger share of CPU or memory). */
function shareCost(ctx: HorizonContext, wi: number, q: number): number {
  return ctx.pools[q].costPerHour * nodeShare(ctx.pools[q], ctx.workloads[wi].perInstance);
}

export function packPlan(ctx: HorizonContext, plan: HorizonPlan): PackedPlan {
  const nodes = plan.nodes.map((n) => Int32Array.from(n));
  const placement = plan.placement.map((rows) => rows.map((row) => new Map(row)));
  const current = (): HorizonPlan => ({ ...plan, nodes, placement });
  const blocked: PackBlocked[] = [];
  let added = 0;
  let removed = 0;
  let moved = 0;
  const edgesOf = edgesByWorkload(ctx);
  for (let t = 0; t < ctx.steps; t++) {
    const before = Int32Array.from(nodes[t]);
    const rowsBefore = placement[t].map((row) => new Map(row));
    const rows = placement[t];
    /** Change in this step's traffic cost if one instance of wi moved from p to q. */
    const trafficDelta = (wi: number, p: number, q: number): number => {
      if (edgesOf[wi].length === 0) return 0;
      const cost = () => edgesOf[wi].reduce((sum, e) => sum + edgeCost(ctx, t, rows, e), 0);
      const base = cost();
      addToRow(rows[wi], p, -1);
      addToRow(rows[wi], q, 1);
      const after = cost();
      addToRow(rows[wi], q, -1);
      addToRow(rows[wi], p, 1);
      return after - base;
    };
    // Pools that may not grow at this step: at their available nodes, or in a provider whose quota a raise broke.
    const capped = new Set<number>();
    let movedHere = 0;
    const stuck = new Map<number, PackBlocked>();
    // The nodes of each pool's latest packing (valid for the pools not dirty).
    const packings: (readonly PackedNode[] | undefined)[] = ctx.pools.map(() => undefined);
    // Pools to pack again: all at first, then those whose instances or node limit changed.
    const dirty = new Set(ctx.pools.map((_, p) => p));
    for (let round = 0; round < ROUNDS; round++) {
      let changed = false;
      // Aggregate room per pool (its nodes, plus nodes this round has decided to add for moved instances).
      const used = poolUse(ctx, rows);
      const target = Int32Array.from(nodes[t]);
      const fitsRoom = (wi: number, q: number) => fitsPool(ctx, wi, q, 1, target[q], used[q], rows[wi].get(q) ?? 0);
      const shift = (wi: number, from: number, to: number) => moveInstances(ctx, rows, used, wi, from, to);
      /**
       * Moves what `spill` (nodes of pool p's packing) holds to other pools that may still grow
       * (moving into a full one only moves the problem): first those with room on the nodes they
       * have or were given in this pass, the share of a node it takes plus the traffic it makes
       * cross first; with `mayBuy`, else the one whose extra node (plus that traffic) costs least,
       * which the next moved instances then fill. With `worth` (all or nothing), nothing moves
       * unless everything can for less than `worth` in starts and traffic. Returns the instances left in p.
       */
      const moveOut = (p: number, spill: Packing['nodes'], mayBuy: boolean, worth?: number): number => {
        const allOrNothing = worth !== undefined;
        const moves: [number, number][] = [];
        let left = 0;
        let price = 0;
        for (const node of spill) {
          for (const [name, count] of Object.entries(node.counts)) {
            const wi = ctx.workloadIndex.get(name)!;
            for (let k = 0; k < count; k++) {
              addToRow(rows[wi], p, -1);
              const open = ctx.eligible[wi].filter((q) => q !== p && !capped.has(q) && nodes[t][q] < ctx.avail[t][q] && spreadAllowsOneMore(ctx, t, wi, rows[wi], q));
              addToRow(rows[wi], p, 1);
              const traffic = new Map(open.map((q) => [q, trafficDelta(wi, p, q)]));
              const roomCost = (q: number) => shareCost(ctx, wi, q) * ctx.stepHours + traffic.get(q)!;
              let to = least(open.filter((q) => fitsRoom(wi, q)), roomCost);
              if (to === undefined && mayBuy) {
                to = least(open.filter((q) => target[q] < ctx.avail[t][q]), (q) => ctx.pools[q].costPerHour * ctx.stepHours + traffic.get(q)! + shareCost(ctx, wi, q) * 1e-6);
                if (to !== undefined) target[to]++;
              }
              if (to !== undefined) price += ctx.migrationPerInstance + traffic.get(to)!;
              if (to === undefined || (worth !== undefined && price > worth)) {
                left++;
                if (allOrNothing) {
                  for (const [w, q] of moves.reverse()) shift(w, q, p);
                  return left;
                }
                continue;
              }
              shift(wi, p, to);
              moves.push([wi, to]);
            }
          }
        }
        for (const [, q] of moves) dirty.add(q);
        movedHere += moves.length;
        if (moves.length > 0) changed = true;
        return left;
      };
      const toPack = [...dirty].sort((a, b) => a - b);
      dirty.clear();
      for (const p of toPack) {
        stuck.delete(p);
        const packed = packPool(ctx, rows, p, nodes[t][p]);
        packings[p] = packed?.nodes;
        if (!packed || packed.nodes.length <= nodes[t][p]) continue;
        const needed = packed.nodes.length;
        const allowed = capped.has(p) ? nodes[t][p] : ctx.avail[t][p];
        const c = ctx.pools[p].nodeType.capacity;
        const fill = (n: Packing['nodes'][number]) => n.used.cpuMillicores / c.cpuMillicores + n.used.memoryMiB / c.memoryMiB;
        // Nodes whose instances have traffic partners stay (moving them makes traffic cross), then the fullest.
        const partnered = (n: Packing['nodes'][number]) => Object.keys(n.counts).reduce((sum, name) => sum + edgesOf[ctx.workloadIndex.get(name)!].reduce((v, e) => v + e.gibPerHour, 0), 0);
        const byFill = [...packed.nodes].sort((a, b) => partnered(b) - partnered(a) || fill(b) - fill(a));
        // Room elsewhere costs a few instance starts; a node costs its price: try the room first.
        const extraNodes = ctx.pools[p].costPerHour * ctx.stepHours * (needed - nodes[t][p]);
        if (round < ROUNDS / 2 && nodes[t][p] > 0 && moveOut(p, byFill.slice(nodes[t][p]), false, extraNodes) === 0) {
          packings[p] = byFill.slice(0, nodes[t][p]);
          continue;
        }
        if (needed <= allowed) {
          nodes[t][p] = needed;
          changed = true;
          continue;
        }
        nodes[t][p] = Math.max(nodes[t][p], allowed);
        // Keep the fullest `allowed` nodes; what the others hold moves.
        const left = moveOut(p, byFill.slice(allowed), true);
        packings[p] = byFill.slice(0, allowed);
        if (left > 0) stuck.set(p, { step: t, pool: ctx.pools[p].name, nodesNeeded: needed, nodesAllowed: allowed, reason: `pool '${ctx.pools[p].name}' may run ${allowed} node(s) at step ${t} and no other pool takes its last ${left} instance(s)` });
      }
      // A provider quota or the budget broken by the raises: that provider's pools stop growing; retry.
      const quota = stepViolations(ctx, current(), t).find((v) => v.kind === 'quota');
      if (quota) {
        const provider = quota.provider;
        ctx.pools.forEach((pool, p) => {
          if (pool.provider === provider && !capped.has(p)) {
            capped.add(p);
            nodes[t][p] = before[p];
            dirty.add(p);
          }
        });
        changed = true;
      }
      if (!changed) break;
    }
    const broken = stepViolations(ctx, current(), t);
    // Every pool packed since it last changed fits its nodes (or is stuck); only the ones changed in the last round are packed again.
    for (const p of dirty) packings[p] = packPool(ctx, rows, p, nodes[t][p])?.nodes;
    const unpacked = stuck.size > 0 || [...dirty].some((p) => (packings[p]?.length ?? 0) > nodes[t][p]);
    if (broken.length > 0 || unpacked) {
      // Leave the step as the model had it and say why.
      nodes[t] = before;
      placement[t] = rowsBefore;
      if (stuck.size > 0) blocked.push(...stuck.values());
      else if (broken.length > 0) blocked.push({ step: t, pool: '-', nodesNeeded: 0, nodesAllowed: 0, reason: broken[0].message.replace(/^step \d+: /, '') });
      else blocked.push({ step: t, pool: '-', nodesNeeded: 0, nodesAllowed: 0, reason: `moving instances did not settle in ${ROUNDS} rounds` });
      continue;
    }
    const consolidated = consolidate(ctx, t, nodes, rows, packings, plan.reserved, trafficDelta);
    for (let p = 0; p < ctx.pools.length; p++) {
      added += Math.max(0, nodes[t][p] - before[p]);
      removed += Math.max(0, before[p] - nodes[t][p]);
    }
    moved += movedHere + consolidated.moved;
  }
  // The node counts changed: the reservations that suit them may too.
  const packed = current();
  return { plan: { ...packed, reserved: chooseReserved(ctx, packed) }, addedNodeSteps: added, removedNodeSteps: removed, movedInstances: moved, blocked };
}

/** The element of `xs` with the least `cost` (the first of equals), or undefined when empty. */
function least(xs: readonly number[], cost: (x: number) => number): number | undefined {
  let best: number | undefined;
  let bestCost = Infinity;
  for (const x of xs) {
    const c = cost(x);
    if (c < bestCost) {
      best = x;
      bestCost = c;
    }
  }
  return best;
}

interface Bin {
  readonly pool: number;
  /** Free CPU, memory and network (Infinity where the node type does not limit it). */
  readonly free: [number, number, number];
  /** Instances by workload index. */
  readonly counts: Map<number, number>;
  gone: boolean;
}

/**
 * Node by node consolidation of one packed step: the least loaded nodes of
 * pools with nodes on demand (above their reservation and minimum) are
 * emptied where every instance on them fits room on another node, of the
 * same pool (free) or of another pool it may use (tags and zone spread kept;
 * priced at two starts, going and coming back, plus the traffic it makes
 * cross), and the node's price for the step, with its churn, exceeds those
 * moves, and the pools it changes still pack with the heuristics (binpack.ts:
 * what checks and reports use). Each node is tried once, least loaded first;
 * a pool whose packing refused REFUSALS times is left alone. Changes `nodes[t]` and
 * `rows` in place; returns the instances moved to another pool.
 */
function consolidate(
  ctx: HorizonContext,
  t: number,
  nodes: Int32Array[],
  rows: Map<number, number>[],
  packings: readonly (readonly PackedNode[] | undefined)[],
  reserved: Int32Array,
  trafficDelta: (wi: number, p: number, q: number) => number,
): { moved: number } {
  const bins: Bin[] = [];
  const binsOf: number[][] = ctx.pools.map(() => []);
  ctx.pools.forEach((pool, p) => {
    const c = pool.nodeType.capacity;
    const packed = packings[p] ?? [];
    for (let k = 0; k < nodes[t][p]; k++) {
      const node = packed[k];
      binsOf[p].push(bins.length);
      bins.push({
        pool: p,
        free: node ? [node.free.cpuMillicores, node.free.memoryMiB, node.free.networkMbps ?? Infinity] : [c.cpuMillicores, c.memoryMiB, c.networkMbps ?? Infinity],
        counts: new Map(node ? Object.entries(node.counts).map(([name, n]) => [ctx.workloadIndex.get(name)!, n]) : []),
        gone: false,
      });
    }
  });
  const size = (wi: number, q: number): [number, number, number] => {
    const r = ctx.workloads[wi].perInstance;
    return [r.cpuMillicores, r.memoryMiB, networkOf(ctx.pools[q], r)];
  };
  const fitsIn = (b: Bin, s: readonly number[]) => s[0] <= b.free[0] + 1e-9 && s[1] <= b.free[1] + 1e-9 && s[2] <= b.free[2] + 1e-9;
  const load = (b: Bin) => {
    const c = ctx.pools[b.pool].nodeType.capacity;
    return Math.max(1 - b.free[0] / c.cpuMillicores, 1 - b.free[1] / c.memoryMiB);
  };
  const churnOf = (p: number, n: number) => {
    const before = t === 0 ? ctx.initialNodes[p] : nodes[t - 1][p];
    const after = t + 1 < ctx.steps ? nodes[t + 1][p] : n;
    return ctx.churnPerNode * (Math.abs(n - before) + Math.abs(after - n));
  };
  const move = (wi: number, from: Bin, to: Bin, sign: 1 | -1) => {
    const s = size(wi, from.pool);
    for (let d = 0; d < 3; d++) {
      from.free[d] += sign * s[d];
      to.free[d] -= sign * s[d];
    }
    from.counts.set(wi, (from.counts.get(wi) ?? 0) - sign);
    to.counts.set(wi, (to.counts.get(wi) ?? 0) + sign);
    if (from.pool !== to.pool) {
      addToRow(rows[wi], from.pool, -sign);
      addToRow(rows[wi], to.pool, sign);
    }
  };
  let moved = 0;
  // Pools whose heuristic packing refused what the nodes hold, by count: after REFUSALS they are left alone this step.
  const refusals = new Int32Array(ctx.pools.length);
  const order = bins.map((_, i) => i).sort((a, b) => load(bins[a]) - load(bins[b]) || a - b);
  for (const i of order) {
    const bin = bins[i];
    const p = bin.pool;
    if (refusals[p] >= REFUSALS || nodes[t][p] <= reserved[p] || nodes[t][p] - 1 < Math.min(ctx.minNodes[p], ctx.avail[t][p])) continue;
    const saving = ctx.pools[p].costPerHour * ctx.stepHours + churnOf(p, nodes[t][p]) - churnOf(p, nodes[t][p] - 1);
    let price = 0;
    const done: [number, Bin][] = [];
    const items = [...bin.counts].filter(([, n]) => n > 0).sort((a, b) => nodeShare(ctx.pools[p], ctx.workloads[b[0]].perInstance) - nodeShare(ctx.pools[p], ctx.workloads[a[0]].perInstance));
    let ok = true;
    for (const [wi, n] of items) {
      for (let k = 0; k < n && ok; k++) {
        const same = binsOf[p].find((j) => j !== i && !bins[j].gone && fitsIn(bins[j], size(wi, p)));
        let to = same === undefined ? undefined : bins[same];
        if (!to) {
          // Room on another pool's node, spread kept (counted without the instance that moves).
          const rooms: Bin[] = [];
          addToRow(rows[wi], p, -1);
          for (const q of ctx.eligible[wi]) {
            if (q === p || refusals[q] >= REFUSALS || !spreadAllowsOneMore(ctx, t, wi, rows[wi], q)) continue;
            const room = binsOf[q].find((j) => !bins[j].gone && fitsIn(bins[j], size(wi, q)));
            if (room !== undefined) rooms.push(bins[room]);
          }
          addToRow(rows[wi], p, 1);
          let best = Infinity;
          for (const room of rooms) {
            const cost = 2 * ctx.migrationPerInstance + trafficDelta(wi, p, room.pool);
            if (cost < best) {
              best = cost;
              to = room;
            }
          }
          if (to) price += best;
        }
        if (!to || price >= saving) {
          ok = false;
          break;
        }
        move(wi, bin, to, 1);
        done.push([wi, to]);
      }
      if (!ok) break;
    }
    // The heuristics must find the packing too (what checks and reports use, Balance(5) and first fit
    // decreasing first): pack the pools that changed.
    const fitsHeuristically = (q: number, have: number) => (packPool(ctx, rows, q, have, 2, true)?.nodes.length ?? 0) <= have;
    const changed = [...new Set(done.map(([, to]) => to.pool))].filter((q) => q !== p);
    // Receivers first: they fail most often, and a pool given a few more instances is the cheaper check.
    const refused = ok ? [...changed, p].find((q) => !fitsHeuristically(q, q === p ? nodes[t][p] - 1 : nodes[t][q])) : undefined;
    if (refused !== undefined) {
      ok = false;
      refusals[refused]++;
    }
    if (!ok) {
      for (const [wi, to] of done.reverse()) move(wi, bin, to, -1);
      continue;
    }
    bin.gone = true;
    nodes[t][p]--;
    moved += done.filter(([, to]) => to.pool !== p).length;
  }
  return { moved };
}
