/**
 * Vector bin packing: instances (vectors of CPU, memory and network) onto the
 * individual nodes of a pool. The allocation MIP counts capacity per pool in
 * aggregate; this says whether the instances really fit node by node, how
 * many nodes packing needs, how far that can be from optimal, and how much
 * capacity is left free but unusable (fragmented or stranded).
 *
 * Heuristics (Panigrahy, Talwar, Uyeda and Wieder, "Heuristics for Vector Bin
 * Packing", Microsoft Research, 2011): item-centric first fit decreasing and
 * best fit decreasing, with the items ordered by a scalar size of their vector
 * normalised by the node's capacity (sum, max or Euclidean norm of the
 * normalised components), and the bin-centric DotProduct heuristic (fill one
 * node at a time with the item whose normalised vector has the largest dot
 * product with the node's remaining capacity). In one dimension FFD uses at
 * most 11/9·OPT + 6/9 bins (Dósa, 2007, tight).
 *
 * Lower bounds: the continuous bound L1 = max over resources of
 * ⌈Σ size / capacity⌉, and Martello and Toth's L2 (Martello & Toth, "Lower
 * bounds and reduction procedures for the bin packing problem", Discrete
 * Applied Mathematics 28, 1990) on each resource alone: a vector packing
 * projects to a 1-D packing in every resource, so each 1-D bound holds.
 *
 * Exact mode: Gilmore and Gomory's pattern model (or, with too many patterns,
 * the assignment model) solved with HiGHS, for small instances.
 */
import { InvalidInputError } from '../core/errors.ts';
import type { Pool, Resources } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { ModelBuilder } from './lp.ts';
import { solveModel } from './solver.ts';

/** Resources in a fixed order: CPU, memory, network. */
const DIMENSIONS = ['cpuMillicores', 'memoryMiB', 'networkMbps'] as const;
type Vector = [number, number, number];

/** Float slack when comparing sums of sizes against a capacity. */
const EPSILON = 1e-9;

/** `count` identical items (instances of one workload) of size `size`. */
export interface ItemType {
  readonly name: string;
  readonly size: Resources;
  readonly count: number;
}

/** How items are ordered (largest first) by their size normalised by the node capacity. */
export type SizeMeasure = 'sum' | 'max' | 'norm';
/**
 * Where each item goes: first node it fits, node left tightest, node by node
 * with the best-aligned item, or node by node with the largest item that
 * keeps the node's fill in line with what is left to pack.
 */
export type FitRule = 'firstFit' | 'bestFit' | 'dotProduct' | 'balance';

export interface PackOptions {
  readonly measure?: SizeMeasure;
  readonly rule?: FitRule;
  /** `balance` only: how much one unit of imbalance (a node's share off the direction of what is left) costs against one unit of size (default 5). */
  readonly balanceWeight?: number;
}

export interface PackedNode {
  /** Items on the node, by item type name (types with none left out). */
  readonly counts: Readonly<Record<string, number>>;
  readonly used: Resources;
  readonly free: Resources;
}

export interface Packing {
  readonly nodes: readonly PackedNode[];
  /** Heuristic or `exact`, e.g. "firstFit/sum". */
  readonly method: string;
}

const vectorOf = (r: Resources, missing: number): Vector => [r.cpuMillicores, r.memoryMiB, r.networkMbps ?? missing];

/** Resources from a vector; network only when the capacity limits it. */
function resourcesOf(v: Vector, capacity: Vector): Resources {
  return capacity[2] === Infinity ? { cpuMillicores: v[0], memoryMiB: v[1] } : { cpuMillicores: v[0], memoryMiB: v[1], networkMbps: v[2] };
}

interface Prepared {
  readonly types: readonly ItemType[];
  readonly sizes: readonly Vector[];
  /** Sizes divided by the capacity (0 where the capacity is unlimited). */
  readonly normalised: readonly Vector[];
  readonly capacity: Vector;
}

function prepare(types: readonly ItemType[], capacity: Resources, where: string): Prepared {
  const cap = vectorOf(capacity, Infinity);
  if (!(cap[0] > 0 && cap[1] > 0 && cap[2] > 0)) throw new InvalidInputError(where, 'node capacity must be positive in every resource');
  const seen = new Set<string>();
  const sizes: Vector[] = [];
  const normalised: Vector[] = [];
  for (const t of types) {
    if (seen.has(t.name)) throw new InvalidInputError(where, `item type '${t.name}' appears twice`);
    seen.add(t.name);
    if (!(Number.isInteger(t.count) && t.count >= 0)) throw new InvalidInputError(where, `item type '${t.name}' count must be an integer ≥ 0, got ${t.count}`);
    const s = vectorOf(t.size, 0);
    if (!s.every((x) => Number.isFinite(x) && x >= 0)) throw new InvalidInputError(where, `item type '${t.name}' sizes must be finite and ≥ 0`);
    const tooBig = DIMENSIONS.filter((_, d) => s[d] > cap[d] * (1 + EPSILON));
    if (tooBig.length && t.count > 0) {
      throw new InvalidInputError(where, `item type '${t.name}' does not fit an empty node: ${tooBig.map((d) => `${d} ${t.size[d]} > ${capacity[d]}`).join(', ')}`);
    }
    sizes.push(s);
    normalised.push(s.map((x, d) => (cap[d] === Infinity ? 0 : x / cap[d])) as Vector);
  }
  return { types, sizes, normalised, capacity: cap };
}

