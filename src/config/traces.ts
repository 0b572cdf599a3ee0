import { resolve } from 'node:path';
import { stringify } from 'yaml';
import type { Scenario } from '../core/model.ts';
import { readSamplesCsv } from '../ingest/csv.ts';
import { medianStepSeconds } from '../ingest/resample.ts';
import { buildScenario, validateScenario, workloadNameFromPath } from './load.ts';
import type { ScenarioFileInput } from './schema.ts';

/** Node pools patterned on a public cloud's general, compute- and memory-optimised families. */
export const DEFAULT_POOLS: ScenarioFileInput['pools'] = [
  { name: 'general', nodeType: 'm5.xlarge', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.192, provisioningDelaySeconds: '3m', maxNodes: 200 },
  { name: 'compute', nodeType: 'c5.2xlarge', cpuMillicores: 8000, memoryMiB: 16384, costPerHour: 0.34, provisioningDelaySeconds: '3m', maxNodes: 100 },
  { name: 'memory', nodeType: 'r5.xlarge', cpuMillicores: 4000, memoryMiB: 32768, costPerHour: 0.252, provisioningDelaySeconds: '4m', maxNodes: 100 },
];

/** Instances the warm-up peak needs at full utilization in a generated scenario. */
const PEAK_INSTANCES = 20;

/**
 * A sensible default scenario around `timestamp,value` CSVs, without YAML:
 * values are taken as requests per second; each trace becomes a workload whose
 * instance throughput is set so its warm-up peak needs about 20 instances at
 * full utilization, held to a 70% utilization SLO; the step is the traces'
 * own spacing; the first half (up to 7 days) is history, the rest is replayed.
 * Returns the scenario and its YAML, so the user can edit and reuse it.
 */
export function scenarioFromTraces(paths: readonly string[]): { scenario: Scenario; yaml: string } {
  const traces = paths.map((p) => ({ path: resolve(p), samples: readSamplesCsv(resolve(p)) }));
  const stepSeconds = Math.max(60, ...traces.map((t) => Math.ceil(medianStepSeconds(t.samples) / 60) * 60));
  const spanSeconds = Math.min(...traces.map((t) => t.samples[t.samples.length - 1].timeSeconds - t.samples[0].timeSeconds + stepSeconds));
  const totalSteps = Math.floor(spanSeconds / stepSeconds);
  const warmupSteps = Math.min(Math.floor((7 * 86400) / stepSeconds), Math.floor(totalSteps / 2));
  const names = new Set<string>();
  const workloads = traces.map((t) => {
    let name = workloadNameFromPath(t.path);
    while (names.has(name)) name = `${name}-2`;
    names.add(name);
    const warmupEnd = t.samples[0].timeSeconds + warmupSteps * stepSeconds;
    let peak = 0;
    for (const s of t.samples) if (s.timeSeconds < warmupEnd) peak = Math.max(peak, s.value);
    const throughput = Number(Math.max(peak / PEAK_INSTANCES, 1e-6).toPrecision(3));
    return {
      name,
      demand: { csv: t.path, unit: 'requestsPerSecond' as const },
      throughputPerInstanceRps: throughput,
      cpuMillicores: 1000,
      memoryMiB: 2048,
      slo: { maxUtilization: 0.7 },
      minInstances: 1,
      maxInstances: PEAK_INSTANCES * 10,
    };
  });
  const file: ScenarioFileInput = {
    name: paths.length === 1 ? workloads[0].name : 'traces',
    description: `Default scenario around ${paths.length} trace(s): values read as requests per second; instance throughput set so each warm-up peak needs ~${PEAK_INSTANCES} instances.`,
    simulation: {
      stepSeconds,
      warmupSeconds: warmupSteps * stepSeconds,
      horizonSeconds: Math.max(2 * 3600, stepSeconds * 4),
      decisionIntervalSeconds: stepSeconds,
      tickSeconds: stepSeconds % 15 === 0 ? 15 : stepSeconds,
    },
    pools: DEFAULT_POOLS,
    workloads,
  };
  const validated = validateScenario(file, 'generated scenario');
  return { scenario: buildScenario(validated, process.cwd(), 'generated scenario'), yaml: stringify(file) };
}
