/**
 * Migration benchmark: the what-if on the bundled scenario (load, forecast
 * and propagation, ranking 165 hourly windows with a phased plan each) and the
 * phased planner alone on seeded layered graphs of 10 to 1,000 services,
 * with each plan checked against its limits (checkPlan). Prints a table;
 * writes JSON to bench/results/migration.json (or --json FILE).
 *
 *   npx tsx bench/migration.ts [--json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { table } from '../src/cli/format.ts';
import { loadScenarioFile } from '../src/config/load.ts';
import { buildMigrationPlan, checkPlan, graphLevels } from '../src/migrate/plan.ts';
import { whatIfInput } from '../src/migrate/run.ts';
import { whatIfWindows } from '../src/migrate/whatif.ts';
import { pool, settings, workload } from '../src/migrate/testFixtures.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const jsonArg = process.argv.indexOf('--json');
const out = jsonArg > 0 ? process.argv[jsonArg + 1] : resolve(root, 'bench/results/migration.json');

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

// 1. The bundled scenario.
let t = performance.now();
const scenario = loadScenarioFile(resolve(root, 'examples/maintenance.yaml'));
const loadMs = performance.now() - t;
t = performance.now();
const input = whatIfInput(scenario);
const forecastMs = performance.now() - t;
t = performance.now();
const report = whatIfWindows(input);
const rankMs = performance.now() - t;
const scenarioRow = {
  candidates: report.candidates.length,
  holding: report.candidates.filter((c) => c.holds).length,
  chosen: report.chosen ? new Date(report.chosen.startSeconds * 1000).toISOString() : 'none',
  phases: report.chosen?.plan.phases.length ?? 0,
  loadMs: Math.round(loadMs),
  forecastMs: Math.round(forecastMs),
  rankMs: Math.round(rankMs),
  perCandidateMs: Number((rankMs / report.candidates.length).toFixed(1)),
};

// 2. The planner on layered graphs.
const rows: Record<string, number | string>[] = [];
for (const [layers, width] of [[2, 5], [5, 20], [10, 100]] as const) {
  const rnd = lcg(layers * 1000 + width);
  const names: string[] = [];
  for (let l = 0; l < layers; l++) for (let i = 0; i < width; i++) names.push(`s${l}_${i}`);
  const edges: { from: string; to: string }[] = [];
  for (let l = 0; l < layers - 1; l++) for (const from of names.filter((n) => n.startsWith(`s${l}_`))) edges.push({ from, to: `s${l + 1}_${Math.floor(rnd() * width)}` });
  const ws = names.map((n) => workload(n, { cpu: 250, mem: 256 }));
  const initial = Object.fromEntries(names.map((n) => [n, { a: 1 + Math.floor(rnd() * 12) }]));
  const instances = Object.values(initial).reduce((a, p) => a + p.a, 0);
  const pools = [pool('a', 'z1', { maxNodes: 100_000 }), pool('b', 'z2', { maxNodes: 100_000 })];
  const st = settings(names, { budget: { maxUnavailable: { percent: 25 }, maxSurge: { percent: 25 } } });
  const started = performance.now();
  const plan = buildMigrationPlan({
    workloads: ws,
    pools,
    order: names,
    levels: graphLevels(names, edges),
    settings: st,
    initial,
    initialNodes: { a: Math.ceil((instances * 250) / 4000), b: 0 },
    finalInstances: Object.fromEntries(names.map((n) => [n, initial[n].a])),
    decidedAtSeconds: 0,
    idPrefix: 'bench',
  });
  const planMs = performance.now() - started;
  const checkStart = performance.now();
  const violations = checkPlan(plan, ws, pools, ['a']).length;
  rows.push({
    services: names.length,
    edges: edges.length,
    instances,
    phases: plan.phases.length,
    actions: plan.phases.reduce((a, p) => a + p.actions.length, 0),
    planMs: Number(planMs.toFixed(1)),
    checkMs: Number((performance.now() - checkStart).toFixed(1)),
    violations,
  });
}

const load = loadavg()[0].toFixed(1);
process.stdout.write(`What-if on examples/maintenance.yaml (load average ${load})\n\n`);
process.stdout.write(
  table(
    ['candidates', 'holding', 'chosen window', 'phases', 'load ms', 'forecast ms', 'rank ms', 'ms/candidate'],
    [[String(scenarioRow.candidates), String(scenarioRow.holding), scenarioRow.chosen, String(scenarioRow.phases), String(scenarioRow.loadMs), String(scenarioRow.forecastMs), String(scenarioRow.rankMs), String(scenarioRow.perCandidateMs)]],
  ) + '\n\n',
);
process.stdout.write('Phased planner on layered graphs (25% surge, 25% unavailable)\n\n');
process.stdout.write(table(Object.keys(rows[0]), rows.map((r) => Object.values(r).map(String))) + '\n');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ loadAverage: Number(load), scenario: scenarioRow, planner: rows }, null, 2) + '\n');
process.stderr.write(`wrote ${out}\n`);