function measureOf(v: Vector, measure: SizeMeasure): number {
  if (measure === 'sum') return v[0] + v[1] + v[2];
  if (measure === 'max') return Math.max(v[0], v[1], v[2]);
  return Math.hypot(v[0], v[1], v[2]);
}

/** Type indices, largest first by `measure`, ties by name (deterministic). */
function decreasingOrder(p: Prepared, measure: SizeMeasure): number[] {
  const keys = p.normalised.map((v) => measureOf(v, measure));
  return p.types
    .map((_, i) => i)
    .filter((i) => p.types[i].count > 0)
    .sort((a, b) => keys[b] - keys[a] || (p.types[a].name < p.types[b].name ? -1 : p.types[a].name > p.types[b].name ? 1 : 0));
}

interface OpenNode {
  used: Vector;
  /** Items per type index (sparse: a pool may have thousands of types and hundreds of nodes). */
  counts: Map<number, number>;
}

function fits(node: OpenNode, size: Vector, cap: Vector): boolean {
  return node.used[0] + size[0] <= cap[0] * (1 + EPSILON) && node.used[1] + size[1] <= cap[1] * (1 + EPSILON) && node.used[2] + size[2] <= cap[2] * (1 + EPSILON);
}

function place(node: OpenNode, type: number, size: Vector): void {
  node.used[0] += size[0];
  node.used[1] += size[1];
  node.used[2] += size[2];
  node.counts.set(type, (node.counts.get(type) ?? 0) + 1);
}

function newNode(): OpenNode {
  return { used: [0, 0, 0], counts: new Map() };
}

/** Normalised free capacity left after adding `size` (the best-fit score: lower is tighter). */
function slackAfter(node: OpenNode, size: Vector, cap: Vector): number {
  let slack = 0;
  for (let d = 0; d < 3; d++) if (cap[d] !== Infinity) slack += (cap[d] - node.used[d] - size[d]) / cap[d];
  return slack;
}

function itemCentric(p: Prepared, order: number[], rule: 'firstFit' | 'bestFit'): OpenNode[] {
  const nodes: OpenNode[] = [];
  for (const t of order) {
    const size = p.sizes[t];
    // First fit: nodes only fill up, so for identical items the first node with room never moves back.
    let from = 0;
    for (let k = 0; k < p.types[t].count; k++) {
      let chosen = -1;
      if (rule === 'firstFit') {
        for (let j = from; j < nodes.length; j++) {
          if (fits(nodes[j], size, p.capacity)) {
            chosen = j;
            break;
          }
        }
        from = chosen === -1 ? nodes.length : chosen;
      } else {
        let best = Infinity;
        for (let j = 0; j < nodes.length; j++) {
          if (!fits(nodes[j], size, p.capacity)) continue;
          const score = slackAfter(nodes[j], size, p.capacity);
          if (score < best - EPSILON) {
            best = score;
            chosen = j;
          }
        }
      }
      if (chosen === -1) {
        nodes.push(newNode());
        chosen = nodes.length - 1;
      }
      place(nodes[chosen], t, size);
    }
  }
  return nodes;
}

/**
 * One node of a bin-centric rule while it fills: its use (raw, as `fits`
 * compares it) and the candidate types, largest first in the rule's order,
 * in place (a type that does not fit the node now never will: a scan drops
 * it by compacting the list; a scan that stops early keeps the unchecked rest).
 */
interface BinCentricNode {
  u0: number;
  u1: number;
  u2: number;
  count: number;
  readonly candidates: Int32Array;
}

/**
 * The loop the bin-centric rules share: open a node, add the type `choose`
 * picks (−1: nothing more fits) until it picks none, then the next node.
 * `choose` scans the node's candidates (the hot loop: flat arrays, no
 * allocation); `placed` hears of every item placed.
 */
function binCentric(p: Prepared, order: readonly number[], choose: (node: BinCentricNode, remaining: Int32Array) => number, placed?: (t: number) => void): OpenNode[] {
  const remaining = Int32Array.from(p.types, (t) => t.count);
  let left = remaining.reduce((a, b) => a + b, 0);
  const state: BinCentricNode = { u0: 0, u1: 0, u2: 0, count: 0, candidates: new Int32Array(order.length) };
  const nodes: OpenNode[] = [];
  while (left > 0) {
    const node = newNode();
    state.u0 = state.u1 = state.u2 = 0;
    state.count = 0;
    for (const t of order) if (remaining[t] > 0) state.candidates[state.count++] = t;
    for (let chosen = choose(state, remaining); chosen !== -1; chosen = choose(state, remaining)) {
      const size = p.sizes[chosen];
      state.u0 += size[0];
      state.u1 += size[1];
      state.u2 += size[2];
      place(node, chosen, size);
      remaining[chosen]--;
      left--;
      placed?.(chosen);
    }
    nodes.push(node);
  }
  return nodes;
}

