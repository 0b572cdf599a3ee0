/**
 * Node counts that hold a plan's instances node by node. The allocation
 * models count capacity per pool in aggregate (plus a per-workload packing
 * cut), so they fill a pool's last node to the brim in CPU and memory at
 * once; a scheduler placing instances on individual nodes then needs more.
 *
 * `packPlan` packs every step's instances in every pool with the vector bin
 * packing heuristics (binpack.ts: first fit decreasing, then all of them where
 * that does not fit) and raises the pool's node count to what the packing
 * needs. Where the pool may not grow that far (its available nodes, or a
 * provider quota), the instances on the nodes beyond what it may run move to
 * other pools they may use (tags and zone spread kept), cheapest share of a
 * node first, and those pools are packed in turn. A step that still breaks a
 * quota or the budget is left as it was and reported. Reservations are
 * unchanged; the cost goes up by the added nodes and moves, and every lower
 * bound stays valid (it bounds a relaxation of this problem).
 */
import { type ItemType, type Packing, packWithin } from './binpack.ts';
import { type HorizonContext, type HorizonPlan, checkPlan, spreadAllowsOneMore } from './horizon.ts';

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
  /** Node-steps added over the plan, and instances moved to another pool so that they pack. */
  readonly addedNodeSteps: number;
  readonly movedInstances: number;
  /** Steps left as they were (their instances do not pack onto the nodes allowed), by pool. */
  readonly blocked: readonly PackBlocked[];
}

/** Rounds of pack, move overflow, pack the receiving pools; moves into room only in the first half, so the rest settle by adding nodes. */
const ROUNDS = 10;

type Row = Map<number, number>;

/** The instances of pool p in `rows` packed (packWithin its `have` nodes); undefined when it has none. */
function packPool(ctx: HorizonContext, rows: readonly Row[], p: number, have: number): Packing | undefined {
  const types: ItemType[] = [];
  ctx.workloads.forEach((w, wi) => {
    const count = rows[wi].get(p) ?? 0;
    if (count > 0) types.push({ name: String(wi), size: w.perInstance, count });
  });
  if (types.length === 0) return undefined;
  return packWithin(types, ctx.pools[p].nodeType.capacity, have);
}

/** Price of the share of one of pool q's nodes that one instance of workload wi takes (its larger share of CPU or memory). */
function shareCost(ctx: HorizonContext, wi: number, q: number): number {
  const c = ctx.pools[q].nodeType.capacity;
  const r = ctx.workloads[wi].perInstance;
  return ctx.pools[q].costPerHour * Math.max(r.cpuMillicores / c.cpuMillicores, r.memoryMiB / c.memoryMiB);
}

