import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ServiceMetrics } from '../api/metrics.ts';
import { parseSamplesCsv } from '../ingest/csv.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import type { Action } from '../core/plan.ts';
import type { Driver } from '../drivers/driver.ts';
import { durableSimulator, type DriverFactory } from './drivers.ts';
import { ControlLoop, type SloPrice, forecastMape } from './loop.ts';
import { tempDir } from '../../test/helpers.ts';

const DAY = 86400;
const STEP = 300;
// 4 instances per node; an instance serves 10 rps at full load, 5 rps at the SLO's 50% utilization.
const pool = { name: 'general', provider: 'default', zone: 'default', nodeType: 'node', cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.2, provisioningDelaySeconds: 60, minNodes: 0, maxNodes: 100, tags: [] };
const workload = (name: string, extra: object = {}) => ({
  name, serviceTimeSeconds: 0.1, concurrency: 1, cpuMillicores: 1000, memoryMiB: 1024, slo: { maxUtilization: 0.5 },
  minInstances: 1, maxInstances: 100, priority: 0, sizingQuantile: 0.95, tags: [], scaleInFromForecast: true, ...extra,
});

let dir: string;
let store: Store;
let clock: number;
const now = () => clock;

let metrics: ServiceMetrics;
function loop(factory: DriverFactory = durableSimulator) {
  metrics = new ServiceMetrics();
  return new ControlLoop({ store, metrics, driverFactory: factory, now, sleep: async () => undefined });
}