/** Flat raw and normalised sizes and the fit limits, for the bin-centric scans. */
function flatSizes(p: Prepared): { size: Float64Array; norm: Float64Array; limits: number[] } {
  return { size: Float64Array.from(p.sizes.flat()), norm: Float64Array.from(p.normalised.flat()), limits: p.capacity.map((c) => c * (1 + EPSILON)) };
}

/**
 * Bin-centric DotProduct: open a node, repeatedly add the remaining item whose
 * normalised size has the largest dot product with the node's normalised free
 * capacity (ties: larger `measure` first), until nothing fits; then the next node.
 */
function dotProduct(p: Prepared, order: number[]): OpenNode[] {
  const { size, norm, limits } = flatSizes(p);
  const [c0, c1, c2] = p.capacity;
  const [l0, l1, l2] = limits;
  return binCentric(p, order, (node, remaining) => {
    const { u0, u1, u2, candidates } = node;
    const f0 = (c0 - u0) / c0;
    const f1 = (c1 - u1) / c1;
    const f2 = c2 === Infinity ? 0 : (c2 - u2) / c2;
    let chosen = -1;
    let best = -Infinity;
    let kept = 0;
    for (let k = 0; k < node.count; k++) {
      const t = candidates[k];
      const i = 3 * t;
      if (remaining[t] === 0 || u0 + size[i] > l0 || u1 + size[i + 1] > l1 || u2 + size[i + 2] > l2) continue;
      candidates[kept++] = t;
      const dot = norm[i] * f0 + norm[i + 1] * f1 + norm[i + 2] * f2;
      if (dot > best + EPSILON) {
        best = dot;
        chosen = t;
      }
    }
    node.count = kept;
    return chosen;
  });
}

/**
 * Bin-centric Balance: open a node, repeatedly add the remaining item that
 * maximises its normalised size (sum over resources) minus `weight` × the
 * distance of the node's fill after adding it from the direction of the
 * items still to pack (their summed normalised sizes), until nothing fits;
 * then the next node. Where a pool's instances fill CPU and memory in the
 * same proportion, a node can only be full in both when its items pair
 * CPU-heavy with memory-heavy ones in that proportion; DotProduct fills one
 * resource first and leaves the other idle on most nodes. On the
 * 1,000-workload benchmark plan's 687 pool-steps (docs/allocation.md) weight
 * 5 alone needs 8,298 nodes against 8,418 for the best of the other seven
 * heuristics.
 */
function balance(p: Prepared, order: number[], weight: number): OpenNode[] {
  const { size, norm, limits } = flatSizes(p);
  const [c0, c1, c2] = p.capacity;
  const [l0, l1, l2] = limits;
  // Summed normalised sizes of the items not yet placed: the direction a node's fill should follow.
  let r0 = 0;
  let r1 = 0;
  let r2 = 0;
  p.types.forEach((t, i) => {
    r0 += t.count * norm[3 * i];
    r1 += t.count * norm[3 * i + 1];
    r2 += t.count * norm[3 * i + 2];
  });
  const choose = (node: BinCentricNode, remaining: Int32Array): number => {
    const { u0, u1, u2, candidates } = node;
    // The node's normalised fill (0 for a resource the capacity leaves unlimited).
    const a0 = u0 / c0;
    const a1 = u1 / c1;
    const a2 = c2 === Infinity ? 0 : u2 / c2;
    const rr = r0 * r0 + r1 * r1 + r2 * r2;
    let chosen = -1;
    let best = -Infinity;
    let kept = 0;
    let k = 0;
    for (; k < node.count; k++) {
      const t = candidates[k];
      const i = 3 * t;
      // Candidates come largest first by the same normalised sum, and a score is at most that sum:
      // once it cannot beat the best, no later candidate can (the rest stay candidates, unchecked).
      if (norm[i] + norm[i + 1] + norm[i + 2] <= best + EPSILON) break;
      if (remaining[t] === 0 || u0 + size[i] > l0 || u1 + size[i + 1] > l1 || u2 + size[i + 2] > l2) continue;
      candidates[kept++] = t;
      const b0 = a0 + norm[i];
      const b1 = a1 + norm[i + 1];
      const b2 = a2 + norm[i + 2];
      const along = rr > 0 ? (b0 * r0 + b1 * r1 + b2 * r2) ** 2 / rr : 0;
      const off = Math.sqrt(Math.max(0, b0 * b0 + b1 * b1 + b2 * b2 - along));
      const score = norm[i] + norm[i + 1] + norm[i + 2] - weight * off;
      if (score > best + EPSILON) {
        best = score;
        chosen = t;
      }
    }
    candidates.copyWithin(kept, k, node.count);
    node.count = kept + (node.count - k);
    return chosen;
  };
  return binCentric(p, order, choose, (t) => {
    r0 -= norm[3 * t];
    r1 -= norm[3 * t + 1];
    r2 -= norm[3 * t + 2];
  });
}

