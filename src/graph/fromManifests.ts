import type { ManifestImport } from '../ingest/manifests.ts';
import { buildDependencyGraph, type DeclaredEdge, type DependencyGraph } from './graph.ts';
import { BOUTIQUE_ASSUMPTIONS, BOUTIQUE_SERVICES, deriveBoutiqueRatios, LOCUST_TASK_WEIGHTS, type BoutiqueAssumptions } from './onlineBoutique.ts';

/**
 * A dependency graph from imported manifests: the edges come from the
 * manifests' `*_ADDR` variables, their call ratios from a profile, and any
 * ratio (or extra edge) the user declares overrides both.
 *
 * Profiles: `online-boutique` (the ratios derived from its load generator's
 * mix, src/graph/onlineBoutique.ts), `unit` (1 call per request on every
 * edge: a placeholder that says "each request calls each dependency once",
 * shown as such so nobody mistakes it for a measurement), or `auto`
 * (online-boutique when the manifests hold all its services, else unit).
 */
export type RatioProfile = 'auto' | 'online-boutique' | 'unit';

/** Where an edge's ratio came from. */
export type RatioSource = 'declared' | 'online-boutique' | 'unit';

export interface ResolvedEdge extends DeclaredEdge {
  readonly source: RatioSource;
}

export interface ManifestGraph {
  readonly graph: DependencyGraph;
  /** The graph's edges with the source of each ratio, in the graph's edge order. */
  readonly edges: readonly ResolvedEdge[];
  /** The profile used (never `auto`). */
  readonly profile: 'online-boutique' | 'unit';
}

export interface ManifestGraphOptions {
  readonly ratios?: RatioProfile;
  /** Locust task weights for the online-boutique profile (default: those of its locustfile.py). */
  readonly taskWeights?: Readonly<Record<string, number>>;
  readonly assumptions?: BoutiqueAssumptions;
  /** Edges declared by the user: replace the ratio of the same from → to, or add an edge. */
  readonly declared?: readonly DeclaredEdge[];
  /** Services the manifests do not have that join the graph (declared edges may name them). */
  readonly extraServices?: readonly string[];
}

export function graphFromManifests(imp: ManifestImport, options: ManifestGraphOptions = {}): ManifestGraph {
  const names = imp.services.map((s) => s.name);
  const requested = options.ratios ?? 'auto';
  const profile = requested === 'auto' ? (BOUTIQUE_SERVICES.every((s) => names.includes(s)) ? 'online-boutique' : 'unit') : requested;
  const profileRatios = new Map<string, number>();
  if (profile === 'online-boutique') {
    for (const e of deriveBoutiqueRatios(options.taskWeights ?? LOCUST_TASK_WEIGHTS, options.assumptions ?? BOUTIQUE_ASSUMPTIONS).edges) {
      profileRatios.set(`${e.from}\u0000${e.to}`, e.callsPerRequest);
    }
  }
  const declared = new Map((options.declared ?? []).map((e) => [`${e.from}\u0000${e.to}`, e]));
  const edges: ResolvedEdge[] = imp.edges.map((m) => {
    const key = `${m.from}\u0000${m.to}`;
    const d = declared.get(key);
    if (d) {
      declared.delete(key);
      return { ...d, source: 'declared' };
    }
    const r = profileRatios.get(key);
    return { from: m.from, to: m.to, callsPerRequest: r ?? 1, where: m.where, source: r === undefined ? 'unit' : profile };
  });
  // Declared edges the manifests do not have are added (the graph checks that both ends exist).
  for (const d of declared.values()) edges.push({ ...d, source: 'declared' });
  const extra = (options.extraServices ?? []).filter((s) => !names.includes(s));
  return { graph: buildDependencyGraph([...names, ...extra], edges, imp.file), edges, profile };
}
