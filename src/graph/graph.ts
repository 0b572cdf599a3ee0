import { InvalidInputError } from '../core/errors.ts';
import type { QuantileForecast, QuantilePath } from '../core/forecast.ts';
import type { DependencyEdge } from '../core/model.ts';
import type { Series } from '../core/series.ts';

/**
 * The service dependency graph: which service calls which, and how often.
 *
 * An edge A → B carries `callsPerRequest`: calls of B made per request A
 * serves (and optionally `bytesPerCall`). Demand is linear along edges:
 *
 *   demand_B = external_B + Σ_{A → B} demand_A × callsPerRequest(A → B)
 *
 * The graph must be acyclic (a call cycle would make demand the solution of
 * a linear system that need not be finite, and real request paths do not
 * loop), so demand is computed in one pass over a topological order.
 * Everything here is pure: values in, values out.
 */

/** An edge plus where it was declared ("scenario.yaml: dependencies[2]", "manifests.yaml: Deployment frontend env CART_SERVICE_ADDR"), for error messages. */
export interface DeclaredEdge extends DependencyEdge {
  readonly where?: string;
}

export interface DependencyGraph {
  /** Every service, in declaration order. */
  readonly services: readonly string[];
  readonly edges: readonly DeclaredEdge[];
  /** Topological order: every caller before its callees; ties keep declaration order. */
  readonly order: readonly string[];
  /** Edges into each service (its callers). */
  readonly callers: ReadonlyMap<string, readonly DeclaredEdge[]>;
  /** Edges out of each service (its callees). */
  readonly callees: ReadonlyMap<string, readonly DeclaredEdge[]>;
}

const arrow = ' → ';

function edgeLabel(e: DeclaredEdge): string {
  return `${e.from}${arrow}${e.to}${e.where ? ` (declared at ${e.where})` : ''}`;
}

/**
 * Validate services and edges and build the graph. Errors name the problem
 * and where it was declared: an edge to or from an unknown service, a
 * duplicate edge, a negative or non-finite ratio, and any call cycle with its
 * path ("cycle: frontend → cart → frontend").
 */
export function buildDependencyGraph(services: readonly string[], edges: readonly DeclaredEdge[], where: string): DependencyGraph {
  const known = new Set<string>();
  for (const s of services) {
    if (known.has(s)) throw new InvalidInputError(where, `service "${s}" is declared twice`);
    known.add(s);
  }
  const seenEdges = new Map<string, DeclaredEdge>();
  for (const e of edges) {
    for (const end of [e.from, e.to]) {
      if (!known.has(end)) {
        throw new InvalidInputError(e.where ?? where, `edge ${e.from}${arrow}${e.to} names unknown service "${end}" (known services: ${[...known].join(', ') || 'none'})`);
      }
    }
    if (!Number.isFinite(e.callsPerRequest) || e.callsPerRequest < 0) {
      throw new InvalidInputError(e.where ?? where, `edge ${e.from}${arrow}${e.to}: callsPerRequest must be a finite number ≥ 0, got ${e.callsPerRequest}`);
    }
    if (e.bytesPerCall !== undefined && (!Number.isFinite(e.bytesPerCall) || e.bytesPerCall < 0)) {
      throw new InvalidInputError(e.where ?? where, `edge ${e.from}${arrow}${e.to}: bytesPerCall must be a finite number ≥ 0, got ${e.bytesPerCall}`);
    }
    const key = `${e.from}\u0000${e.to}`;
    const prev = seenEdges.get(key);
    if (prev) {
      throw new InvalidInputError(e.where ?? where, `edge ${e.from}${arrow}${e.to} is declared twice${prev.where ? ` (first at ${prev.where})` : ''}`);
    }
    seenEdges.set(key, e);
  }

  const callers = new Map<string, DeclaredEdge[]>(services.map((s) => [s, []]));
  const callees = new Map<string, DeclaredEdge[]>(services.map((s) => [s, []]));
  for (const e of edges) {
    callers.get(e.to)!.push(e);
    callees.get(e.from)!.push(e);
  }

  // Kahn's algorithm; among ready services the earliest declared goes first, so the order is deterministic.
  const position = new Map(services.map((s, i) => [s, i]));
  const indegree = new Map(services.map((s) => [s, callers.get(s)!.length]));
  // `ready` is kept sorted by declaration position, latest first, so the earliest is popped from the end.
  const ready = services.filter((s) => indegree.get(s) === 0).reverse();
  const insertReady = (s: string) => {
    const p = position.get(s)!;
    let lo = 0;
    let hi = ready.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (position.get(ready[mid])! > p) lo = mid + 1;
      else hi = mid;
    }
    ready.splice(lo, 0, s);
  };
  const order: string[] = [];
  while (ready.length > 0) {
    const s = ready.pop()!;
    order.push(s);
    for (const e of callees.get(s)!) {
      const d = indegree.get(e.to)! - 1;
      indegree.set(e.to, d);
      if (d === 0) insertReady(e.to);
    }
  }
  if (order.length < services.length) {
    const found = findCycle(services.filter((s) => indegree.get(s)! > 0), callers);
    // Start the reported cycle at its earliest declared service, so the message does not depend on the walk.
    let start = 0;
    found.forEach((e, i) => {
      if (position.get(e.from)! < position.get(found[start].from)!) start = i;
    });
    const cycle = found.slice(start).concat(found.slice(0, start));
    const path = cycle.map((e) => e.from).concat(cycle[0].from).join(arrow);
    const sites = cycle.filter((e) => e.where).map((e) => `${e.from}${arrow}${e.to} at ${e.where}`);
    throw new InvalidInputError(where, `the dependency graph has a cycle: ${path}${sites.length ? ` (edges declared: ${sites.join('; ')})` : ''}`);
  }
  return { services: [...services], edges: [...edges], order, callers, callees };
}

