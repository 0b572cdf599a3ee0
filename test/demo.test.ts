/**
 * The bundled demo, end to end: a replay of real traces (NAB) through the
 * four policies. These are the claims the README makes; if a change breaks
 * one, this test says which.
 */
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { loadScenarioFile } from '../src/config/load.ts';
import { checkScenario } from '../src/capacity/scenarioChecks.ts';
import { runScenario } from '../src/sim/run.ts';
import type { PolicyMetrics } from '../src/sim/types.ts';

const scenario = loadScenarioFile(resolve(import.meta.dirname, '../examples/demo.yaml'));

describe('headroom demo (replay of real traces)', async () => {
  checkScenario(scenario);
  const result = await runScenario(scenario);
  const by = Object.fromEntries(result.policies.map((p) => [p.metrics.name, p.metrics])) as Record<string, PolicyMetrics>;

  it('evaluates a week at 5-minute steps under all four policies', () => {
    expect(result.evaluatedSteps).toBe(2016);
    expect(Object.keys(by).sort()).toEqual(['oracle', 'predictive', 'reactive', 'static']);
  });

  it('predictive costs less than reactive at equal or better SLO attainment', () => {
    expect(by.predictive.cost).toBeLessThan(by.reactive.cost);
    expect(by.predictive.sloAttainment).toBeGreaterThanOrEqual(by.reactive.sloAttainment);
    expect(by.predictive.violationStepShare).toBeLessThanOrEqual(by.reactive.violationStepShare);
  });

  it("predictive's cost is within 25% of the oracle's, and static costs the most", () => {
    expect(by.predictive.cost).toBeLessThanOrEqual(1.25 * by.oracle.cost);
    expect(by.oracle.cost).toBeLessThan(by.predictive.cost);
    expect(by.static.cost).toBeGreaterThan(by.reactive.cost);
  });

  it('the oracle holds every step, except where even maxInstances cannot', () => {
    const oracle = result.policies.find((p) => p.metrics.name === 'oracle')!.timeline;
    let capped = 0;
    for (const w of scenario.workloads) {
      const percentile = w.slo.kind === 'latency' ? w.slo.percentile : 1;
      oracle.sloAttainment[w.name].forEach((attained, i) => {
        if (attained >= percentile - 1e-9) return;
        expect(oracle.requiredInstances[w.name][i], `${w.name} step ${i}`).toBe(w.maxInstances);
        capped++;
      });
    }
    expect(by.oracle.violationStepShare).toBeCloseTo(capped / (2016 * scenario.workloads.length), 12);
  });

  it('records a forecast band for every workload over the evaluated week, never above-below inverted', () => {
    for (const w of scenario.workloads) {
      const band = result.forecastBands[w.name];
      expect(band.median).toHaveLength(2016);
      for (let i = 0; i < 2016; i++) {
        expect(band.lower[i]).toBeLessThanOrEqual(band.median[i]);
        expect(band.median[i]).toBeLessThanOrEqual(band.upper[i]);
      }
    }
  });
});
