/**
 * Dependency graph benchmark: building (validation + topological order) and
 * propagating a one-week 5-minute series and a 24-step forecast with three
 * quantile levels through layered random graphs, and importing the real
 * Online Boutique manifests. Prints a table; writes JSON to
 * bench/results/graph.json (or --json FILE).
 *
 *   npx tsx bench/graph.ts [--json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDependencyGraph, propagateForecast, propagateSeries, type DeclaredEdge } from '../src/graph/graph.ts';
import { graphFromManifests } from '../src/graph/fromManifests.ts';
import { readManifests } from '../src/ingest/manifests.ts';
import { table } from '../src/cli/format.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const jsonArg = process.argv.indexOf('--json');
const out = jsonArg > 0 ? process.argv[jsonArg + 1] : resolve(root, 'bench/results/graph.json');

/** A seeded linear congruential generator (deterministic graphs). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `layers` layers of `width` services; each service calls `fanOut` services of later layers. */
function layered(layers: number, width: number, fanOut: number, seed: number): { services: string[]; edges: DeclaredEdge[] } {
  const rnd = lcg(seed);
  const services: string[] = [];
  for (let l = 0; l < layers; l++) for (let i = 0; i < width; i++) services.push(`s${l}_${i}`);
  const edges: DeclaredEdge[] = [];
  for (let l = 0; l < layers - 1; l++) {
    for (let i = 0; i < width; i++) {
      const seen = new Set<string>();
      for (let k = 0; k < fanOut; k++) {
        const tl = l + 1 + Math.floor(rnd() * Math.min(2, layers - l - 1));
        const to = `s${tl}_${Math.floor(rnd() * width)}`;
        if (seen.has(to)) continue;
        seen.add(to);
        edges.push({ from: `s${l}_${i}`, to, callsPerRequest: 0.1 + rnd() });
      }
    }
  }
  return { services, edges };
}

function time<T>(fn: () => T, repeat: number): { ms: number; value: T } {
  let value = fn();
  const start = performance.now();
  for (let i = 0; i < repeat; i++) value = fn();
  return { ms: (performance.now() - start) / repeat, value };
}

const steps = 7 * 288;
const rows: Record<string, number | string>[] = [];
for (const [layers, width, fanOut] of [
  [4, 3, 3],
  [6, 20, 4],
  [10, 100, 5],
] as const) {
  const { services, edges } = layered(layers, width, fanOut, 42);
  const build = time(() => buildDependencyGraph(services, edges, 'bench'), 20);
  const g = build.value;
  const entry = { startSeconds: 0, stepSeconds: 300, values: Array.from({ length: steps }, (_, i) => 100 + 50 * Math.sin((2 * Math.PI * i) / 288)) };
  const series = time(() => propagateSeries(g, { s0_0: entry }), 5);
  const fc = { model: 'bench', startSeconds: 0, stepSeconds: 3600, mean: entry.values.slice(0, 24), quantiles: [0.05, 0.5, 0.95].map((level) => ({ level, values: entry.values.slice(0, 24).map((v) => v * (0.5 + level)) })) };
  const forecast = time(() => propagateForecast(g, { s0_0: fc }), 20);
  rows.push({ services: services.length, edges: edges.length, buildMs: build.ms, seriesMs: series.ms, seriesSteps: steps, forecastMs: forecast.ms });
}
const manifests = resolve(root, 'data/online-boutique/kubernetes-manifests.yaml');
const imp = time(() => graphFromManifests(readManifests(manifests)), 10);

process.stdout.write(
  table(
    ['services', 'edges', 'build (ms)', `series ${steps} steps (ms)`, 'forecast 24×4 paths (ms)'],
    rows.map((r) => [String(r.services), String(r.edges), Number(r.buildMs).toFixed(3), Number(r.seriesMs).toFixed(2), Number(r.forecastMs).toFixed(3)]),
  ) + `\n\nOnline Boutique manifests import + graph (12 services, 16 edges): ${imp.ms.toFixed(1)} ms\n`,
);
mkdirSync(dirname(resolve(out)), { recursive: true });
writeFileSync(resolve(out), JSON.stringify({ benchmark: 'graph', node: process.version, layered: rows, onlineBoutiqueImportMs: imp.ms }, null, 2) + '\n');
process.stderr.write(`wrote ${out}\n`);
