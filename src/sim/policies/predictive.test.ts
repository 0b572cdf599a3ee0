import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import type { Scenario } from '../../core/model.ts';
import { loadScenarioFile } from '../../config/load.ts';
import { runScenario } from '../run.ts';

const demo = loadScenarioFile(resolve(import.meta.dirname, '../../../examples/demo.yaml'));

/** The demo shortened to `days` evaluated, with demand from step `from` on replaced by nonsense. */
function variant(days: number, from?: number): Scenario {
  return {
    ...demo,
    simulation: { ...demo.simulation, durationSeconds: days * 86_400 },
    workloads: demo.workloads.map((w) => ({
      ...w,
      demand: from === undefined ? w.demand : { ...w.demand, values: w.demand.values.map((v, i) => (i >= from ? v * 7 + 1000 : v)) },
    })),
  };
}

describe('predictive policy', () => {
  it('decides from the past only: changing demand after a step changes nothing the policy did before it', async () => {
    const evalStart = Math.round(demo.simulation.warmupSeconds / demo.simulation.stepSeconds);
    const cut = evalStart + 150;
    const [a, b] = await Promise.all([runScenario(variant(1), { policies: ['predictive'] }), runScenario(variant(1, cut), { policies: ['predictive'] })]);
    const e = cut - evalStart;
    for (const w of demo.workloads) {
      // Forecasts made at or before the cut's decision time are identical.
      expect(b.forecastBands[w.name].upper.slice(0, e + 1)).toEqual(a.forecastBands[w.name].upper.slice(0, e + 1));
      // What ran before the cut is identical (the guard sees a step's demand only once it is under way).
      expect(b.policies[0].timeline.instances[w.name].slice(0, e)).toEqual(a.policies[0].timeline.instances[w.name].slice(0, e));
    }
    // ... and the poisoned future does change what comes after (the test can fail).
    expect(b.policies[0].metrics.cost).not.toBe(a.policies[0].metrics.cost);
  });
});
