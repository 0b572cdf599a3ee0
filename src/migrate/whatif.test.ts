/**
 * What-if windows on a hand-made day: 50 req/s from 00:00 to 08:00, 700 req/s
 * after. One service (70 req/s per instance under its SLO, 500m each) runs in
 * pool a; the only target, pool b, has one 4-vCPU node of quota: 8 instances,
 * enough for the night (1 instance) but not the day (10). The forecast is the
 * known profile itself, so every number below follows from it.
 */
import { describe, expect, it } from 'vitest';
import type { FitInput, Forecaster } from '../core/forecast.ts';
import type { MaintenanceSettings } from '../core/migration.ts';
import { forecastServices } from './demand.ts';
import { graphLevels } from './plan.ts';
import { candidateStarts, evaluateCandidate, whatIfWindows, type WhatIfInput } from './whatif.ts';
import { pool, settings, workload } from './testFixtures.ts';

const STEP = 300;
const DAY = 86_400;
const rate = (t: number) => ((t % DAY) < 8 * 3600 ? 50 : 700);
const values = Array.from({ length: 3 * 288 }, (_, i) => rate(i * STEP));
const web = { ...workload('web'), demand: { startSeconds: 0, stepSeconds: STEP, values } };

/** Forecasts the profile exactly (every quantile equal to it). */
const profile: Forecaster = {
  name: 'profile',
  fit({ history }: FitInput) {
    const start = history.startSeconds + history.values.length * history.stepSeconds;
    return {
      predict: (h: number, levels: readonly number[]) => {
        const mean = Array.from({ length: h }, (_, k) => rate(start + k * STEP));
        return { model: 'profile', startSeconds: start, stepSeconds: STEP, mean, quantiles: levels.map((level) => ({ level, values: mean })) };
      },
    };
  },
};

function input(overrides: Partial<MaintenanceSettings> = {}): WhatIfInput {
  const base = settings(['web'], { budget: { maxUnavailable: { instances: 0 }, maxSurge: { percent: 100 } }, durationSeconds: 2 * 3600 });
  const s: MaintenanceSettings = { ...base, fromSeconds: DAY, withinSeconds: DAY, everySeconds: 3600, ...overrides };
  const scenario = { workloads: [web], dependencies: [] };
  return {
    workloads: [web],
    pools: [pool('a', 'z1', { costPerHour: 1 }), pool('b', 'z2', { costPerHour: 2, maxNodes: 1 })],
    edges: [],
    order: ['web'],
    levels: graphLevels(['web'], []),
    settings: s,
    forecast: forecastServices(scenario, s.fromSeconds, s.withinSeconds / STEP, profile),
  };
}

describe('whatIfWindows', () => {
  const report = whatIfWindows(input());
  const at = (hour: number) => report.candidates.find((c) => c.startSeconds === DAY + hour * 3600)!;

  it('tries every hourly start whose window ends within the span', () => {
    expect(candidateStarts(input().settings)).toHaveLength(23); // 00:00 … 22:00 (a 2 h window from 23:00 would run past it)
    expect(report.candidates).toHaveLength(23);
  });

  it('holds only windows whose plan and window fit in the night; the 00:00 one would need to start before the forecast', () => {
    // The plan: add a node to b (120 s + 300 s soak), start 1, stop 1, release a: 420 + 3 × 300 = 1320 s of lead.
    expect(at(3).plan.leadSeconds).toBe(1320);
    expect(at(3).planStartSeconds).toBe(DAY + 3 * 3600 - 1320);
    const holding = report.candidates.filter((c) => c.holds).map((c) => (c.startSeconds - DAY) / 3600);
    expect(holding.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(at(0).problems).toEqual(['the plan needs 0.37 h before the window and would start before the forecast origin']);
  });

  it('names the failing SLO and the missing room for windows in the day', () => {
    const day = at(12);
    expect(day.holds).toBe(false);
    // 700 req/s needs 10 instances; b holds 8 (4000m / 500m).
    expect(day.problems).toEqual(['no room for 2 instance(s) of web in b (quota)']);
    expect(day.failingSlos.map((f) => f.service)).toEqual(['web']);
    // Every step of the window, and the last two phases (stop 10 in a, release a: 600 s) that leave the 8 placed in b.
    expect(day.failingSlos[0].steps).toBe(24 + 600 / STEP);
    expect(day.neededCpuMillicores).toBe(5000);
    expect(day.capacityLeftCpuMillicores).toBe(4000);
    expect(day.sloAttainment).toBeLessThan(1);
  });

  it('ranks holding windows first, cheapest first, earliest on ties, and chooses the first', () => {
    expect(report.candidates.slice(0, 6).every((c) => c.holds)).toBe(true);
    const costs = report.candidates.slice(0, 6).map((c) => c.cost);
    for (let i = 1; i < costs.length; i++) expect(costs[i]).toBeGreaterThanOrEqual(costs[i - 1]);
    expect(report.chosen).toBe(report.candidates[0]);
    // b costs twice a: every holding window costs more than running as before.
    expect(report.chosen!.cost).toBeGreaterThan(0);
  });

  it('a price change moves nothing and costs the factor on the affected nodes over the window', () => {
    const base = input();
    const priced = input({ change: { kind: 'priceChange', scope: 'pool', name: 'a', pools: ['a'], durationSeconds: 2 * 3600, priceFactor: 1.5 } });
    // Night: 1 instance → 1 node at $1/h; × 0.5 extra over 2 h = $1. Day: 10 instances (5 vCPU) → 2 nodes = $2.
    expect(evaluateCandidate(priced, DAY + 2 * 3600).cost).toBeCloseTo(1, 9);
    expect(evaluateCandidate(priced, DAY + 12 * 3600).cost).toBeCloseTo(2, 9);
    expect(evaluateCandidate(priced, DAY + 2 * 3600).plan.phases).toEqual([]);
    expect(whatIfWindows(priced).chosen!.startSeconds).toBe(DAY);
    expect(base.settings.change.kind).toBe('maintenance');
  });
});
