/** Scenario events reach the replay's forecaster: a planned campaign lifts the predictive band. */
import { describe, expect, it } from 'vitest';
import { buildScenario, validateScenario } from '../config/load.ts';
import { runScenario } from './run.ts';

const START = Date.UTC(2014, 11, 1) / 1000;

/** Two workloads with the same daily demand, hourly for 10 days, 7 of them warm-up; the campaign names one. */
function scenario(withEvent: boolean) {
  const values = Array.from({ length: 240 }, (_, t) => 50 + 30 * Math.sin((2 * Math.PI * t) / 24));
  const workload = (name: string) => ({
    name,
    demand: { inline: { start: '2014-12-01 00:00:00', stepSeconds: 3600, values } },
    serviceTimeSeconds: 0.1,
    cpuMillicores: 500,
    memoryMiB: 512,
    slo: { maxUtilization: 0.7 },
  });
  return buildScenario(
    validateScenario(
      {
        name: 'campaign',
        simulation: { stepSeconds: '1h', warmupSeconds: '7d', decisionIntervalSeconds: '1h', tickSeconds: '1h', horizonSeconds: '3h' },
        pools: [{ name: 'p', cpuMillicores: 64000, memoryMiB: 262144, costPerHour: 1, provisioningDelaySeconds: 0 }],
        workloads: [workload('shop'), workload('search')],
        policies: { predictive: { model: 'seasonal-naive' } },
        ...(withEvent ? { events: [{ name: 'sale', start: '2014-12-09 06:00:00', end: '2014-12-09 09:00:00', multiplier: 3, workloads: ['shop'] }] } : {}),
      },
      'test',
    ),
    '.',
    'test',
  );
}

describe('scenario events in the replay', () => {
  it('an expected ×3 sale raises that workload’s forecast band inside its window, and nothing else', async () => {
    const [plain, sale] = await Promise.all([runScenario(scenario(false), { policies: ['predictive'] }), runScenario(scenario(true), { policies: ['predictive'] })]);
    const evalStart = START + 7 * 86_400;
    const at = (iso: string) => (Date.parse(iso) / 1000 - evalStart) / 3600;
    const a = plain.forecastBands.shop.upper;
    const b = sale.forecastBands.shop.upper;
    expect(b.length).toBe(a.length);
    // Before the sale's window is within the 3-hour horizon, the band is unchanged.
    for (let i = 0; i < at('2014-12-09T03:00:00Z'); i++) expect(b[i]).toBeCloseTo(a[i], 9);
    // Inside the window the band is lifted (the planned ×3, less the online error correction).
    for (let i = at('2014-12-09T06:00:00Z'); i < at('2014-12-09T09:00:00Z'); i++) expect(b[i]).toBeGreaterThan(1.5 * a[i]);
    expect(sale.forecastBands.search.upper).toEqual(plain.forecastBands.search.upper);
  });
});
