/**
 * Cost of metering and billing one replayed week: a week of 15-second
 * intervals (what the replay reports per policy) metered into hourly records,
 * then rated into invoices under the partners example's agreements.
 * Prints a table and writes JSON (`--json FILE`, default bench/results/billing.json).
 *
 *   npx tsx bench/billing.ts [--json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadScenarioFile } from '../src/config/load.ts';
import { bill, priceBookOf } from '../src/billing/invoice.ts';
import { HourlyMeter } from '../src/billing/meter.ts';
import type { UsageInterval } from '../src/drivers/simulator.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const jsonArg = process.argv.indexOf('--json');
const jsonPath = jsonArg > 0 ? process.argv[jsonArg + 1] : resolve(root, 'bench/results/billing.json');

const scenario = loadScenarioFile(resolve(root, 'examples/partners.yaml'));
const tick = 15;
const week = 7 * 86400;
const start = scenario.startSeconds + scenario.simulation.warmupSeconds;

// A deterministic varying allocation: node counts and instances follow a daily wave.
function intervalAt(k: number): UsageInterval {
  const t = start + k * tick;
  const wave = 0.5 + 0.5 * Math.sin((2 * Math.PI * (t % 86400)) / 86400);
  const nodesByPool: Record<string, number> = {};
  const runningInstances: Record<string, Record<string, number>> = {};
  for (const p of scenario.pools) nodesByPool[p.name] = Math.max(p.minNodes, Math.round(wave * Math.min(p.maxNodes, 8)));
  scenario.workloads.forEach((w, i) => {
    const pool = scenario.pools[i % scenario.pools.length];
    const fit = Math.floor((nodesByPool[pool.name] * pool.nodeType.capacity.cpuMillicores) / (2 * w.perInstance.cpuMillicores));
    runningInstances[w.name] = { [pool.name]: fit };
  });
  return { startSeconds: t, endSeconds: t + tick, nodesByPool, runningInstances };
}

const intervals = Array.from({ length: week / tick }, (_, k) => intervalAt(k));
const rows: { step: string; ms: number; count: number }[] = [];
const reps = 5;
let records: ReturnType<HourlyMeter['records']> = [];
let t0 = performance.now();
for (let r = 0; r < reps; r++) {
  const m = new HourlyMeter(scenario.pools, scenario.workloads, scenario.providers);
  for (const i of intervals) m.add(i);
  records = m.records();
}
rows.push({ step: `meter ${intervals.length} intervals`, ms: (performance.now() - t0) / reps, count: records.length });
t0 = performance.now();
let invoices = 0;
for (let r = 0; r < reps; r++) invoices = bill(records, priceBookOf(scenario), { startSeconds: start, endSeconds: start + week }).invoices.length;
rows.push({ step: `bill ${records.length} records`, ms: (performance.now() - t0) / reps, count: invoices });

const w = Math.max(...rows.map((r) => r.step.length));
console.log(`${'step'.padEnd(w)}  ms (mean of ${reps})  output rows`);
for (const r of rows) console.log(`${r.step.padEnd(w)}  ${r.ms.toFixed(1).padStart(16)}  ${String(r.count).padStart(11)}`);
mkdirSync(dirname(resolve(jsonPath)), { recursive: true });
writeFileSync(resolve(jsonPath), JSON.stringify({ bench: 'billing', reps, rows }, null, 2) + '\n');
console.log(`wrote ${jsonPath}`);
