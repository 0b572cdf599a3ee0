/**
 * Cost of reviewing reservations over one replayed week of the partners
 * example (hourly reviews, 4 accounts in 2 groups, 2 reservation pools), by
 * part: node forecasts from workload forecasts, the policy (review, zone
 * split, contention), and the groups' reconciled forecasts. Also checks the
 * groups' shortcut (quantiles sampled only at the steps where a member's or
 * the summed upper bound peaks) against sampling every step of the horizon.
 * Forecasts are built from the trace itself (median = the next 2 hours'
 * actual demand, 5% and 95% at 0.7 and 1.3 times it), so the bench needs no
 * model fitting. Prints a table and writes JSON (`--json FILE`, default
 * bench/results/reservations.json).
 *
 *   npx tsx bench/reservations.ts [--json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QuantileForecast } from '../src/core/forecast.ts';
import { loadScenarioFile } from '../src/config/load.ts';
import { reconcile, summingMatrix } from '../src/forecast/hierarchy.ts';
import { initialReservationState, resizeAcrossZones, reviewReservation, shareUnderContention, type ReservationState } from '../src/optimize/reservations.ts';
import { accountNodeForecasts, groupNodeForecasts, type AccountNodeForecast } from '../src/sim/reservations.ts';
import { queueingSizer } from '../src/sim/run.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const jsonArg = process.argv.indexOf('--json');
const jsonPath = jsonArg > 0 ? process.argv[jsonArg + 1] : resolve(root, 'bench/results/reservations.json');

const scenario = loadScenarioFile(resolve(root, 'examples/partners.yaml'));
const settings = scenario.reservations!;
const step = scenario.simulation.stepSeconds;
const horizon = Math.round(scenario.simulation.horizonSeconds / step);
const first = Math.round(scenario.simulation.warmupSeconds / step);
const reviews = Math.round(scenario.simulation.durationSeconds / settings.reviewIntervalSeconds);
const everySteps = settings.reviewIntervalSeconds / step;

function forecastAt(values: readonly number[], at: number): QuantileForecast {
  const median = Array.from({ length: horizon }, (_, k) => values[Math.min(values.length - 1, at + k)]);
  return {
    model: 'trace',
    startSeconds: scenario.startSeconds + at * step,
    stepSeconds: step,
    mean: median,
    quantiles: [
      { level: 0.05, values: median.map((x) => 0.7 * x) },
      { level: 0.5, values: median },
      { level: 0.95, values: median.map((x) => 1.3 * x) },
    ],
  };
}
// A fixed placement: a third of every workload's instances in each reservation pool.
const placement = Object.fromEntries(scenario.workloads.map((w) => [w.name, { 'aws-general': 10, 'aws-general-b': 10, 'dc-general': 10 }]));
const groups = new Map<string, string[]>();
for (const a of scenario.accounts) if (a.group) groups.set(a.group, [...(groups.get(a.group) ?? []), a.name]);

const rows: { part: string; ms: number; calls: number }[] = [];
const time = <T>(part: string, calls: number, f: () => T): T => {
  const t0 = performance.now();
  const out = f();
  rows.push({ part, ms: performance.now() - t0, calls });
  return out;
};

const perReview: Record<string, AccountNodeForecast>[] = time(`node forecasts (${scenario.workloads.length} workloads × ${horizon} steps × 4 paths)`, reviews, () =>
  Array.from({ length: reviews }, (_, r) => {
    const at = first + r * everySteps;
    const byWorkload = new Map(scenario.workloads.map((w) => [w.name, forecastAt(w.demand.values, at)]));
    return accountNodeForecasts({ scenario, settings, forecasts: { stepIndex: at, byWorkload }, placement, instancesFor: queueingSizer.instancesFor });
  }),
);

let changes = 0;
time(`review, resize, contention (${scenario.accounts.length} accounts, ${settings.pools.length} pools)`, reviews, () => {
  const states = new Map<string, ReservationState>(scenario.accounts.map((a) => [a.name, initialReservationState(0)]));
  const wanted = new Map<string, Record<string, number>>(scenario.accounts.map((a) => [a.name, {}]));
  perReview.forEach((fcs, r) => {
    for (const a of scenario.accounts) {
      const f = fcs[a.name];
      const d = reviewReservation(states.get(a.name)!, { timeSeconds: r * 3600, upperNodes: f.upperNodes, predictedNodes: f.predictedNodes }, { ...settings, minNodes: 0 });
      states.set(a.name, d.state);
      if (d.change) {
        changes++;
        const zones = settings.pools.map((p) => ({ pool: p, demandShare: f.byPool[p] ?? 0, committedCostPerHour: scenario.pools.find((q) => q.name === p)!.committedCostPerHour! }));
        wanted.set(a.name, resizeAcrossZones(wanted.get(a.name)!, d.change.toNodes, zones));
      }
    }
    for (const p of settings.pools) {
      shareUnderContention(
        settings.maxReservedNodesByPool[p],
        scenario.accounts.map((a) => ({ account: a.name, priority: a.priority, requestedNodes: wanted.get(a.name)![p] ?? 0, guaranteedNodes: 0 })),
      );
    }
  });
});

const shortcut = time(`group forecasts, peak steps only (${groups.size} groups)`, reviews, () =>
  perReview.map((fcs, r) => groupNodeForecasts(groups, Object.fromEntries(Object.entries(fcs).map(([n, f]) => [n, f.forecast])), r)),
);
const full = time(`group forecasts, every step (${groups.size} groups × ${horizon} steps)`, reviews, () =>
  perReview.map((fcs, r) => {
    const out: Record<string, number> = {};
    for (const [g, names] of groups) {
      const tree = { name: `group:${g}`, children: names.map((n) => ({ name: n })) };
      const base: Record<string, QuantileForecast> = Object.fromEntries(names.map((n) => [n, fcs[n].forecast]));
      base[tree.name] = fcs[names[0]].forecast;
      const rec = reconcile(summingMatrix(tree), base, { method: 'bottom-up', dependence: 'independent', samples: 1000, seed: r })[tree.name];
      out[g] = Math.max(...rec.quantiles.find((q) => q.level === 0.95)!.values);
    }
    return out;
  }),
);
let maxAbs = 0;
let maxRel = 0;
shortcut.forEach((s, r) => {
  for (const g of groups.keys()) {
    const d = Math.abs(s[g].upperNodes - full[r][g]);
    maxAbs = Math.max(maxAbs, d);
    if (full[r][g] > 0.5) maxRel = Math.max(maxRel, d / full[r][g]);
  }
});

const w = Math.max(...rows.map((r) => r.part.length));
console.log(`One replayed week: ${reviews} hourly reviews (${changes} reservation changes)\n`);
console.log(`${'part'.padEnd(w)}  ms/week  ms/review`);
for (const r of rows) console.log(`${r.part.padEnd(w)}  ${r.ms.toFixed(0).padStart(7)}  ${(r.ms / r.calls).toFixed(2).padStart(9)}`);
console.log(`\ngroup upper bound, peak steps vs every step: max |difference| ${maxAbs.toFixed(3)} node-equivalents, max relative ${(maxRel * 100).toFixed(2)}% (groups above 0.5)`);
mkdirSync(dirname(resolve(jsonPath)), { recursive: true });
writeFileSync(resolve(jsonPath), JSON.stringify({ bench: 'reservations', reviews, changes, rows, groupShortcut: { maxAbsNodes: maxAbs, maxRelative: maxRel } }, null, 2) + '\n');
console.log(`wrote ${jsonPath}`);