export function packPlan(ctx: HorizonContext, plan: HorizonPlan): PackedPlan {
  const nodes = plan.nodes.map((n) => Int32Array.from(n));
  const placement = plan.placement.map((rows) => rows.map((row) => new Map(row)));
  const current = (): HorizonPlan => ({ ...plan, nodes, placement });
  const blocked: PackBlocked[] = [];
  let added = 0;
  let moved = 0;
  for (let t = 0; t < ctx.steps; t++) {
    const before = Int32Array.from(nodes[t]);
    const rowsBefore = placement[t].map((row) => new Map(row));
    const rows = placement[t];
    // Pools that may not grow at this step: at their available nodes, or in a provider whose quota a raise broke.
    const capped = new Set<number>();
    let movedHere = 0;
    const stuck = new Map<number, PackBlocked>();
    // Pools to pack again: all at first, then those whose instances or node limit changed.
    const dirty = new Set(ctx.pools.map((_, p) => p));
    for (let round = 0; round < ROUNDS; round++) {
      let changed = false;
      // Aggregate room per pool (its nodes, plus nodes this round has decided to add for moved instances).
      const used = ctx.pools.map(() => [0, 0]);
      rows.forEach((row, wi) => {
        for (const [q, x] of row) {
          used[q][0] += x * ctx.workloads[wi].perInstance.cpuMillicores;
          used[q][1] += x * ctx.workloads[wi].perInstance.memoryMiB;
        }
      });
      const target = Int32Array.from(nodes[t]);
      const fitsRoom = (wi: number, q: number) => {
        const c = ctx.pools[q].nodeType.capacity;
        const r = ctx.workloads[wi].perInstance;
        return used[q][0] + r.cpuMillicores <= target[q] * c.cpuMillicores && used[q][1] + r.memoryMiB <= target[q] * c.memoryMiB;
      };
      const perInstance = (wi: number) => ctx.workloads[wi].perInstance;
      const shift = (wi: number, from: number, to: number) => {
        const r = perInstance(wi);
        rows[wi].set(from, (rows[wi].get(from) ?? 0) - 1);
        if (rows[wi].get(from) === 0) rows[wi].delete(from);
        rows[wi].set(to, (rows[wi].get(to) ?? 0) + 1);
        used[to][0] += r.cpuMillicores;
        used[to][1] += r.memoryMiB;
        used[from][0] -= r.cpuMillicores;
        used[from][1] -= r.memoryMiB;
      };
      /**
       * Moves what `spill` (nodes of pool p's packing) holds to other pools that may still grow
       * (moving into a full one only moves the problem): first those with room on the nodes they
       * have or were given in this pass, cheapest share of a node first; with `mayBuy`, else the
       * one whose extra node costs least, which the next moved instances then fill. With
       * `allOrNothing`, nothing moves unless everything can. Returns the instances left in p.
       */
      const moveOut = (p: number, spill: Packing['nodes'], mayBuy: boolean, allOrNothing: boolean): number => {
        const moves: [number, number][] = [];
        let left = 0;
        for (const node of spill) {
          for (const [name, count] of Object.entries(node.counts)) {
            const wi = Number(name);
            for (let k = 0; k < count; k++) {
              rows[wi].set(p, (rows[wi].get(p) ?? 0) - 1);
              const open = ctx.eligible[wi].filter((q) => q !== p && !capped.has(q) && nodes[t][q] < ctx.avail[t][q] && spreadAllowsOneMore(ctx, t, wi, rows[wi], q));
              rows[wi].set(p, (rows[wi].get(p) ?? 0) + 1);
              const byShare = (a: number, b: number) => shareCost(ctx, wi, a) - shareCost(ctx, wi, b) || a - b;
              let to = open.filter((q) => fitsRoom(wi, q)).sort(byShare)[0];
              if (to === undefined && mayBuy) {
                to = open.filter((q) => target[q] < ctx.avail[t][q]).sort((a, b) => ctx.pools[a].costPerHour - ctx.pools[b].costPerHour || byShare(a, b))[0];
                if (to !== undefined) target[to]++;
              }
              if (to === undefined) {
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
        if (!packed || packed.nodes.length <= nodes[t][p]) continue;
        const needed = packed.nodes.length;
        const allowed = capped.has(p) ? nodes[t][p] : ctx.avail[t][p];
        const c = ctx.pools[p].nodeType.capacity;
        const fill = (n: Packing['nodes'][number]) => n.used.cpuMillicores / c.cpuMillicores + n.used.memoryMiB / c.memoryMiB;
        const byFill = [...packed.nodes].sort((a, b) => fill(b) - fill(a));
        // Room elsewhere costs a few instance starts; a node costs its price: try the room first.
        if (round < ROUNDS / 2 && nodes[t][p] > 0 && moveOut(p, byFill.slice(nodes[t][p]), false, true) === 0) continue;
        if (needed <= allowed) {
          nodes[t][p] = needed;
          changed = true;
          continue;
        }
        nodes[t][p] = Math.max(nodes[t][p], allowed);
        // Keep the fullest `allowed` nodes; what the others hold moves.
        const left = moveOut(p, byFill.slice(allowed), true, false);
        if (left > 0) stuck.set(p, { step: t, pool: ctx.pools[p].name, nodesNeeded: needed, nodesAllowed: allowed, reason: `pool '${ctx.pools[p].name}' may run ${allowed} node(s) at step ${t} and no other pool takes its last ${left} instance(s)` });
      }
      // A provider quota or the budget broken by the raises: that provider's pools stop growing; retry.
      const broken = checkPlan(ctx, current()).filter((v) => v.startsWith(`step ${t}:`));
      const quota = broken.find((v) => /provider '([^']+)'/.test(v));
      if (quota) {
        const provider = /provider '([^']+)'/.exec(quota)![1];
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
    const broken = checkPlan(ctx, current()).filter((v) => v.startsWith(`step ${t}:`));
    // Every pool packed since it last changed fits its nodes (or is stuck); only the ones changed in the last round are packed again.
    const unpacked = stuck.size > 0 || [...dirty].some((p) => (packPool(ctx, rows, p, nodes[t][p])?.nodes.length ?? 0) > nodes[t][p]);
    if (broken.length > 0 || unpacked) {
      // Leave the step as the model had it and say why.
      nodes[t] = before;
      placement[t] = rowsBefore;
      if (stuck.size > 0) blocked.push(...stuck.values());
      else if (broken.length > 0) blocked.push({ step: t, pool: '-', nodesNeeded: 0, nodesAllowed: 0, reason: broken[0].replace(/^step \d+: /, '') });
      else blocked.push({ step: t, pool: '-', nodesNeeded: 0, nodesAllowed: 0, reason: `moving instances did not settle in ${ROUNDS} rounds` });
      continue;
    }
    for (let p = 0; p < ctx.pools.length; p++) added += Math.max(0, nodes[t][p] - before[p]);
    moved += movedHere;
  }
  return { plan: current(), addedNodeSteps: added, movedInstances: moved, blocked };
}
