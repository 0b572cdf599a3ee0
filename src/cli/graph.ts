import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { InvalidInputError } from '../core/errors.ts';
import type { Resources } from '../core/model.ts';
import { loadScenarioFile } from '../config/load.ts';
import { buildDependencyGraph, edgeTraffic, propagateRates, roots, type DependencyGraph } from '../graph/graph.ts';
import { graphFromManifests, type RatioProfile, type RatioSource } from '../graph/fromManifests.ts';
import { BOUTIQUE_ASSUMPTIONS } from '../graph/onlineBoutique.ts';
import { readLocustTaskWeights } from '../ingest/locust.ts';
import { readManifests, type ResourceAmounts, type UnresolvedAddress } from '../ingest/manifests.ts';
import { table } from './format.ts';

/**
 * `headroom graph FILE`: the dependency graph of Kubernetes manifests or of
 * a scenario, with each service's requests, the edges and their ratios, the
 * topological order, and every service's demand for given entry rates.
 */

export interface GraphFlags {
  entry?: string[];
  ratios?: string;
  locustfile?: string;
  cartLines?: string;
  /** False with --no-redirects. */
  redirects?: boolean;
  json?: string;
}

interface ServiceRow {
  readonly name: string;
  readonly requests?: ResourceAmounts;
  readonly limits?: ResourceAmounts;
  readonly stateful?: string;
  readonly exposed?: boolean;
  readonly client?: boolean;
  readonly sized?: boolean;
}

interface Loaded {
  readonly kind: 'manifests' | 'scenario';
  readonly graph: DependencyGraph;
  /** Where each edge's ratio came from: a RatioSource for manifests, `scenario` for a scenario's edges. */
  readonly sources: ReadonlyMap<string, RatioSource | 'scenario'>;
  readonly ratios?: string;
  readonly rows: readonly ServiceRow[];
  readonly defaultEntry: readonly string[];
  readonly unresolved: readonly UnresolvedAddress[];
}

function isManifests(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new InvalidInputError(path, 'file not found');
  }
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return false;
  return docs.some((d) => {
    const js: unknown = d.errors.length ? undefined : d.toJS();
    return typeof js === 'object' && js !== null && 'kind' in js && 'apiVersion' in js;
  });
}

function parseProfile(text: string | undefined): RatioProfile {
  const v = text ?? 'auto';
  if (v !== 'auto' && v !== 'online-boutique' && v !== 'unit') throw new InvalidInputError('--ratios', `"${v}" is not a ratio profile (auto, online-boutique or unit)`);
  return v;
}

function load(path: string, flags: GraphFlags): Loaded {
  if (isManifests(path)) {
    const imp = readManifests(path);
    const cartLines = flags.cartLines === undefined ? undefined : Number(flags.cartLines);
    if (cartLines !== undefined && !(Number.isFinite(cartLines) && cartLines >= 0)) throw new InvalidInputError('--cart-lines', `"${flags.cartLines}" is not a number ≥ 0`);
    const mg = graphFromManifests(imp, {
      ratios: parseProfile(flags.ratios),
      taskWeights: flags.locustfile ? readLocustTaskWeights(flags.locustfile) : undefined,
      assumptions: { ...BOUTIQUE_ASSUMPTIONS, ...(cartLines === undefined ? {} : { cartLines }), followRedirects: flags.redirects !== false },
    });
    const exposed = imp.services.filter((s) => s.exposed).map((s) => s.name);
    return {
      kind: 'manifests',
      graph: mg.graph,
      sources: new Map(mg.edges.map((e) => [`${e.from}\u0000${e.to}`, e.source])),
      ratios: mg.profile,
      rows: imp.services.map((s) => ({
        name: s.name,
        requests: s.podRequests,
        limits: s.podLimits,
        ...(s.stateful ? { stateful: `${s.stateful.kind}: ${s.stateful.reason}` } : {}),
        exposed: s.exposed,
        client: s.client,
      })),
      defaultEntry: exposed.length ? exposed : roots(mg.graph),
      unresolved: imp.unresolved,
    };
  }
  if (flags.ratios || flags.locustfile || flags.cartLines || flags.redirects === false) {
    throw new InvalidInputError('graph', '--ratios, --locustfile, --cart-lines and --no-redirects apply to manifests; a scenario sets them under graph:');
  }
  const s = loadScenarioFile(path);
  const info = new Map((s.graph?.services ?? []).map((x) => [x.name, x]));
  const workloads = new Map(s.workloads.map((w) => [w.name, w]));
  const names = s.graph ? s.graph.services.map((x) => x.name) : s.workloads.map((w) => w.name);
  const graph = buildDependencyGraph(names, s.dependencies, path);
  const perInstance = (n: string): Resources | undefined => workloads.get(n)?.perInstance ?? info.get(n)?.podRequests;
  return {
    kind: 'scenario',
    graph,
    sources: new Map(s.dependencies.map((e) => [`${e.from}\u0000${e.to}`, 'scenario' as const])),
    ...(s.graph?.ratios ? { ratios: s.graph.ratios } : {}),
    rows: names.map((n) => {
      const x = info.get(n);
      const r = perInstance(n);
      return {
        name: n,
        ...(r ? { requests: { cpuMillicores: r.cpuMillicores, memoryMiB: r.memoryMiB } } : {}),
        ...(x?.stateful ? { stateful: `${x.stateful.kind}: ${x.stateful.reason}` } : {}),
        ...(x?.exposed !== undefined ? { exposed: x.exposed } : {}),
        ...(x?.client !== undefined ? { client: x.client } : {}),
        sized: workloads.has(n),
      };
    }),
    defaultEntry: s.graph ? s.graph.entry : roots(graph),
    unresolved: [],
  };
}