/**
 * A cycle among `remaining`, the services Kahn's algorithm could not order,
 * as its edges in call order. Each of them still has a caller among them
 * (its in-degree stayed above 0), so walking backwards along callers never
 * gets stuck and, in a finite set, must revisit a service: that loop is a cycle.
 */
function findCycle(remaining: readonly string[], callers: ReadonlyMap<string, readonly DeclaredEdge[]>): DeclaredEdge[] {
  const inRemaining = new Set(remaining);
  const visitedAt = new Map<string, number>();
  const walk: DeclaredEdge[] = [];
  let node = remaining[0];
  while (!visitedAt.has(node)) {
    visitedAt.set(node, walk.length);
    const back = callers.get(node)!.find((e) => inRemaining.has(e.from))!;
    walk.push(back);
    node = back.from;
  }
  return walk.slice(visitedAt.get(node)!).reverse();
}

/** Services nothing calls (the graph's roots), in topological order. */
export function roots(graph: DependencyGraph): string[] {
  return graph.order.filter((s) => graph.callers.get(s)!.length === 0);
}

/** The services that have external demand (entry points), in topological order. */
export function entryPoints(graph: DependencyGraph, external: Readonly<Record<string, unknown>>): string[] {
  return graph.order.filter((s) => external[s] !== undefined);
}

function checkExternalNames(graph: DependencyGraph, names: readonly string[], where: string): void {
  const known = new Set(graph.services);
  for (const n of names) {
    if (!known.has(n)) throw new InvalidInputError(where, `external demand names unknown service "${n}" (known services: ${graph.services.join(', ')})`);
  }
}

/**
 * The linear propagation all the public functions share: each service's
 * demand is a vector (one value, a series, or a forecast's paths laid end to
 * end), propagated element by element in topological order.
 */
function propagateVectors(graph: DependencyGraph, external: ReadonlyMap<string, readonly number[]>, length: number): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const s of graph.order) {
    const own = external.get(s);
    const acc = own ? own.slice() : new Array<number>(length).fill(0);
    for (const e of graph.callers.get(s)!) {
      const from = out.get(e.from)!;
      const k = e.callsPerRequest;
      if (k === 0) continue;
      for (let i = 0; i < length; i++) acc[i] += from[i] * k;
    }
    out.set(s, acc);
  }
  return out;
}

/**
 * Demand of every service, in requests per second, from external demand at
 * the entry points (services absent from `external` have none of their own).
 */
export function propagateRates(graph: DependencyGraph, externalRps: Readonly<Record<string, number>>, where = 'external demand'): Map<string, number> {
  const names = Object.keys(externalRps);
  checkExternalNames(graph, names, where);
  for (const n of names) {
    const v = externalRps[n];
    if (!Number.isFinite(v) || v < 0) throw new InvalidInputError(where, `demand of "${n}" must be a finite number ≥ 0 requests/s, got ${v}`);
  }
  const vectors = propagateVectors(graph, new Map(names.map((n) => [n, [externalRps[n]]])), 1);
  return new Map(graph.order.map((s) => [s, vectors.get(s)![0]]));
}

/**
 * Demand per unit of demand at `entry`: how many requests each service
 * serves per request entering at `entry` (the sum over every path from
 * `entry` of the product of its edges' call ratios).
 */
export function demandPerEntryRequest(graph: DependencyGraph, entry: string): Map<string, number> {
  return propagateRates(graph, { [entry]: 1 });
}

/**
 * Demand series of every service from external demand series. All external
 * series must share one grid (start, step, length): resample them first.
 */
export function propagateSeries(graph: DependencyGraph, external: Readonly<Record<string, Series>>, where = 'external demand'): Map<string, Series> {
  const names = Object.keys(external);
  if (names.length === 0) throw new InvalidInputError(where, 'no external demand series: name at least one entry point');
  checkExternalNames(graph, names, where);
  const first = external[names[0]];
  for (const n of names) {
    const s = external[n];
    if (s.startSeconds !== first.startSeconds || s.stepSeconds !== first.stepSeconds || s.values.length !== first.values.length) {
      throw new InvalidInputError(
        where,
        `demand series of "${n}" (start ${s.startSeconds}, step ${s.stepSeconds} s, ${s.values.length} values) is not on the grid of "${names[0]}" (start ${first.startSeconds}, step ${first.stepSeconds} s, ${first.values.length} values)`,
      );
    }
  }
  const vectors = propagateVectors(graph, new Map(names.map((n) => [n, external[n].values])), first.values.length);
  return new Map(graph.order.map((s) => [s, { startSeconds: first.startSeconds, stepSeconds: first.stepSeconds, values: vectors.get(s)! }]));
}