function toPacking(p: Prepared, nodes: readonly OpenNode[], method: string): Packing {
  return {
    method,
    nodes: nodes.map((n) => {
      const counts: Record<string, number> = {};
      for (const [t, c] of [...n.counts].sort((a, b) => a[0] - b[0])) if (c > 0) counts[p.types[t].name] = c;
      const free = n.used.map((u, d) => Math.max(0, p.capacity[d] - u)) as Vector;
      return { counts, used: resourcesOf(n.used, p.capacity), free: resourcesOf(free, p.capacity) };
    }),
  };
}

/** Pack item types onto nodes of `capacity` with one heuristic (first fit decreasing by normalised sum by default). */
export function packVectors(types: readonly ItemType[], capacity: Resources, options: PackOptions = {}): Packing {
  const measure = options.measure ?? 'sum';
  const rule = options.rule ?? 'firstFit';
  const weight = options.balanceWeight ?? 5;
  if (rule === 'balance' && !(weight >= 0 && Number.isFinite(weight))) throw new InvalidInputError('packVectors', `balanceWeight must be a finite number ≥ 0, got ${weight}`);
  const p = prepare(types, capacity, 'packVectors');
  // Balance scans largest first by the normalised sum, which its pruning relies on.
  const order = decreasingOrder(p, rule === 'balance' ? 'sum' : measure);
  const nodes = rule === 'dotProduct' ? dotProduct(p, order) : rule === 'balance' ? balance(p, order, weight) : itemCentric(p, order, rule);
  return toPacking(p, nodes, rule === 'balance' ? `balance(${weight})/sum` : `${rule}/${measure}`);
}

/**
 * First and best fit with each measure, DotProduct (whose measure only
 * breaks ties), and Balance with weights 5, 3 and 8; `packBest` keeps the
 * one with fewest nodes (first listed on ties). On the 1,000-workload
 * benchmark plan's 687 pool-steps the best of the first seven needs 8,418
 * nodes, adding the three Balance weights 8,254 (their ceiling of CPU and
 * memory in aggregate: 7,699).
 */
type Heuristic = PackOptions & Required<Pick<PackOptions, 'rule' | 'measure'>>;
const [FIRST_FIT_DECREASING, ...OTHER_ITEM_CENTRIC]: Heuristic[] = (['firstFit', 'bestFit'] as const).flatMap((rule) => (['sum', 'max', 'norm'] as const).map((measure) => ({ rule, measure })));
const DOT_PRODUCT: Heuristic = { rule: 'dotProduct', measure: 'sum' };
const [BALANCE, ...OTHER_BALANCE]: Heuristic[] = [5, 3, 8].map((balanceWeight) => ({ rule: 'balance', measure: 'sum', balanceWeight }));

export const HEURISTICS: readonly Heuristic[] = [FIRST_FIT_DECREASING, ...OTHER_ITEM_CENTRIC, DOT_PRODUCT, BALANCE, ...OTHER_BALANCE];

/** Balance(5) (fewest nodes most often on the benchmark's pools, and the packings that leave room where consolidation can use it), first fit decreasing (fastest), DotProduct, the other Balance weights, then the rest. */
const WITHIN_ORDER = [BALANCE, FIRST_FIT_DECREASING, DOT_PRODUCT, ...OTHER_BALANCE, ...OTHER_ITEM_CENTRIC];

/**
 * Enough to tell whether the items fit `nodes` nodes: the first heuristic (in
 * `WITHIN_ORDER`: Balance(5), first fit decreasing, DotProduct, ...) whose
 * packing fits, else the packing with the fewest nodes among all of them
 * (several times faster than `packBest` on pools with thousands of items);
 * `heuristics` limits the tries to the first few in that order. With
 * `countOnly` (the caller needs the node count, not the packing) the same
 * heuristics run fastest first, first fit decreasing before Balance: whether
 * one of them fits does not depend on the order.
 */
export function packWithin(types: readonly ItemType[], capacity: Resources, nodes: number, options: { readonly heuristics?: number; readonly countOnly?: boolean } = {}): Packing {
  let best: Packing | undefined;
  const tried = WITHIN_ORDER.slice(0, Math.max(1, options.heuristics ?? WITHIN_ORDER.length));
  if (options.countOnly) tried.sort((a, b) => Number(b === FIRST_FIT_DECREASING) - Number(a === FIRST_FIT_DECREASING));
  for (const h of tried) {
    const packing = packVectors(types, capacity, h);
    if (packing.nodes.length <= nodes) return packing;
    if (!best || packing.nodes.length < best.nodes.length) best = packing;
  }
  return best as Packing;
}

