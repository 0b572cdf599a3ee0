import { resolve } from 'node:path';
import { InvalidInputError } from '../core/errors.ts';
import type { DependencyEdge, GraphServiceInfo, ScenarioGraph, Workload } from '../core/model.ts';
import type { Series } from '../core/series.ts';
import { buildDependencyGraph, propagateSeries, type DeclaredEdge, type DependencyGraph } from '../graph/graph.ts';
import { graphFromManifests } from '../graph/fromManifests.ts';
import { BOUTIQUE_ASSUMPTIONS } from '../graph/onlineBoutique.ts';
import { readLocustTaskWeights } from '../ingest/locust.ts';
import { readManifests, type ManifestService } from '../ingest/manifests.ts';
import { workloadSchema, type GraphConfig, type GraphWorkloadOptions, type RiskQuantilesConfig, type ScenarioFile } from './schema.ts';
import { toWorkload } from './domain.ts';

/**
 * A scenario's `graph:` section, turned into workloads: the entry workloads
 * keep their traces as external demand; every other service of the graph
 * (but clients and `exclude`d ones) becomes a workload whose options come
 * from `graph.services.<name>`, then the manifests' pod requests (CPU and
 * memory), then `graph.workloadDefaults`, and whose demand is propagated
 * along the edges, step by step, on the scenario's grid.
 */
export interface GraphExpansion {
  /** The declared workloads (entries with propagated demand) followed by the generated ones, callers first. */
  readonly workloads: Workload[];
  /** The graph's edges with their ratios. */
  readonly dependencies: DependencyEdge[];
  readonly graph: ScenarioGraph;
}