beforeEach(async () => {
  dir = tempDir('loop');
  store = await openStore({ dataDir: dir });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const taxiCsv = resolve(import.meta.dirname, '../../data/nab/nyc_taxi.csv');
const taxi = parseSamplesCsv(readFileSync(taxiCsv, 'utf8'), taxiCsv);

/** Two weeks of taxi demand (passengers per 30 min -> requests per second, x10) ending at the clock, the workload, these pools and the policies. */
async function seedTaxi(pools: readonly object[]): Promise<void> {
  clock = taxi[24 * 2 * 14].timeSeconds + 1800;
  await store.insertSamples(taxi.slice(0, 24 * 2 * 14 + 1).map((s) => ({ workload: 'taxi', timeSeconds: s.timeSeconds, value: (s.value / 1800) * 10 })));
  await store.applyConfig([
    ...pools.map((document) => ({ kind: 'pool' as const, name: (document as { name: string }).name, document })),
    { kind: 'workload', name: 'taxi', document: workload('taxi') },
    { kind: 'policy', name: 'predictive', document: { model: 'seasonal-naive', refitIntervalSeconds: 21600 } },
    { kind: 'policy', name: 'loop', document: { mode: 'act', intervalSeconds: 300, stepSeconds: 1800, horizonSeconds: 7200, historySeconds: 14 * DAY } },
  ], clock);
}

describe('control loop on the real NYC taxi trace', () => {
  beforeEach(() => seedTaxi([pool]));

  it('forecast-only stores a forecast with quantiles and plans nothing, and scores it later', async () => {
    const l = loop();
    const c = await l.runCycle('forecast-only');
    expect(c).toMatchObject({ status: 'succeeded', mode: 'forecast-only' });
    const f = await store.latestForecast('taxi');
    expect(f?.forecast.startSeconds).toBe(clock);
    expect(f?.forecast.stepSeconds).toBe(1800);
    expect(f?.forecast.mean).toHaveLength(4);
    // The sizing quantile (p95), and half its risk (p97.5) for the SLO price.
    expect(f?.forecast.quantiles.map((q) => q.level)).toEqual([0.05, 0.5, 0.95, 0.975]);
    // Quantiles are ordered at every step.
    for (let k = 0; k < 4; k++) for (let j = 1; j < 4; j++) expect(f!.forecast.quantiles[j - 1].values[k]).toBeLessThanOrEqual(f!.forecast.quantiles[j].values[k]);
    expect((c.summary as { forecastIds: Record<string, number> }).forecastIds.taxi).toBe(f?.id);
    expect(await store.listPlans(10)).toEqual([]);
    // Half an hour later, with the next real value observed, the next cycle scores the first forecast's median against it.
    const next = taxi[24 * 2 * 14 + 1];
    const actual = (next.value / 1800) * 10;
    await store.insertSamples([{ workload: 'taxi', timeSeconds: next.timeSeconds, value: actual }]);
    clock += 1800;
    await l.runCycle('forecast-only');
    const median = f!.forecast.quantiles[1].values[0];
    const text = await metrics.registry.metrics();
    const got = Number(/headroom_forecast_mape\{workload="taxi"\} (\S+)/.exec(text)![1]);
    expect(got).toBeCloseTo((100 * Math.abs(median - actual)) / actual, 6);
  });

  it('dry-run plans and explains, and sends nothing', async () => {
    const c = await loop().runCycle('dry-run');
    expect(c.status).toBe('succeeded');
    const [plan] = await store.listPlans(1);
    expect(plan.mode).toBe('dry-run');
    expect(plan.actions.length).toBeGreaterThan(0);
    const e = plan.explanation as { workloads: Record<string, { neededInstances: number; peakForecastRps: number; reason: string }>; pools: Record<string, { toNodes: number }> };
    // The instances follow from the p95 peak through the utilization SLO: ceil(peak / 5 rps).
    expect(e.workloads.taxi.neededInstances).toBe(Math.max(Math.ceil(e.workloads.taxi.peakForecastRps / 5 - 1e-9), 1));
    expect(e.pools.general.toNodes).toBe(Math.ceil(e.workloads.taxi.neededInstances / 4));
    expect(e.workloads.taxi.reason).toContain('p95 forecast');
    // The SLO's price: utilization at the sized demand with the needed instances and one more (a quarter of a $0.20 node),
    // and the instances half the risk (the p97.5 peak) would need.
    const taxiE = e.workloads.taxi as unknown as { neededInstances: number; peakForecastRps: number; lastObservedRps: number; sloPrice: SloPrice };
    const price = taxiE.sloPrice;
    const n = taxiE.neededInstances;
    expect(price.slo).toBe('utilization ≤ 50%');
    expect(price.demandRps).toBe(Math.max(taxiE.peakForecastRps, taxiE.lastObservedRps));
    expect(price.achieved).toBeCloseTo((price.demandRps * 0.1) / n, 12);
    expect(price.achieved).toBeLessThanOrEqual(0.5 + 1e-9);
    expect(price.achievedWithOneMore).toBeCloseTo((price.demandRps * 0.1) / (n + 1), 12);
    expect(price.oneMoreInstanceCostPerHour).toBeCloseTo(0.05, 12);
    const risk = price.halfTheRisk!;
    expect(risk.quantile).toBe(0.975);
    expect(risk.peakRps).toBeGreaterThanOrEqual(taxiE.peakForecastRps);
    expect(risk.instances).toBe(Math.max(n, Math.ceil(risk.peakRps / 5 - 1e-9)));
    expect(risk.extraCostPerHour).toBeCloseTo((risk.instances - n) * 0.05, 12);
    expect(await store.actions.list()).toEqual([]);
  });

  it('act executes the plan once; the next cycle finds nothing to do', async () => {
    const l = loop();
    const c1 = await l.runCycle();
    expect(c1.status).toBe('succeeded');
    const records = await store.actions.list();
    expect(records.length).toBeGreaterThan(0);
    expect(records.every((r) => r.status === 'succeeded' && r.attempts === 1)).toBe(true);
    clock += 60; // nodes are ready after their 60 s delay
    const c2 = await l.runCycle();
    expect(c2.status).toBe('succeeded');
    expect((c2.summary as { actions: { planned: number } }).actions.planned).toBe(0);
    expect(await store.actions.list()).toHaveLength(records.length);
    const text = await metrics.registry.metrics();
    expect(text).toContain(`headroom_actions_total{kind="scaleNodes",status="succeeded"} 1`);
    expect(text).toContain('headroom_loop_cycles_total{mode="act",status="succeeded"} 2');
    expect(text).toMatch(/headroom_loop_stage_duration_seconds_count\{stage="allocate"\} 2/);
  });
});

describe('control loop: granted capacity requests (real NYC taxi trace)', () => {
  beforeEach(() => seedTaxi([pool]));

  /** A request of `cpuMillicores` and `memoryMiB` for an hour, submitted and granted now. */
  async function grant(cpuMillicores: number, memoryMiB: number): Promise<number> {
    const limits = { submitsPerSecond: 1, burst: 10, maxQueued: 10, fallbackRetryAfterSeconds: 60 };
    const { request } = await store.requests.submit({ tenant: 'search', cpuMillicores, memoryMiB, priority: 5, durationSeconds: 3600, bodyHash: `h${cpuMillicores}` }, limits, clock);
    await store.requests.decide(() => [{ id: request.id, from: 'queued', to: 'granted', reason: 'test' }], clock);
    return request.id;
  }

  it('holds a grant: its nodes are provisioned ahead, its pieces never reach the driver, and released it frees them', async () => {
    const l = loop();
    expect((await l.runCycle()).status).toBe('succeeded');
    const [first] = await store.listPlans(1);
    const nodes = first.target.nodesByPool.general;
    expect(nodes).toBeGreaterThan(0);
    clock += 60;
    // 8 cores and 32 GiB: two pieces of one whole 4-core, 16 GiB node each.
    const id = await grant(8000, 32 * 1024);
    expect((await l.runCycle()).status).toBe('succeeded');
    const [held] = await store.listPlans(1);
    expect(held.target.nodesByPool.general).toBe(nodes + 2);
    // The plan's instances are the workloads' only, so the queue (which counts grants itself) does not count the grant twice.
    expect(Object.keys(held.target.instances)).toEqual(['taxi']);
    expect(held.actions.map((a) => [a.kind, a.kind === 'scaleNodes' ? a.toNodes : undefined])).toEqual([['scaleNodes', nodes + 2]]);
    expect((held.explanation as { grants: Record<string, unknown> }).grants).toEqual({
      [id]: { tenant: 'search', cpuMillicores: 8000, memoryMiB: 32 * 1024, pieces: 2, placement: { general: 2 }, shortPieces: 0 },
    });
    const driven = await store.actions.list();
    expect(driven.every((r) => r.action.kind !== 'scaleWorkload' || r.action.workload === 'taxi')).toBe(true);
    // Released: the next cycle gives the two nodes back.
    await store.requests.cancel(id, clock, 'done');
    clock += 60;
    expect((await l.runCycle()).status).toBe('succeeded');
    const [after] = await store.listPlans(1);
    expect(after.target.nodesByPool.general).toBe(nodes);
    expect((after.explanation as { grants: Record<string, unknown> }).grants).toEqual({});
  });

  it.each([
    ['above the workload (5 > 0) takes all six nodes it asks for; the workload gets the rest', 0],
    ['below the workload (5 < 10) gets the nodes the workload leaves', 10],
  ])('short of nodes, priorities decide: a grant %s', async (_case, workloadPriority) => {
    // Twelve nodes at most; the grant asks for six whole nodes (6 pieces) at priority 5.
    await store.applyConfig([
      { kind: 'pool', name: 'general', document: { ...pool, maxNodes: 12 } },
      { kind: 'workload', name: 'taxi', document: workload('taxi', { priority: workloadPriority }) },
    ], clock);
    const id = await grant(6 * 4000, 6 * 16 * 1024);
    expect((await loop().runCycle('dry-run')).status).toBe('succeeded');
    const [plan] = await store.listPlans(1);
    const e = plan.explanation as { grants: Record<string, { pieces: number; placement: Record<string, number>; shortPieces: number }>; workloads: Record<string, { neededInstances: number; allocatedInstances: number }> };
    const needed = e.workloads.taxi.neededInstances;
    // The workload alone needs more than the six nodes the grant leaves and fits in eleven: the two orders differ.
    expect(needed).toBeGreaterThan(24);
    expect(needed).toBeLessThanOrEqual(44);
    expect(plan.target.nodesByPool.general).toBe(12);
    const workloadNodes = workloadPriority > 5 ? Math.ceil(needed / 4) : 6;
    expect(e.workloads.taxi.allocatedInstances).toBe(Math.min(needed, 4 * workloadNodes));
    const g = e.grants[id];
    expect(g.pieces).toBe(6);
    expect(g.placement).toEqual({ general: 12 - workloadNodes });
    expect(g.shortPieces).toBe(6 - (12 - workloadNodes));
  });
});

describe('control loop: pools marked failing (real NYC taxi trace)', () => {
  beforeEach(() => seedTaxi([pool, { ...pool, name: 'backup', costPerHour: 0.3 }]));

  it('the next cycle leaves the failing pool out of the plan and moves its workloads to a healthy pool', async () => {
    const l = loop();
    expect((await l.runCycle()).status).toBe('succeeded');
    const first = (await store.listPlans(10)).at(-1)!;
    // The cheaper pool holds everything while healthy.
    expect(first.target.nodesByPool.general).toBeGreaterThan(0);
    expect(first.target.nodesByPool.backup).toBe(0);
    clock += 60;
    await store.applyConfig([{ kind: 'pool', name: 'general', document: { ...pool, health: 'failing' } }], clock);
    const c = await l.runCycle();
    expect(c.status).toBe('succeeded');
    expect((c.summary as { excludedPools: Record<string, string> }).excludedPools).toEqual({ general: 'pool "general" is failing' });
    const plans = await store.listPlans(10);
    const second = plans.find((p) => p.id !== first.id)!;
    expect(second.target.nodesByPool.general ?? 0).toBe(0);
    expect(second.target.instances.taxi.general ?? 0).toBe(0);
    expect(second.target.instances.taxi.backup).toBe(Object.values(first.target.instances.taxi).reduce((a, b) => a + b, 0));
    // Make before break: backup's nodes and instances now, general's removed once they run.
    expect(second.actions.some((a) => a.kind === 'scaleNodes' && a.pool === 'backup' && a.toNodes > 0)).toBe(true);
    clock += 60;
    expect((await l.runCycle()).status).toBe('succeeded');
    const third = (await store.listPlans(10)).find((p) => p.id !== first.id && p.id !== second.id)!;
    expect(third.actions.some((a) => a.kind === 'scaleNodes' && a.pool === 'general' && a.toNodes === 0)).toBe(true);
  });

  it('every pool failing: the cycle fails with a message naming each pool and why', async () => {
    await store.applyConfig([
      { kind: 'pool', name: 'general', document: { ...pool, health: 'failing' } },
      { kind: 'pool', name: 'backup', document: { ...pool, name: 'backup', health: 'failing' } },
    ], clock);
    const c = await loop().runCycle();
    expect(c.status).toBe('failed');
    expect(c.error).toMatch(/every pool is excluded from plans:\n {2}- pool "(general|backup)": pool "\1" is failing\n {2}- pool "(general|backup)": pool "\2" is failing/);
    expect(await store.actions.list()).toEqual([]);
  });
});

describe('forecastMape', () => {
  const fc = { model: 'm', startSeconds: 600, stepSeconds: 300, mean: [0, 0, 0], quantiles: [{ level: 0.5, values: [10, 20, 30] }] };
  it.each([
    // observed grid from 0 s at 300 s: steps 2, 3, 4 line up with the forecast's 0, 1, 2.
    ['all steps observed', [9, 9, 8, 25, 30], (2 / 8 + 5 / 25 + 0) / 3],
    ['zero demand is skipped', [9, 9, 0, 25], 5 / 25],
    ['only the overlap counts', [9, 9, 8], 2 / 8],
  ])('%s', (_n, values, want) => {
    expect(forecastMape(fc, { startSeconds: 0, stepSeconds: 300, values })).toBeCloseTo(100 * want, 9);
  });
  it('is undefined without overlap or on another grid', () => {
    expect(forecastMape(fc, { startSeconds: 0, stepSeconds: 300, values: [1, 2] })).toBeUndefined();
    expect(forecastMape(fc, { startSeconds: 0, stepSeconds: 600, values: [1, 2, 3, 4] })).toBeUndefined();
  });
});

describe('control loop rules', () => {
  /** Two days of 5-minute samples: `base` everywhere, `recent` over the last hour before the final sample. */
  async function history(base: number, recent: number, final: number) {
    const steps = 2 * 288;
    const start = clock - steps * STEP;
    const samples = Array.from({ length: steps }, (_, i) => ({ workload: 'w', timeSeconds: start + i * STEP, value: i >= steps - 13 && i < steps - 1 ? recent : i === steps - 1 ? final : base }));
    await store.insertSamples(samples);
  }

  beforeEach(() => {
    clock = 1_700_000_100 - (1_700_000_100 % STEP);
  });

  for (const scaleInFromForecast of [true, false]) {
    it(`scale-in from forecasts ${scaleInFromForecast ? 'on: follows the forecast down' : 'off: holds for the recent observed peak'}`, async () => {
      await store.applyConfig([
        { kind: 'pool', name: 'general', document: pool },
        { kind: 'workload', name: 'w', document: workload('w', { scaleInFromForecast }) },
        { kind: 'policy', name: 'predictive', document: { model: 'seasonal-naive', refitIntervalSeconds: 21600 } },
        { kind: 'policy', name: 'loop', document: { mode: 'act', intervalSeconds: 300, stepSeconds: 300, horizonSeconds: 3600, historySeconds: 3 * DAY } },
      ], clock);
      await history(5, 40, 5);
      // Before the last sample arrived, the recent 40 rps made the loop scale to 8 instances (40 / 5).
      const l = loop();
      clock -= STEP; // the final sample (at this time) is not yet in a complete step
      const first = await l.runCycle();
      expect(first.status).toBe('succeeded');
      const before = (await store.listPlans(1))[0].explanation as { workloads: { w: { neededInstances: number } } };
      expect(before.workloads.w.neededInstances).toBe(8);
      clock += STEP;
      await l.runCycle();
      const after = (await store.listPlans(1))[0].explanation as { workloads: { w: { neededInstances: number; forecastInstances: number; reason: string } } };
      // Yesterday at this time demand was 5 rps, and it is 5 rps now: the forecast needs fewer instances.
      expect(after.workloads.w.forecastInstances).toBeLessThan(8);
      if (scaleInFromForecast) expect(after.workloads.w.neededInstances).toBe(after.workloads.w.forecastInstances);
      else {
        expect(after.workloads.w.neededInstances).toBe(8);
        expect(after.workloads.w.reason).toContain('scale-in from forecasts is off');
      }
    });
  }

  it('records a failed cycle with the reason when nothing is configured', async () => {
    const c = await loop().runCycle();
    expect(c).toMatchObject({ status: 'failed', error: expect.stringContaining('no workloads are configured') });
  });

  it('recovers after a crash mid-plan: interrupted cycle, every action executed exactly once', async () => {
    await store.applyConfig([
      { kind: 'pool', name: 'general', document: pool },
      { kind: 'pool', name: 'spare', document: { ...pool, name: 'spare', costPerHour: 0.5 } },
      { kind: 'workload', name: 'w', document: workload('w') },
      { kind: 'workload', name: 'v', document: workload('v') },
      { kind: 'policy', name: 'predictive', document: { model: 'seasonal-naive', refitIntervalSeconds: 21600 } },
    ], clock);
    await history(40, 40, 40);
    await store.insertSamples(Array.from({ length: 100 }, (_, i) => ({ workload: 'v', timeSeconds: clock - (i + 1) * STEP, value: 20 })));
    // A driver that "dies" (never answers) on the plan's second action.
    const applied: string[] = [];
    const dying: DriverFactory = async (ctx) => {
      const sim = await durableSimulator(ctx);
      let calls = 0;
      return {
        name: 'dying',
        observe: () => sim.observe(),
        apply: (a: Action) => {
          applied.push(a.id);
          return ++calls === 2 ? new Promise(() => undefined) : sim.apply(a);
        },
      } satisfies Driver;
    };
    void loop(dying).runCycle();
    for (let i = 0; i < 200 && applied.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(applied).toHaveLength(2);
    const [plan] = await store.listPlans(1);
    expect(plan.actions.length).toBeGreaterThanOrEqual(3);
    expect((await store.actions.get(plan.actions[1].id))?.status).toBe('sent');

    // "Restart": a new loop on the same database, with a fresh simulator rebuilt from the log.
    const other = await openStore({ dataDir: dir });
    const sent: string[] = [];
    const counting: DriverFactory = async (ctx) => {
      const sim = await durableSimulator(ctx);
      return { name: 'sim', observe: () => sim.observe(), apply: (a) => (sent.push(a.id), sim.apply(a)) };
    };
    const restarted = new ControlLoop({ store: other, metrics: new ServiceMetrics(), driverFactory: counting, now, sleep: async () => undefined });
    expect(await restarted.recover()).toEqual({ interrupted: 1, resumedActions: plan.actions.length });
    // The first action had succeeded: not sent again; the rest were sent once each.
    expect(sent).toEqual(plan.actions.slice(1).map((a) => a.id));
    const records = await other.actions.list();
    expect(records.map((r) => r.action.id)).toEqual(plan.actions.map((a) => a.id));
    expect(records.every((r) => r.status === 'succeeded')).toBe(true);
    expect((await other.listCycles(1))[0].status).toBe('interrupted');
    // The next cycle sees the plan done: nothing left to do once nodes are ready.
    clock += 120;
    const next = await restarted.runCycle();
    expect((next.summary as { actions: { planned: number } }).actions.planned).toBe(0);
    await other.close();
  });
});