/** The packing with the fewest nodes among all heuristics. */
export function packBest(types: readonly ItemType[], capacity: Resources): Packing {
  let best: Packing | undefined;
  for (const h of HEURISTICS) {
    const packing = packVectors(types, capacity, h);
    if (!best || packing.nodes.length < best.nodes.length) best = packing;
  }
  return best as Packing;
}

export interface LowerBounds {
  /** L1: max over resources of ⌈Σ size / capacity⌉. */
  readonly continuous: number;
  /** Martello–Toth L2 on each resource alone, the largest. */
  readonly martelloToth: number;
  /** The larger of the two. */
  readonly bound: number;
}

const ceilTolerant = (x: number) => Math.ceil(x - EPSILON);

/**
 * Martello–Toth L2 for one dimension: for each α in {0} ∪ {sizes ≤ C/2},
 * J1 = {s > C − α} and J2 = {C/2 < s ≤ C − α} need a bin each (no two of
 * J1 ∪ J2 share one, and no item of size ≥ α fits with J1); items of
 * J3 = {α ≤ s ≤ C/2} fill the room J2 leaves and then whole bins:
 * L(α) = |J1| + |J2| + max(0, ⌈(Σ J3 − (|J2|·C − Σ J2)) / C⌉).
 */
export function martelloTothL2(sizes: readonly { readonly size: number; readonly count: number }[], capacity: number): number {
  const items = sizes.filter((s) => s.count > 0 && s.size > 0);
  if (items.length === 0) return 0;
  const half = capacity / 2;
  const alphas = [0, ...new Set(items.map((s) => s.size).filter((s) => s <= half + EPSILON * capacity))];
  let best = 0;
  for (const alpha of alphas) {
    let j1 = 0;
    let j2 = 0;
    let sumJ2 = 0;
    let sumJ3 = 0;
    for (const { size, count } of items) {
      if (size > capacity - alpha + EPSILON * capacity) j1 += count;
      else if (size > half + EPSILON * capacity) {
        j2 += count;
        sumJ2 += size * count;
      } else if (size >= alpha - EPSILON * capacity) sumJ3 += size * count;
    }
    const spill = (sumJ3 - (j2 * capacity - sumJ2)) / capacity;
    best = Math.max(best, j1 + j2 + Math.max(0, ceilTolerant(spill)));
  }
  return best;
}

/** Lower bounds on the number of nodes any packing of `types` needs. */
export function lowerBounds(types: readonly ItemType[], capacity: Resources): LowerBounds {
  const p = prepare(types, capacity, 'lowerBounds');
  let continuous = 0;
  let martelloToth = 0;
  for (let d = 0; d < 3; d++) {
    if (p.capacity[d] === Infinity) continue;
    let total = 0;
    p.types.forEach((t, i) => {
      total += p.sizes[i][d] * t.count;
    });
    continuous = Math.max(continuous, ceilTolerant(total / p.capacity[d]));
    martelloToth = Math.max(martelloToth, martelloTothL2(p.types.map((t, i) => ({ size: p.sizes[i][d], count: t.count })), p.capacity[d]));
  }
  const anyItem = p.types.some((t) => t.count > 0);
  const bound = Math.max(continuous, martelloToth, anyItem ? 1 : 0);
  return { continuous, martelloToth, bound };
}

export interface ExactPacking {
  readonly packing: Packing;
  /** True when HiGHS proved the node count optimal (or a heuristic met the lower bound). */
  readonly optimal: boolean;
  /** Best proven lower bound on the node count. */
  readonly lowerBound: number;
}

export interface ExactOptions {
  readonly timeLimitSeconds?: number;
  /** Most node patterns to enumerate before falling back to the assignment model (default 20,000). */
  readonly maxPatterns?: number;
}

/**
 * Maximal node patterns (items per type that fit one node together, with no
 * room left for one more of any type still available), by depth-first search;
 * undefined when there are more than `limit`.
 */
function maximalPatterns(p: Prepared, active: readonly number[], limit: number): number[][] | undefined {
  const patterns: number[][] = [];
  const counts = new Array<number>(active.length).fill(0);
  const used: Vector = [0, 0, 0];
  const room = (k: number) => {
    const t = active[k];
    let most = p.types[t].count - counts[k];
    for (let d = 0; d < 3; d++) if (p.sizes[t][d] > 0) most = Math.min(most, Math.floor((p.capacity[d] * (1 + EPSILON) - used[d]) / p.sizes[t][d]));
    return Math.max(0, most);
  };
  let overflow = false;
  const visit = (k: number): void => {
    if (overflow) return;
    if (k === active.length) {
      if (counts.some((c) => c > 0) && active.every((_, j) => room(j) === 0)) {
        patterns.push([...counts]);
        if (patterns.length > limit) overflow = true;
      }
      return;
    }
    const t = active[k];
    for (let c = room(k); c >= 0; c--) {
      counts[k] = c;
      for (let d = 0; d < 3; d++) used[d] += c * p.sizes[t][d];
      visit(k + 1);
      for (let d = 0; d < 3; d++) used[d] -= c * p.sizes[t][d];
      counts[k] = 0;
    }
  };
  visit(0);
  return overflow ? undefined : patterns;
}