/**
 * Forecasts of every service from forecasts at the entry points.
 *
 * The mean propagates exactly (expectation is linear whatever the
 * dependence between entry points). Each quantile path propagates the same
 * way, level by level: service B's q-quantile is Σ_entries a_{e,B} × (entry
 * e's q-quantile), where a_{e,B} ≥ 0 is B's demand per request at e. This is
 * the quantile of the sum under the comonotone assumption (entry demands
 * rise and fall together):
 * - with a single entry point it is exact: B's demand is a × X with a ≥ 0,
 *   and the q-quantile of a × X is a × (q-quantile of X);
 * - with several entry points it is the upper limit of perfect positive
 *   dependence: for entry demands whose joint distribution is elliptical
 *   (Gaussian forecast errors, for example) the true band is never wider, so
 *   upper quantiles are over- and lower quantiles under-stated: sizing from
 *   it is conservative. It is not a bound for every joint distribution (a
 *   quantile is not sub-additive for heavy-tailed or very skewed ones); see
 *   docs/dependency-graph.md.
 * All entry forecasts must share start, step, horizon and quantile levels.
 */
export function propagateForecast(graph: DependencyGraph, external: Readonly<Record<string, QuantileForecast>>, where = 'external forecast'): Map<string, QuantileForecast> {
  const names = Object.keys(external);
  if (names.length === 0) throw new InvalidInputError(where, 'no external forecast: name at least one entry point');
  checkExternalNames(graph, names, where);
  const first = external[names[0]];
  const levels = first.quantiles.map((q) => q.level);
  const horizon = first.mean.length;
  for (const n of names) {
    const f = external[n];
    if (f.startSeconds !== first.startSeconds || f.stepSeconds !== first.stepSeconds || f.mean.length !== horizon) {
      throw new InvalidInputError(where, `forecast of "${n}" (start ${f.startSeconds}, step ${f.stepSeconds} s, ${f.mean.length} steps) is not on the grid of "${names[0]}" (start ${first.startSeconds}, step ${first.stepSeconds} s, ${horizon} steps)`);
    }
    const own = f.quantiles.map((q) => q.level);
    if (own.length !== levels.length || own.some((l, i) => l !== levels[i])) {
      throw new InvalidInputError(where, `forecast of "${n}" has quantile levels [${own.join(', ')}], not those of "${names[0]}" [${levels.join(', ')}]`);
    }
    for (const q of f.quantiles) {
      if (q.values.length !== horizon) throw new InvalidInputError(where, `forecast of "${n}": quantile ${q.level} has ${q.values.length} values, the mean ${horizon}`);
    }
  }
  // Lay out [mean, q_1, …, q_k] end to end: propagation is linear, so one pass carries them all.
  const flat = (f: QuantileForecast): number[] => f.mean.concat(...f.quantiles.map((q) => q.values));
  const vectors = propagateVectors(graph, new Map(names.map((n) => [n, flat(external[n])])), horizon * (1 + levels.length));
  const models = [...new Set(names.map((n) => external[n].model))].join('+');
  return new Map(
    graph.order.map((s) => {
      const v = vectors.get(s)!;
      const quantiles: QuantilePath[] = levels.map((level, k) => ({ level, values: v.slice((k + 1) * horizon, (k + 2) * horizon) }));
      return [s, { model: `propagated(${models})`, startSeconds: first.startSeconds, stepSeconds: first.stepSeconds, mean: v.slice(0, horizon), quantiles }];
    }),
  );
}

/** Traffic on one edge at given demand. */
export interface EdgeTraffic {
  readonly from: string;
  readonly to: string;
  readonly callsPerRequest: number;
  /** Calls of `to` made by `from`, per second. */
  readonly callsPerSecond: number;
  /** Request bytes sent along the edge per second; present when the edge has `bytesPerCall`. */
  readonly bytesPerSecond?: number;
}

/** Calls per second (and bytes per second when known) on every edge, from every service's demand in requests per second. */
export function edgeTraffic(graph: DependencyGraph, demandRps: ReadonlyMap<string, number>): EdgeTraffic[] {
  return graph.edges.map((e) => {
    const callsPerSecond = (demandRps.get(e.from) ?? 0) * e.callsPerRequest;
    return {
      from: e.from,
      to: e.to,
      callsPerRequest: e.callsPerRequest,
      callsPerSecond,
      ...(e.bytesPerCall === undefined ? {} : { bytesPerSecond: callsPerSecond * e.bytesPerCall }),
    };
  });
}