export function expandGraph(file: ScenarioFile, g: GraphConfig, declaredWorkloads: readonly Workload[], baseDir: string, where: string): GraphExpansion {
  const declaredEdges: DeclaredEdge[] = file.dependencies.map((e, i) => ({ ...e, where: `${where}: dependencies[${i}]` }));
  const declaredNames = declaredWorkloads.map((w) => w.name);

  let graph: DependencyGraph;
  let imported: ReadonlyMap<string, ManifestService> = new Map();
  let ratios: ScenarioGraph['ratios'];
  let source = 'dependencies';
  if (g.manifests !== undefined) {
    const imp = readManifests(resolve(baseDir, g.manifests));
    imported = new Map(imp.services.map((s) => [s.name, s]));
    // Declared workloads the manifests do not have join the graph as services of their own.
    const extra = declaredNames.filter((n) => !imported.has(n));
    const taskWeights = g.locustfile === undefined ? undefined : readLocustTaskWeights(resolve(baseDir, g.locustfile));
    const mg = graphFromManifests(imp, {
      ratios: g.ratios,
      taskWeights,
      assumptions: {
        ...BOUTIQUE_ASSUMPTIONS,
        ...(g.cartLines === undefined ? {} : { cartLines: g.cartLines }),
        ...(g.followRedirects === undefined ? {} : { followRedirects: g.followRedirects }),
      },
      declared: declaredEdges,
      extraServices: extra,
    });
    graph = mg.graph;
    ratios = mg.profile;
    source = g.manifests;
  } else {
    for (const key of ['locustfile', 'cartLines', 'followRedirects'] as const) {
      if (g[key] !== undefined) throw new InvalidInputError(`${where}: graph.${key}`, 'applies to ratios derived for imported manifests; without graph.manifests, give each edge its callsPerRequest in dependencies');
    }
    graph = buildDependencyGraph([...new Set([...declaredNames, ...Object.keys(g.services)])], declaredEdges, where);
  }

  const services = new Set(graph.services);
  const entry = typeof g.entry === 'string' ? [g.entry] : g.entry;
  for (const e of entry) {
    if (!declaredNames.includes(e)) {
      throw new InvalidInputError(`${where}: graph.entry`, `"${e}" is not a workload; entry points are workloads in \`workloads:\`, whose demand traces enter the graph (workloads: ${declaredNames.join(', ')})`);
    }
  }
  for (const n of g.exclude) {
    if (!services.has(n)) throw new InvalidInputError(`${where}: graph.exclude`, `"${n}" is not a service of the graph (services: ${graph.services.join(', ')})`);
  }
  for (const n of Object.keys(g.services)) {
    if (!services.has(n)) throw new InvalidInputError(`${where}: graph.services.${n}`, `"${n}" is not a service of the graph (services: ${graph.services.join(', ')})`);
    if (declaredNames.includes(n)) throw new InvalidInputError(`${where}: graph.services.${n}`, `"${n}" is declared in \`workloads:\`; set its options there`);
  }
  for (const w of declaredWorkloads) {
    if (!entry.includes(w.name) && graph.callers.get(w.name)!.length > 0) {
      throw new InvalidInputError(
        `${where}: workloads`,
        `workload "${w.name}" is called by ${graph.callers.get(w.name)!.map((e) => e.from).join(', ')} in the graph, so its demand comes from propagation: set its options under graph.services.${w.name} instead, or list it in graph.entry to add its trace as external demand`,
      );
    }
  }

  const external: Record<string, Series> = Object.fromEntries(entry.map((e) => [e, declaredWorkloads.find((w) => w.name === e)!.demand]));
  const demand = propagateSeries(graph, external, `${where}: graph`);

  const workloads: Workload[] = declaredWorkloads.map((w) => (entry.includes(w.name) ? { ...w, demand: demand.get(w.name)! } : w));
  const skipped = new Set([...declaredNames, ...g.exclude]);
  const accounts = new Set(file.accounts.map((a) => a.name));
  for (const s of graph.order) {
    if (skipped.has(s) || imported.get(s)?.client) continue;
    workloads.push(generatedWorkload(s, g, imported.get(s), demand.get(s)!, accounts, where, file.riskQuantiles));
  }
  const sized = new Set(workloads.map((w) => w.name));
  const info: GraphServiceInfo[] = graph.order.map((s) => {
    const m = imported.get(s);
    return {
      name: s,
      sized: sized.has(s),
      ...(m?.stateful ? { stateful: m.stateful } : {}),
      ...(m ? { exposed: m.exposed, client: m.client, podRequests: m.podRequests } : {}),
    };
  });
  return {
    workloads,
    dependencies: graph.edges.map((e) => ({ from: e.from, to: e.to, callsPerRequest: e.callsPerRequest, ...(e.bytesPerCall === undefined ? {} : { bytesPerCall: e.bytesPerCall }) })),
    graph: { entry, services: info, source, ...(ratios ? { ratios } : {}) },
  };
}

function generatedWorkload(name: string, g: GraphConfig, manifest: ManifestService | undefined, demand: Series, accounts: ReadonlySet<string>, where: string, riskQuantiles?: RiskQuantilesConfig): Workload {
  const fromManifest: GraphWorkloadOptions = {};
  if (manifest && manifest.podRequests.cpuMillicores > 0) fromManifest.cpuMillicores = manifest.podRequests.cpuMillicores;
  if (manifest && manifest.podRequests.memoryMiB > 0) fromManifest.memoryMiB = manifest.podRequests.memoryMiB;
  const options = { ...g.workloadDefaults, ...fromManifest, ...(g.services[name] ?? {}) };
  // Validate the merged options with the workload schema itself (same defaults and checks); the demand is a placeholder, replaced below.
  const parsed = workloadSchema.safeParse({ name, demand: { inline: { stepSeconds: 1, values: [0, 0] } }, ...options });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.code === 'invalid_type' && i.received === 'undefined' ? 'is required' : i.message}`);
    throw new InvalidInputError(
      `${where}: graph.services.${name}`,
      `service "${name}" of the graph needs workload options (in graph.services.${name} or graph.workloadDefaults${manifest ? '' : ', and CPU and memory since no manifest gives them'}): ${problems.join('; ')}`,
    );
  }
  if (parsed.data.account !== undefined && !accounts.has(parsed.data.account)) {
    throw new InvalidInputError(`${where}: graph.services.${name}.account`, `service "${name}" names account "${parsed.data.account}", which is not in accounts`);
  }
  return toWorkload(parsed.data, demand, riskQuantiles);
}