/**
 * Fewest nodes, exactly: the best heuristic gives U nodes and the bounds L;
 * when U > L, HiGHS solves the pattern model of Gilmore and Gomory ("A linear
 * programming approach to the cutting-stock problem", Operations Research 9,
 * 1961), whose LP relaxation is strong:
 *   z_q ∈ ℤ≥0 nodes packed with maximal pattern q,  Σ_q a_tq z_q ≥ count_t,  Σ_q z_q ≥ L,  minimise Σ_q z_q
 * (surplus items are then dropped from the nodes). With too many patterns it
 * falls back to the assignment model
 *   y_b ∈ {0,1}, x_tb ∈ {0..count_t} for b < U,  Σ_b x_tb = count_t,
 *   Σ_t size_td x_tb ≤ C_d y_b,  y_b ≥ y_{b+1},  Σ_b y_b ≥ L,  minimise Σ_b y_b.
 * Meant for small instances (tens of items, or few distinct shapes).
 */
export async function packExact(types: readonly ItemType[], capacity: Resources, options: ExactOptions = {}): Promise<ExactPacking> {
  const heuristic = packBest(types, capacity);
  const bounds = lowerBounds(types, capacity);
  const upper = heuristic.nodes.length;
  if (upper <= bounds.bound) return { packing: heuristic, optimal: true, lowerBound: upper };
  const p = prepare(types, capacity, 'packExact');
  const active = p.types.map((_, i) => i).filter((i) => p.types[i].count > 0);
  const patterns = maximalPatterns(p, active, options.maxPatterns ?? 20_000);
  const b = new ModelBuilder();
  let decode: (values: Float64Array) => number[][];
  if (patterns) {
    const z = patterns.map((_, q) => b.addVariable(`z_${q}`, 0, upper, 1, true));
    active.forEach((t, k) => {
      const uses = patterns.map((pat, q) => [q, pat[k]] as const).filter(([, a]) => a > 0);
      b.addConstraint(`count_${t}`, uses.map(([q]) => z[q]), uses.map(([, a]) => a), '>=', p.types[t].count);
    });
    b.addConstraint('bound', z, z.map(() => 1), '>=', bounds.bound);
    decode = (values) => {
      const left = active.map((t) => p.types[t].count);
      const nodes: number[][] = [];
      patterns.forEach((pat, q) => {
        for (let r = 0; r < Math.round(values[z[q]]); r++) {
          // Take from the pattern only what is still to be placed (surplus from ≥ is dropped).
          const take = pat.map((a, k) => Math.min(a, left[k]));
          take.forEach((a, k) => (left[k] -= a));
          nodes.push(take);
        }
      });
      return nodes;
    };
  } else {
    const used = Array.from({ length: upper }, (_, j) => b.addVariable(`y_${j}`, 0, 1, 1, true));
    const assign = active.map((t) => Array.from({ length: upper }, (_, j) => b.addVariable(`x_${t}_${j}`, 0, p.types[t].count, 0, true)));
    active.forEach((t, k) => b.addConstraint(`count_${t}`, assign[k], assign[k].map(() => 1), '=', p.types[t].count));
    for (let j = 0; j < upper; j++) {
      for (let d = 0; d < 3; d++) {
        if (p.capacity[d] === Infinity) continue;
        const indices: number[] = [];
        const coefficients: number[] = [];
        active.forEach((t, k) => {
          if (p.sizes[t][d] > 0) {
            indices.push(assign[k][j]);
            coefficients.push(p.sizes[t][d]);
          }
        });
        if (indices.length) b.addConstraint(`cap_${j}_${d}`, [...indices, used[j]], [...coefficients, -p.capacity[d]], '<=', 0);
      }
      if (j + 1 < upper) b.addConstraint(`order_${j}`, [used[j], used[j + 1]], [1, -1], '>=', 0);
    }
    b.addConstraint('bound', used, used.map(() => 1), '>=', bounds.bound);
    decode = (values) => Array.from({ length: upper }, (_, j) => active.map((_, k) => Math.round(values[assign[k][j]])));
  }
  const result = await solveModel(b.build(), { via: 'arrays', timeLimitSeconds: options.timeLimitSeconds ?? 10, mipRelGap: 1e-6 });
  if (result.status !== 'optimal' && result.status !== 'timeLimit') return { packing: heuristic, optimal: false, lowerBound: bounds.bound };
  const lowerBound = Math.max(bounds.bound, ceilTolerant(result.lowerBound));
  const nodes: OpenNode[] = [];
  for (const take of decode(result.values)) {
    if (!take.some((a) => a > 0)) continue;
    const node = newNode();
    take.forEach((a, k) => {
      for (let c = 0; c < a; c++) place(node, active[k], p.sizes[active[k]]);
    });
    nodes.push(node);
  }
  if (nodes.length >= upper) return { packing: heuristic, optimal: result.status === 'optimal' || lowerBound >= upper, lowerBound: Math.min(lowerBound, upper) };
  return { packing: toPacking(p, nodes, patterns ? 'exact/patterns' : 'exact/assignment'), optimal: result.status === 'optimal' || lowerBound >= nodes.length, lowerBound: Math.min(lowerBound, nodes.length) };
}

