/** Small builders for hand-made replay tests. */
import type { QuantileForecast } from '../core/forecast.ts';
import type { Scenario, Workload } from '../core/model.ts';
import type { Series } from '../core/series.ts';
import type { OnlineForecaster } from '../forecast/online.ts';
import { predictivePolicy } from './policies/predictive.ts';
import type { PoolStatus } from './pools.ts';
import type { Allocator } from './policies/policy.ts';
import { replay } from './replay.ts';
import { requirementSizer } from './run.ts';
import type { SimulationResult } from './types.ts';

/** Knows the future exactly: every quantile is the true demand (isolates allocation from forecasting). */
export const perfectForecaster: OnlineForecaster = {
  name: 'perfect',
  fitCount: 0,
  forecastAt(series: Series, decisionIndex: number, horizonSteps: number, levels: readonly number[]): QuantileForecast {
    const values = Array.from({ length: horizonSteps }, (_, k) => series.values[Math.min(series.values.length - 1, decisionIndex + k)]);
    return { model: 'perfect', startSeconds: series.startSeconds + decisionIndex * series.stepSeconds, stepSeconds: series.stepSeconds, mean: values, quantiles: levels.map((level) => ({ level, values })) };
  },
};

/** 1 rps per instance at 100% utilization, held at ≤ 50%: instances = ⌈2 × demand⌉ (one 1-core instance per rps/2). */
export const utilizationWorkload = (name: string, values: number[], over: Partial<Workload> = {}): Workload => ({
  name,
  demand: { startSeconds: 0, stepSeconds: 300, values },
  service: { serviceTimeSeconds: 1, concurrency: 1 },
  perInstance: { cpuMillicores: 1000, memoryMiB: 1024 },
  slo: { kind: 'utilization', maxUtilization: 0.5 },
  minInstances: 0,
  maxInstances: 50,
  priority: 1,
  sizingQuantile: 0.9,
  tags: [],
  ...over,
});

/**
 * A replay scenario at 5-minute steps: `warmSteps` of history, `evalSteps`
 * replayed, decisions every step looking 6 steps ahead, one provider
 * `cloud` unless `over` names others.
 */
export const handScenario = (over: Pick<Scenario, 'workloads' | 'pools'> & Partial<Scenario>, warmSteps: number, evalSteps: number): Scenario => ({
  name: 'hand-made',
  baseDir: '.',
  providers: [{ name: 'cloud', kind: 'cloud' }],
  accounts: [],
  dependencies: [],
  simulation: { stepSeconds: 300, warmupSeconds: warmSteps * 300, durationSeconds: evalSteps * 300, horizonSeconds: 6 * 300, decisionIntervalSeconds: 300, tickSeconds: 150 },
  predictive: { model: 'seasonal-naive', refitIntervalSeconds: 3600 },
  startSeconds: 0,
  ...over,
});

/** The predictive policy with a perfect forecaster, replayed on `s` with `allocator`. */
export const replayPerfect = (s: Scenario, allocator: (pools: PoolStatus) => Allocator): Promise<SimulationResult> =>
  replay(s, { policies: [(ctx) => predictivePolicy(ctx, { forecasterFor: () => perfectForecaster })], sizer: requirementSizer(s), allocator });
