/**
 * What the pool machinery costs in a replay: the share of the replay's time
 * spent in the pool tracker (health applied to the simulated cluster, idle
 * accounting, dismantling, hourly samples) and in building the pool report
 * (hourly fragmentation packing), on real traces (NAB NYC taxi and AWS ELB,
 * one replayed day at 15 s ticks, two providers, one incident).
 *
 * Prints a table and writes JSON (`--json FILE`, default bench/results/pools.json).
 *   npx tsx bench/pools.ts [--json FILE]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { buildScenario, validateScenario } from '../src/config/load.ts';
import { PoolTracker } from '../src/sim/pools.ts';
import { runScenario } from '../src/sim/run.ts';
import type { PolicyName } from '../src/sim/types.ts';

const root = resolve(import.meta.dirname, '..');
const jsonArg = process.argv.indexOf('--json');
const jsonPath = jsonArg > 0 ? process.argv[jsonArg + 1] : resolve(root, 'bench/results/pools.json');

const base = buildScenario(
  validateScenario(
    {
      name: 'two-providers',
      simulation: { stepSeconds: '5m', warmupSeconds: '3d', durationSeconds: '1d', horizonSeconds: '2h', decisionIntervalSeconds: '5m', tickSeconds: '15s' },
      policies: { predictive: { model: 'seasonal-naive' } },
      providers: [{ name: 'own-dc', kind: 'own' }, { name: 'aws', kind: 'cloud' }],
      pools: [
        { name: 'dc-general', provider: 'own-dc', cpuMillicores: '16 cores', memoryMiB: '64 GiB', costPerHour: 0.08, provisioningDelaySeconds: '2m', maxNodes: 4 },
        { name: 'aws-general', provider: 'aws', cpuMillicores: '4 vCPU', memoryMiB: '16 GiB', costPerHour: 0.192, provisioningDelaySeconds: '3m', maxNodes: 60 },
      ],
      workloads: [
        { name: 'booking-api', demand: { csv: 'nyc_taxi.csv', unit: 'requestsPerStep', scale: 900 }, serviceTimeSeconds: 0.02, concurrency: 2, cpuMillicores: '1 core', memoryMiB: '2 GiB', slo: { latencySeconds: 0.15, percentile: 0.99 }, minInstances: 2, maxInstances: 500, priority: 100 },
        { name: 'edge-api', demand: { csv: 'elb_request_count_8c0756.csv', unit: 'requestsPerStep', scale: 30 }, serviceTimeSeconds: 0.01, concurrency: 1, cpuMillicores: '250m', memoryMiB: '512 MiB', slo: { latencySeconds: 0.05, percentile: 0.99 }, minInstances: 2, maxInstances: 150, priority: 30 },
      ],
    },
    'bench-pools',
  ),
  resolve(root, 'data/nab'),
);
const t0 = base.startSeconds + base.simulation.warmupSeconds;
const scenario = { ...base, incidents: [{ provider: 'own-dc', startSeconds: t0 + 8 * 3600, endSeconds: t0 + 11 * 3600 }] };

// Time spent inside the tracker's methods, by wrapping them (they still run).
const spent = { beforeTick: 0, afterTick: 0, report: 0 };
const proto = PoolTracker.prototype as unknown as Record<keyof typeof spent, (...a: unknown[]) => unknown>;
for (const name of Object.keys(spent) as (keyof typeof spent)[]) {
  const original = proto[name];
  proto[name] = function (this: unknown, ...args: unknown[]) {
    const s = performance.now();
    try {
      return original.apply(this, args);
    } finally {
      spent[name] += performance.now() - s;
    }
  };
}

const rows: Record<string, unknown>[] = [];
for (const policy of ['predictive', 'reactive'] as PolicyName[]) {
  for (const k of Object.keys(spent) as (keyof typeof spent)[]) spent[k] = 0;
  const s = performance.now();
  const result = await runScenario(scenario, { policies: [policy], engine: 'single-step' });
  const total = performance.now() - s;
  const ticks = Math.round(scenario.simulation.durationSeconds / scenario.simulation.tickSeconds);
  const tracker = spent.beforeTick + spent.afterTick;
  rows.push({
    policy,
    ticks,
    replayMs: Math.round(total),
    trackerMs: Math.round(tracker),
    trackerShare: tracker / total,
    trackerMicrosPerTick: (1000 * tracker) / ticks,
    reportMs: Math.round(spent.report),
    changes: result.policies[0].pools?.changes.length ?? 0,
  });
}
console.log('policy      ticks  replay ms  tracker ms  tracker share  µs/tick  report ms (fragmentation)  changes');
for (const r of rows) {
  console.log(
    `${String(r.policy).padEnd(10)} ${String(r.ticks).padStart(6)} ${String(r.replayMs).padStart(10)} ${String(r.trackerMs).padStart(11)} ${((r.trackerShare as number) * 100).toFixed(1).padStart(13)}% ${(r.trackerMicrosPerTick as number).toFixed(1).padStart(8)} ${String(r.reportMs).padStart(26)} ${String(r.changes).padStart(8)}`,
  );
}
mkdirSync(dirname(resolve(jsonPath)), { recursive: true });
writeFileSync(resolve(jsonPath), JSON.stringify({ bench: 'pools', rows }, null, 2) + '\n');
console.log(`wrote ${jsonPath}`);