/** Free capacity of one node, split by whether it can still be used. */
export interface NodeFragmentation {
  readonly free: Resources;
  /** Whether one more item of some type still fits. */
  readonly fitsAnother: boolean;
  /**
   * Free capacity in a resource that is not itself short but cannot be used
   * because another resource is exhausted (free below what the smallest item
   * needs of it); zero on nodes where some item still fits.
   */
  readonly stranded: Resources;
}

export interface FragmentationSummary {
  readonly nodes: number;
  readonly capacity: Resources;
  readonly used: Resources;
  readonly free: Resources;
  /** Free capacity on nodes where no item of any type fits any more. */
  readonly unusable: Resources;
  /** The part of `unusable` stranded by another exhausted resource. */
  readonly stranded: Resources;
  /** Nodes where no item fits any more. */
  readonly fullNodes: number;
}

/**
 * Per-node free, unusable and stranded capacity of `packing`, judged against
 * the item `shapes` that could use it (checkAllocationPacking passes the pool's types), plus
 * `emptyNodes` unused nodes of the pool (free and usable).
 */
export function fragmentation(packing: Packing, capacity: Resources, shapes: readonly Resources[], emptyNodes = 0): { readonly nodes: readonly NodeFragmentation[]; readonly summary: FragmentationSummary } {
  const cap = vectorOf(capacity, Infinity);
  const shapeVectors = shapes.map((s) => vectorOf(s, 0));
  // The least any shape needs of each resource (Infinity when none needs it: never exhausted).
  const smallestNeed = [0, 1, 2].map((d) => Math.min(...shapeVectors.map((s) => s[d]).filter((x) => x > 0), Infinity));
  const zero: Vector = [0, 0, 0];
  const totals = { used: [...zero] as Vector, free: [...zero] as Vector, unusable: [...zero] as Vector, stranded: [...zero] as Vector };
  let fullNodes = 0;
  const nodes: NodeFragmentation[] = [];
  const all = [...packing.nodes.map((n) => vectorOf(n.used, 0)), ...Array.from({ length: emptyNodes }, () => [...zero] as Vector)];
  for (const used of all) {
    const free = used.map((u, d) => Math.max(0, cap[d] - u)) as Vector;
    const fitsAnother = shapeVectors.some((s) => s.every((x, d) => x <= free[d] * (1 + EPSILON) + EPSILON));
    const exhausted = free.map((f, d) => f < smallestNeed[d] * (1 - EPSILON));
    const stranded = free.map((f, d) => (!fitsAnother && !exhausted[d] && exhausted.some((e, k) => e && k !== d) && cap[d] !== Infinity ? f : 0)) as Vector;
    for (let d = 0; d < 3; d++) {
      totals.used[d] += used[d];
      totals.free[d] += free[d];
      if (!fitsAnother) totals.unusable[d] += free[d];
      totals.stranded[d] += stranded[d];
    }
    if (!fitsAnother) fullNodes++;
    nodes.push({ free: resourcesOf(free, cap), fitsAnother, stranded: resourcesOf(stranded, cap) });
  }
  const capacityTotal = cap.map((c) => c * all.length) as Vector;
  return {
    nodes,
    summary: {
      nodes: all.length,
      capacity: resourcesOf(capacityTotal, cap),
      used: resourcesOf(totals.used, cap),
      free: resourcesOf(totals.free, cap),
      unusable: resourcesOf(totals.unusable, cap),
      stranded: resourcesOf(totals.stranded, cap),
      fullNodes,
    },
  };
}

/** Whether a pool's instances fit its nodes: yes, no (proven by a lower bound or the MIP), or unknown. */
export type Packable = 'yes' | 'no' | 'unknown';

export interface PoolPackingReport {
  readonly pool: string;
  /** Nodes the allocation gives the pool. */
  readonly nodes: number;
  readonly instances: number;
  /** Nodes the best packing found uses. */
  readonly nodesNeeded: number;
  /** Proven lower bound on the nodes any packing needs. */
  readonly lowerBound: number;
  readonly packable: Packable;
  /** Extra nodes the packing found needs beyond `nodes` (0 when packable). */
  readonly extraNodes: number;
  /** Extra nodes any packing needs (from the lower bound): `extraNodes` is within [this, extraNodes]. */
  readonly extraNodesAtLeast: number;
  readonly method: string;
  readonly packing: Packing;
  readonly fragmentation: FragmentationSummary;
  readonly perNode: readonly NodeFragmentation[];
}

