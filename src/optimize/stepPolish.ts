/**
 * Re-split of one step's placement by the step's LP (the decomposition's
 * polish, option `polish`).
 *
 * The greedy disaggregation picks, for every workload, the pools its
 * instances go to. The polish re-splits each workload's instances among the
 * pools it was given at this step and the pools it ran in the step before, by
 * the step's LP: per-pool node columns (reserved nodes free, the rest on
 * demand), CPU, memory and network capacity, packing cuts, zone and provider
 * spread, provider quotas and the budget, with a start in a pool beyond what
 * ran there the step before priced at the migration price. A basic optimum
 * splits few workloads fractionally; the caller makes instances and nodes
 * whole.
 *
 * Workloads with a single pool (this step and the step before) have nothing
 * to re-split, and workloads with traffic partners keep the greedy placement,
 * which follows their partners' zones: both stay out of the LP, their use
 * taken off the pools' capacity.
 *
 * With `pricing`, each workload in the LP may also use every other pool the
 * LP has (the pools any of them was given): the columns that price out
 * (negative reduced cost at the LP's duals) are added and the LP is solved
 * again from its basis, until none does, which is the LP's optimum over all
 * those pools without building every column.
 */
import { highsFailure, loadHighs } from './solver.ts';
import { type HorizonContext, eligibleSets, networkOf, perNode, ranBefore } from './horizon.ts';

export interface PolishInput {
  readonly ctx: HorizonContext;
  readonly t: number;
  /** The greedy placement of step t. */
  readonly rows: readonly ReadonlyMap<number, number>[];
  /** The final placement of step t − 1 (undefined at step 0: the running allocation counts). */
  readonly previous?: readonly ReadonlyMap<number, number>[];
  /** Reserved nodes per pool (free in the step's LP). */
  readonly reserved: Int32Array;
  /** Pools that keep their minimum nodes. */
  readonly open: readonly boolean[];
  /** Nodes per pool the step before (churn is priced against them; default: the running allocation's at step 0, none otherwise). */
  readonly previousNodes?: ArrayLike<number>;
  /** Also offer each workload in the LP every other pool of the LP, by pricing (see above; default false). */
  readonly pricing?: boolean;
}

export interface PolishResult {
  /** Instances per workload per pool, fractional for a few workloads (a basic optimum); fixed workloads as given. */
  readonly amounts: Map<number, number>[];
  /** Nodes per pool, fractional. */
  readonly nodes: Float64Array;
  readonly objective: number;
  readonly seconds: number;
  readonly iterations: number;
  /** Workloads in the LP. */
  readonly free: number;
  /** Columns added by pricing (0 without `pricing`). */
  readonly priced: number;
}

const NONE = -1;
/** Pricing rounds at most (each adds every column that prices out; a few suffice in practice). */
const MAX_PRICING_ROUNDS = 10;
/** A column prices out below this reduced cost, $ per instance and step. */
const PRICING_TOLERANCE = 1e-7;