/** "frontend=100" → ["frontend", 100]. */
export function parseEntries(entries: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries) {
    const m = /^([^=]+)=(.+)$/.exec(e);
    const rps = m ? Number(m[2]) : Number.NaN;
    if (!m || !Number.isFinite(rps) || rps < 0) throw new InvalidInputError('--entry', `"${e}" is not SERVICE=REQUESTS_PER_SECOND (e.g. frontend=100)`);
    out[m[1].trim()] = rps;
  }
  return out;
}

const cpu = (m?: number) => (m === undefined ? '-' : `${m}m`);
const mem = (mib?: number) => (mib === undefined ? '-' : `${Number(mib.toFixed(1))}Mi`);
const num = (x: number, digits = 2) => x.toFixed(digits);

/** Run the command; returns the text to print and the JSON document. */
export function graphReport(path: string, flags: GraphFlags): { text: string; json: unknown } {
  const l = load(path, flags);
  const entry = flags.entry && flags.entry.length > 0 ? parseEntries(flags.entry) : Object.fromEntries(l.defaultEntry.map((e) => [e, 1]));
  const demand = propagateRates(l.graph, entry, '--entry');
  const position = new Map(l.graph.order.map((s, i) => [s, i + 1]));
  // Edges in call order: by caller, then callee, along the topological order.
  const traffic = edgeTraffic(l.graph, demand).sort((a, b) => position.get(a.from)! - position.get(b.from)! || position.get(a.to)! - position.get(b.to)!);
  const rowsByName = new Map(l.rows.map((r) => [r.name, r]));
  const entryText = Object.entries(entry).map(([k, v]) => `${k} = ${v} req/s`).join(', ');
  const ratioText = l.ratios === 'online-boutique'
    ? "online-boutique (derived from its load generator's request mix; see docs/dependency-graph.md)"
    : l.ratios === 'unit'
      ? 'unit (1 call per request on every imported edge: a placeholder, not a measurement)'
      : 'as declared';

  const notes = (r: ServiceRow) =>
    [r.exposed ? 'exposed' : '', r.client ? 'client (no Service)' : '', r.stateful ? `stateful ${r.stateful}` : '', r.sized === false && !r.client ? 'not sized' : '']
      .filter(Boolean)
      .join('; ');
  const serviceRows = l.graph.order.map((s) => {
    const r = rowsByName.get(s) ?? { name: s };
    return [s, String(position.get(s)), cpu(r.requests?.cpuMillicores), mem(r.requests?.memoryMiB), cpu(r.limits?.cpuMillicores), mem(r.limits?.memoryMiB), num(demand.get(s)!), notes(r)];
  });
  const edgeRows = traffic.map((t) => [
    t.from,
    t.to,
    num(t.callsPerRequest, 4),
    l.sources.get(`${t.from}\u0000${t.to}`) ?? 'declared',
    num(t.callsPerSecond),
    t.bytesPerSecond === undefined ? '-' : num(t.bytesPerSecond, 0),
  ]);
  const lines = [
    `Dependency graph of ${path} (${l.kind})`,
    `${l.graph.services.length} services, ${l.graph.edges.length} edges; call ratios: ${ratioText}`,
    `entry: ${entryText}${flags.entry?.length ? '' : ' (default; set with --entry SERVICE=RPS)'}`,
    '',
    table(['service', 'order', 'cpu req', 'mem req', 'cpu lim', 'mem lim', 'demand req/s', 'notes'], serviceRows, [7]),
    '',
    table(['from', 'to', 'calls/request', 'ratio from', 'calls/s', 'bytes/s'], edgeRows, [1, 3]),
    '',
    `topological order: ${l.graph.order.join(' → ')}`,
  ];
  if (l.unresolved.length) {
    lines.push('', 'not in the graph (address names nothing in these manifests):');
    for (const u of l.unresolved) lines.push(`  ${u.from} ${u.envVar}="${u.address}": ${u.problem} (${u.where})`);
  }
  const json = {
    file: path,
    kind: l.kind,
    ratios: l.ratios ?? 'declared',
    entry,
    order: l.graph.order,
    services: l.graph.order.map((s) => {
      const r = rowsByName.get(s) ?? { name: s };
      return { ...r, name: s, demandRps: demand.get(s)! };
    }),
    edges: traffic.map((t) => ({ ...t, source: l.sources.get(`${t.from}\u0000${t.to}`) ?? 'declared', where: l.graph.edges.find((e) => e.from === t.from && e.to === t.to)?.where })),
    unresolved: l.unresolved,
  };
  return { text: lines.join('\n') + '\n', json };
}