export interface AllocationPackingReport {
  readonly pools: readonly PoolPackingReport[];
  /** Every pool packable. */
  readonly packable: Packable;
  readonly extraNodes: number;
  readonly extraCostPerHour: number;
}

export interface PackingCheckOptions {
  /** Solve pools the heuristics cannot settle exactly, up to `exactMaxItems` instances (default 'auto'). */
  readonly exact?: 'auto' | 'never';
  readonly exactMaxItems?: number;
  readonly timeLimitSeconds?: number;
  /**
   * `best` (default): every heuristic on every pool, the fewest nodes kept.
   * `enough`: first fit decreasing alone where it fits the pool's nodes (the
   * question is only whether the instances fit: `packWithin`'s `countOnly`),
   * the other heuristics in turn elsewhere until one fits; several times
   * faster on pools with thousands of instances.
   */
  readonly effort?: 'best' | 'enough';
}

/**
 * Check an allocation's per-pool node counts against packing its instances
 * onto individual nodes: per pool, the best heuristic packing, the lower
 * bound, whether it is packable, how many extra nodes packing needs, and the
 * free, unusable and stranded capacity of the nodes.
 */
export async function checkAllocationPacking(
  allocation: Pick<Allocation, 'nodesByPool' | 'instances'>,
  pools: readonly Pool[],
  workloads: readonly { readonly name: string; readonly perInstance: Resources }[],
  options: PackingCheckOptions = {},
): Promise<AllocationPackingReport> {
  const perInstance = new Map(workloads.map((w) => [w.name, w.perInstance]));
  const poolByName = new Map(pools.map((p) => [p.name, p]));
  for (const [workload, byPool] of Object.entries(allocation.instances)) {
    if (!perInstance.has(workload)) throw new InvalidInputError('checkAllocationPacking', `allocation names workload '${workload}', which is not in the workloads given`);
    for (const pool of Object.keys(byPool)) if (!poolByName.has(pool)) throw new InvalidInputError('checkAllocationPacking', `allocation places workload '${workload}' in unknown pool '${pool}'`);
  }
  const maxItems = options.exactMaxItems ?? 50;
  // Each pool's instances by workload name, in one pass (not a scan of every workload per pool).
  const typesOf = new Map<string, ItemType[]>();
  for (const w of Object.keys(allocation.instances).sort()) {
    for (const [pool, count] of Object.entries(allocation.instances[w])) {
      if (!(count > 0)) continue;
      let list = typesOf.get(pool);
      if (!list) typesOf.set(pool, (list = []));
      list.push({ name: w, size: perInstance.get(w) as Resources, count });
    }
  }
  const reports: PoolPackingReport[] = [];
  for (const pool of [...pools].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const nodes = allocation.nodesByPool[pool.name] ?? 0;
    const types = typesOf.get(pool.name) ?? [];
    const instances = types.reduce((s, t) => s + t.count, 0);
    if (instances === 0 && nodes === 0) continue;
    const where = `pool '${pool.name}'`;
    let packing: Packing;
    let bound: number;
    try {
      packing = options.effort === 'enough' ? packWithin(types, pool.nodeType.capacity, nodes, { countOnly: true }) : packBest(types, pool.nodeType.capacity);
      bound = lowerBounds(types, pool.nodeType.capacity).bound;
    } catch (e) {
      if (e instanceof InvalidInputError) throw new InvalidInputError(where, e.problem);
      throw e;
    }
    if (packing.nodes.length > nodes && bound <= nodes && options.exact !== 'never' && instances <= maxItems) {
      const exact = await packExact(types, pool.nodeType.capacity, { timeLimitSeconds: options.timeLimitSeconds });
      packing = exact.packing;
      bound = exact.lowerBound;
    }
    const needed = packing.nodes.length;
    const packable: Packable = needed <= nodes ? 'yes' : bound > nodes ? 'no' : 'unknown';
    const frag = fragmentation(packing, pool.nodeType.capacity, types.map((t) => t.size), Math.max(0, nodes - needed));
    reports.push({
      pool: pool.name,
      nodes,
      instances,
      nodesNeeded: needed,
      lowerBound: bound,
      packable,
      extraNodes: Math.max(0, needed - nodes),
      extraNodesAtLeast: Math.max(0, bound - nodes),
      method: packing.method,
      packing,
      fragmentation: frag.summary,
      perNode: frag.nodes,
    });
  }
  const packable: Packable = reports.every((r) => r.packable === 'yes') ? 'yes' : reports.some((r) => r.packable === 'no') ? 'no' : 'unknown';
  const extraNodes = reports.reduce((s, r) => s + r.extraNodes, 0);
  const extraCostPerHour = reports.reduce((s, r) => s + r.extraNodes * (poolByName.get(r.pool) as Pool).costPerHour, 0);
  return { pools: reports, packable, extraNodes, extraCostPerHour };
}