/** Returns undefined when the LP has no optimum within its time (the caller keeps the greedy placement). */
export async function polishStep(input: PolishInput): Promise<PolishResult | undefined> {
  const started = performance.now();
  const { ctx, t, reserved } = input;
  const { pools, workloads } = ctx;
  const h = ctx.stepHours;
  const P = pools.length;
  const eligible = eligibleSets(ctx);
  const chatty = new Uint8Array(workloads.length);
  for (const e of ctx.traffic) if (e.gibPerHour > 0 && e.a !== e.b) chatty[e.a] = chatty[e.b] = 1;

  // Free workloads and their pools; the rest is fixed use.
  const pairs: number[][] = [];
  const free: number[] = [];
  const fixedUse = pools.map(() => [0, 0, 0]);
  workloads.forEach((w, wi) => {
    const want = new Set(input.rows[wi].keys());
    for (const p of input.previous?.[wi].keys() ?? []) if (ctx.avail[t][p] > 0 && eligible[wi].has(p)) want.add(p);
    if (ctx.req[t][wi] > 0 && want.size > 1 && !chatty[wi]) {
      free.push(wi);
      pairs.push([...want].sort((a, b) => a - b));
      return;
    }
    for (const [p, x] of input.rows[wi]) {
      fixedUse[p][0] += x * w.perInstance.cpuMillicores;
      fixedUse[p][1] += x * w.perInstance.memoryMiB;
      fixedUse[p][2] += x * networkOf(pools[p], w.perInstance);
    }
  });
  const amounts = workloads.map((_, wi) => new Map(input.rows[wi]));
  if (free.length === 0) return undefined;

  // Rows.
  const rowLo: number[] = [];
  const rowUp: number[] = [];
  const addRow = (lo: number, up: number) => (rowLo.push(lo), rowUp.push(up), rowLo.length - 1);
  const demandRow = free.map((wi) => addRow(ctx.req[t][wi], ctx.req[t][wi]));
  const touched = new Uint8Array(P);
  pairs.forEach((list) => list.forEach((p) => (touched[p] = 1)));
  const capRow = pools.map((p, i) =>
    touched[i] ? [addRow(-Infinity, -fixedUse[i][0]), addRow(-Infinity, -fixedUse[i][1]), p.nodeType.capacity.networkMbps !== undefined ? addRow(-Infinity, -fixedUse[i][2]) : NONE] : [NONE, NONE, NONE],
  );
  // Quotas and budget count the nodes the fixed use needs in untouched pools as constants.
  const fixedNodes = pools.map((p, i) => {
    const c = p.nodeType.capacity;
    return touched[i] ? 0 : Math.ceil(Math.max(fixedUse[i][0] / c.cpuMillicores, fixedUse[i][1] / c.memoryMiB, c.networkMbps ? fixedUse[i][2] / c.networkMbps : 0) - 1e-9);
  });
  const quotaRows = ctx.quotas.map((q) => {
    let nodes = 0;
    let cpu = 0;
    let mem = 0;
    pools.forEach((p, i) => {
      if (p.provider !== q.provider) return;
      nodes += fixedNodes[i];
      cpu += fixedNodes[i] * p.nodeType.capacity.cpuMillicores;
      mem += fixedNodes[i] * p.nodeType.capacity.memoryMiB;
    });
    return [
      q.maxNodes === undefined ? NONE : addRow(-Infinity, q.maxNodes - nodes),
      q.maxCpuMillicores === undefined ? NONE : addRow(-Infinity, q.maxCpuMillicores - cpu),
      q.maxMemoryMiB === undefined ? NONE : addRow(-Infinity, q.maxMemoryMiB - mem),
    ];
  });
  let fixedSpend = 0;
  pools.forEach((p, i) => (fixedSpend += ((p.reservedCostPerHour ?? 0) * reserved[i] + p.costPerHour * Math.max(0, fixedNodes[i] - reserved[i])) * h));
  const budgetRow = ctx.budget ? addRow(-Infinity, ctx.budget[t] - fixedSpend) : NONE;
  const spreadRows = free.map((wi, k) => {
    const w = workloads[wi];
    const rows = new Map<string, number>();
    const target = ctx.spreadTarget[t][wi];
    if (!w.spread || target === 0) return rows;
    const key = w.spread.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
    const domains = new Set(pairs[k].map((p) => key[p]));
    // With one domain only the greedy placement could not spread: no row (checkPlan still judges the result).
    if (domains.size > 1) for (const d of domains) rows.set(d, addRow(target, Infinity));
    return rows;
  });

  // Columns, in compressed-column form.
  const cost: number[] = [];
  const lower: number[] = [];
  const upper: number[] = [];
  const starts: number[] = [0];
  const index: number[] = [];
  const value: number[] = [];
  const column = (c: number, lo: number, up: number, entries: readonly (readonly [number, number])[]) => {
    cost.push(c), lower.push(lo), upper.push(up);
    for (const [r, v] of entries) if (r !== NONE && v !== 0) index.push(r), value.push(v);
    starts.push(index.length);
    return cost.length - 1;
  };
  const packOf: [number, number][][] = pools.map(() => []);
  const xCols: [number, number][][] = free.map(() => []);
  /** Rows of one instance of free workload k in pool p (packing cut aside): its demand, the pool's capacity, the spread rows of the other domains. */
  const placementEntries = (k: number, p: number): [number, number][] => {
    const w = workloads[free[k]];
    const r = w.perInstance;
    const key = w.spread?.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
    const entries: [number, number][] = [
      [demandRow[k], 1],
      [capRow[p][0], r.cpuMillicores],
      [capRow[p][1], r.memoryMiB],
      [capRow[p][2], networkOf(pools[p], r)],
    ];
    for (const [d, row] of spreadRows[k]) if (d !== key[p]) entries.push([row, 1]);
    return entries;
  };
  free.forEach((wi, k) => {
    for (const p of pairs[k]) {
      const perNodeCount = perNode(pools[p], workloads[wi].perInstance);
      const pack = perNodeCount < ctx.req[t][wi] ? addRow(-Infinity, 0) : NONE;
      if (pack !== NONE) packOf[p].push([pack, perNodeCount]);
      const entries = [...placementEntries(k, p), [pack, 1] as [number, number]];
      const ran = ranBefore(ctx, t, input.previous, wi, p);
      if (ran > 0) xCols[k].push([p, column(0, 0, ran, entries)]);
      xCols[k].push([p, column(ctx.migrationPerInstance, 0, Infinity, entries)]);
    }
  });
  const levels = [...new Set(ctx.priority[t])].sort((a, b) => a - b);
  const rank = new Map(levels.map((l, i) => [l, i]));
  free.forEach((wi, k) => {
    // Shortfall at the aggregated model's capped price (above anything placing an instance can cost).
    const price = Math.min(ctx.penalty[t][wi], ctx.basePenalty * ((rank.get(ctx.priority[t][wi]) ?? 0) + 1));
    column(price, 0, ctx.req[t][wi] - ctx.guaranteed[t][wi], [[demandRow[k], 1]]);
  });
  // Packing of fixed workloads in touched pools: at least their instances / instances per node.
  const fixedPackRow = pools.map(() => NONE);
  const isFree = new Uint8Array(workloads.length);
  for (const wi of free) isFree[wi] = 1;
  const fixedPack = new Float64Array(P);
  workloads.forEach((w, wi) => {
    if (isFree[wi]) return;
    for (const [p, x] of input.rows[wi]) if (touched[p]) fixedPack[p] = Math.max(fixedPack[p], x / Math.max(1, perNode(pools[p], w.perInstance)));
  });
  pools.forEach((_, i) => {
    if (fixedPack[i] > 0) fixedPackRow[i] = addRow(fixedPack[i], Infinity);
  });
  // Churn: nodes − nodes the step before = up − down, each change at the churn price.
  const previousNodes = input.previousNodes ?? (t === 0 ? ctx.initialNodes : undefined);
  const churnRow = pools.map((_, i) => (touched[i] && ctx.churnPerNode > 0 && previousNodes ? addRow(previousNodes[i], previousNodes[i]) : NONE));
  const nodeCols: number[][] = pools.map(() => []);
  pools.forEach((p, i) => {
    if (!touched[i]) return;
    const avail = ctx.avail[t][i];
    const c = p.nodeType.capacity;
    if (churnRow[i] !== NONE) {
      column(ctx.churnPerNode, 0, Infinity, [[churnRow[i], -1]]);
      column(ctx.churnPerNode, 0, Infinity, [[churnRow[i], 1]]);
    }
    const entries: [number, number][] = [
      [churnRow[i], 1],
      [capRow[i][0], -c.cpuMillicores],
      [capRow[i][1], -c.memoryMiB],
      [capRow[i][2], -(c.networkMbps ?? 0)],
      ...packOf[i].map(([row, k]): [number, number] => [row, -k]),
      [fixedPackRow[i], 1],
    ];
    ctx.quotas.forEach((q, qi) => {
      if (q.provider !== p.provider) return;
      entries.push([quotaRows[qi][0], 1], [quotaRows[qi][1], c.cpuMillicores], [quotaRows[qi][2], c.memoryMiB]);
    });
    const r = Math.min(reserved[i], avail);
    const floor = input.open[i] ? Math.min(ctx.minNodes[i], avail) : 0;
    if (r > 0) nodeCols[i].push(column(0, Math.min(floor, r), r, entries));
    if (avail > r) nodeCols[i].push(column(p.costPerHour * h, Math.max(0, floor - r), avail - r, [...entries, [budgetRow, p.costPerHour * h]]));
  });
  const highs = await loadHighs();
  const numCols = cost.length;
  const numRows = rowLo.length;
  let created: ReturnType<typeof highs.createModel> | undefined;
  try {
    const hm = (created = highs.createModel({
      numCols,
      numRows,
      colCost: Float64Array.from(cost),
      colLower: Float64Array.from(lower),
      colUpper: Float64Array.from(upper),
      rowLower: Float64Array.from(rowLo),
      rowUpper: Float64Array.from(rowUp),
      matrix: { format: 'csc', numRows, numCols, starts: Int32Array.from(starts), indices: Int32Array.from(index), values: Float64Array.from(value) },
      integrality: new Int32Array(numCols),
    }));
    hm.options.set({ output_flag: false, time_limit: 30 });
    hm.run();
    if (hm.getModelStatus() !== 7) return undefined;
    let iterations = Number(hm.info.get('simplex_iteration_count'));
    let priced = 0;
    if (input.pricing) {
      const given = pairs.map((list) => new Set(list));
      let numColsNow = numCols;
      let numRowsNow = numRows;
      for (let round = 0; round < MAX_PRICING_ROUNDS; round++) {
        // Reduced cost of x_wp (a start in pool p) at the duals y: μ − y·(its column).
        const y = hm.getSolution().rowDual;
        const colStarts = [0];
        const colRows: number[] = [];
        const colValues: number[] = [];
        const packRows: [number, number, number][] = [];
        free.forEach((wi, k) => {
          const key = workloads[wi].spread?.domain === 'zone' ? ctx.zoneKey : ctx.providerKey;
          for (let p = 0; p < P; p++) {
            // A pool in a domain the workload's spread rows do not cover would need rows of its own: not offered.
            if (!touched[p] || nodeCols[p].length === 0 || given[k].has(p) || !eligible[wi].has(p) || (spreadRows[k].size > 0 && !spreadRows[k].has(key[p]))) continue;
            const entries = placementEntries(k, p).filter(([row, v]) => row !== NONE && v !== 0);
            let reduced = ctx.migrationPerInstance;
            for (const [row, v] of entries) reduced -= y[row] * v;
            if (reduced >= -PRICING_TOLERANCE) continue;
            for (const [row, v] of entries.sort((a, b) => a[0] - b[0])) colRows.push(row), colValues.push(v);
            colStarts.push(colRows.length);
            const c = numColsNow + colStarts.length - 2;
            xCols[k].push([p, c]);
            given[k].add(p);
            const perNodeCount = perNode(pools[p], workloads[wi].perInstance);
            if (perNodeCount < ctx.req[t][wi]) packRows.push([c, p, perNodeCount]);
          }
        });
        const added = colStarts.length - 1;
        if (added === 0) break;
        hm.addCols({
          cost: new Float64Array(added).fill(ctx.migrationPerInstance),
          lower: new Float64Array(added),
          upper: new Float64Array(added).fill(Infinity),
          matrix: { format: 'csc', numRows: numRowsNow, numCols: added, starts: Int32Array.from(colStarts), indices: Int32Array.from(colRows), values: Float64Array.from(colValues) },
        });
        numColsNow += added;
        priced += added;
        if (packRows.length > 0) {
          // Packing cuts of the new columns: x_wp ≤ perNode · nodes_p.
          const rowStarts = [0];
          const rowCols: number[] = [];
          const rowValues: number[] = [];
          for (const [c, p, k] of packRows) {
            for (const n of nodeCols[p]) rowCols.push(n), rowValues.push(-k);
            rowCols.push(c), rowValues.push(1);
            rowStarts.push(rowCols.length);
          }
          const m = packRows.length;
          hm.addRows({ lower: new Float64Array(m).fill(-Infinity), upper: new Float64Array(m), matrix: { format: 'csr', numRows: m, numCols: numColsNow, starts: Int32Array.from(rowStarts), indices: Int32Array.from(rowCols), values: Float64Array.from(rowValues) } });
          numRowsNow += m;
        }
        hm.run();
        if (hm.getModelStatus() !== 7) return undefined;
        iterations += Number(hm.info.get('simplex_iteration_count'));
      }
    }
    const x = hm.getSolution().colValue;
    free.forEach((wi, k) => {
      const m = new Map<number, number>();
      for (const [p, c] of xCols[k]) if (x[c] > 1e-9) m.set(p, (m.get(p) ?? 0) + x[c]);
      amounts[wi] = m;
    });
    const nodes = new Float64Array(P);
    nodeCols.forEach((cs, i) => {
      if (cs.length) nodes[i] = cs.reduce((sum, c) => sum + x[c], 0);
      else nodes[i] = fixedNodes[i];
    });
    return { amounts, nodes, objective: hm.getObjectiveValue(), seconds: (performance.now() - started) / 1000, iterations, free: free.length, priced };
  } catch (error) {
    throw highsFailure(error, numCols, numRows);
  } finally {
    created?.dispose();
  }
}
