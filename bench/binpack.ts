/**
 * Vector bin packing quality and speed.
 *
 * 1. Falkenauer's u120 instances (data/binpacking/u120.txt, proven optima):
 *    nodes used by FFD, BFD and the best of all heuristics against the optimum and the L2 bound.
 * 2. Generated three-resource instances patterned on cloud catalogues: nodes of
 *    16 vCPU, 64 GiB and 10 Gbit/s; per-instance sizes heavy-tailed (log-normal CPU,
 *    1–8 GiB per core, 10–2000 Mbit/s log-uniform), instance counts Pareto; 100, 1,000
 *    and 10,000 instances: nodes, lower bound, gap, stranded capacity, seconds.
 * 3. The exact mode on small 3-D instances (20–48 items, each 1/8–5/8 of a node per resource).
 *
 * Usage: npx tsx bench/binpack.ts [--json FILE]   (default bench/results/binpack.json)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Resources } from '../src/core/model.ts';
import { type ItemType, fragmentation, lowerBounds, packBest, packExact, packVectors } from '../src/optimize/binpack.ts';
import { mulberry32 } from '../src/forecast/random.ts';

const root = resolve(import.meta.dirname, '..');
const jsonArg = process.argv.indexOf('--json');
const jsonPath = jsonArg >= 0 ? resolve(process.argv[jsonArg + 1]) : resolve(root, 'bench/results/binpack.json');

function seconds<T>(fn: () => T): [T, number] {
  const start = performance.now();
  const out = fn();
  return [out, (performance.now() - start) / 1000];
}

// 1. u120
const lines = readFileSync(resolve(root, 'data/binpacking/u120.txt'), 'utf8').split('\n').map((l) => l.trim()).filter(Boolean);
const u120: { name: string; optimum: number; ffd: number; bfd: number; best: number; bestMethod: string; lowerBound: number; seconds: number }[] = [];
let at = 1;
for (let k = 0; k < Number(lines[0]); k++) {
  const name = lines[at++];
  const [capacity, items, optimum] = lines[at++].split(/\s+/).map(Number);
  const counts = new Map<number, number>();
  for (const s of lines.slice(at, at + items).map(Number)) counts.set(s, (counts.get(s) ?? 0) + 1);
  at += items;
  const types: ItemType[] = [...counts].map(([s, count]) => ({ name: `s${s}`, size: { cpuMillicores: s, memoryMiB: 0 }, count }));
  const cap = { cpuMillicores: capacity, memoryMiB: 1 };
  const [best, t] = seconds(() => packBest(types, cap));
  u120.push({
    name,
    optimum,
    ffd: packVectors(types, cap).nodes.length,
    bfd: packVectors(types, cap, { rule: 'bestFit' }).nodes.length,
    best: best.nodes.length,
    bestMethod: best.method,
    lowerBound: lowerBounds(types, cap).bound,
    seconds: t,
  });
}
console.log('u120 (Falkenauer, OR-Library): nodes by heuristic vs the proven optimum');
console.log('instance   opt  FFD  BFD  best  L2   packBest s');
for (const r of u120) console.log(`${r.name.padEnd(9)} ${String(r.optimum).padStart(4)} ${String(r.ffd).padStart(4)} ${String(r.bfd).padStart(4)} ${String(r.best).padStart(5)} ${String(r.lowerBound).padStart(4)}   ${r.seconds.toFixed(4)}`);
const atOpt = u120.filter((r) => r.best === r.optimum).length;
console.log(`best heuristic optimal on ${atOpt}/${u120.length}; total excess ${u120.reduce((s, r) => s + r.best - r.optimum, 0)} bins over ${u120.reduce((s, r) => s + r.optimum, 0)}\n`);

// 2. Generated three-resource instances.
const node: Resources = { cpuMillicores: 16000, memoryMiB: 65536, networkMbps: 10000 };

function generate(instances: number, seed: number): ItemType[] {
  const random = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const types: ItemType[] = [];
  let left = instances;
  for (let w = 0; left > 0; w++) {
    // Pareto(α = 1.2) instance counts, at least 1.
    const count = Math.min(left, Math.max(1, Math.floor(1 / Math.pow(1 - random(), 1 / 1.2))));
    left -= count;
    const cpu = Math.min(8000, Math.max(100, Math.round(Math.exp(Math.log(500) + 1.0 * normal()) / 50) * 50));
    const memPerCore = [1024, 2048, 4096, 8192][Math.floor(random() * 4)];
    const memory = Math.max(128, Math.round(((cpu / 1000) * memPerCore) / 64) * 64);
    const network = Math.round(Math.exp(Math.log(10) + random() * Math.log(200)));
    types.push({ name: `w${String(w).padStart(5, '0')}`, size: { cpuMillicores: cpu, memoryMiB: memory, networkMbps: network }, count });
  }
  return types;
}

interface GeneratedRow {
  instances: number;
  itemTypes: number;
  ffdNodes: number;
  nodes: number;
  method: string;
  lowerBound: number;
  gap: number;
  strandedCpuShareOfFree: number;
  strandedMemoryShareOfFree: number;
  seconds: number;
  ffdSeconds: number;
}
const generated: GeneratedRow[] = [];
for (const instances of [100, 1000, 10000]) {
  const types = generate(instances, 42 + instances);
  const [best, t] = seconds(() => packBest(types, node));
  const [ffd, tf] = seconds(() => packVectors(types, node));
  const bound = lowerBounds(types, node).bound;
  const frag = fragmentation(best, node, types.map((x) => x.size)).summary;
  generated.push({
    instances,
    itemTypes: types.length,
    ffdNodes: ffd.nodes.length,
    nodes: best.nodes.length,
    method: best.method,
    lowerBound: bound,
    gap: (best.nodes.length - bound) / bound,
    strandedCpuShareOfFree: frag.stranded.cpuMillicores / frag.free.cpuMillicores,
    strandedMemoryShareOfFree: frag.stranded.memoryMiB / frag.free.memoryMiB,
    seconds: t,
    ffdSeconds: tf,
  });
}
console.log('Generated instances: nodes of 16 vCPU / 64 GiB / 10 Gbit/s');
console.log('instances types  FFD  best  bound   gap    stranded cpu/mem of free   packBest s  FFD s   best method');
for (const r of generated) {
  console.log(
    `${String(r.instances).padStart(9)} ${String(r.itemTypes).padStart(5)} ${String(r.ffdNodes).padStart(4)} ${String(r.nodes).padStart(5)} ${String(r.lowerBound).padStart(6)} ${(100 * r.gap).toFixed(1).padStart(5)}%   ${(100 * r.strandedCpuShareOfFree).toFixed(1).padStart(5)}% / ${(100 * r.strandedMemoryShareOfFree).toFixed(1).padStart(5)}%          ${r.seconds.toFixed(3).padStart(7)}  ${r.ffdSeconds.toFixed(3)}   ${r.method}`,
  );
}

// 3. Exact mode on small instances: 3-D items uniform in [1/8, 5/8] of the node in every resource, one per type.
const exactRows: { instances: number; itemTypes: number; heuristic: number; exact: number; lowerBound: number; optimal: boolean; seconds: number }[] = [];
for (let k = 0; k < 8; k++) {
  const random = mulberry32(1000 + k);
  const instances = 20 + 4 * k;
  const share = () => 0.125 + 0.5 * random();
  const types: ItemType[] = Array.from({ length: instances }, (_, i) => ({
    name: `i${i}`,
    size: { cpuMillicores: Math.round(16000 * share()), memoryMiB: Math.round(65536 * share()), networkMbps: Math.round(10000 * share()) },
    count: 1,
  }));
  const heuristic = packBest(types, node).nodes.length;
  const start = performance.now();
  const exact = await packExact(types, node, { timeLimitSeconds: 20 });
  exactRows.push({ instances, itemTypes: types.length, heuristic, exact: exact.packing.nodes.length, lowerBound: exact.lowerBound, optimal: exact.optimal, seconds: (performance.now() - start) / 1000 });
}
console.log('\nExact mode (HiGHS) on small 3-D instances, items uniform in [1/8, 5/8] of a node per resource');
console.log('instances types  heuristic  exact  bound  optimal  seconds');
for (const r of exactRows) console.log(`${String(r.instances).padStart(9)} ${String(r.itemTypes).padStart(5)} ${String(r.heuristic).padStart(10)} ${String(r.exact).padStart(6)} ${String(r.lowerBound).padStart(6)}  ${String(r.optimal).padStart(7)}  ${r.seconds.toFixed(3)}`);

mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify({ u120, generated, exact: exactRows }, null, 2) + '\n');
console.log(`\nwrote ${jsonPath}`);
