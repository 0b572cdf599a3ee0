import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { QuantileForecast } from '../core/forecast.ts';
import type { Scenario } from '../core/model.ts';
import { buildScenario, validateScenario } from '../config/load.ts';
import { SimulatorDriver } from '../drivers/simulator.ts';
import { HourlyMeter } from '../billing/meter.ts';
import type { PolicyContext, ReplayPolicy } from './policies/policy.ts';
import { accountNodeForecasts, groupNodeForecasts, reservationSummary, withReservations } from './reservations.ts';

/**
 * Two reservation pools of one shape (4 vCPU, 16 GiB) in zones a and b, the
 * one in b cheaper to commit; account A (priority 10) runs wa (1 vCPU, 4 GiB:
 * a quarter node), account B (priority 5) runs wb (2 vCPU, 8 GiB: half a node).
 * At most 3 nodes reservable per pool; B is guaranteed 1 node.
 */
const YAML = `
name: reservations-tiny
simulation: { stepSeconds: 5m, warmupSeconds: 10m, durationSeconds: 2h, decisionIntervalSeconds: 5m, horizonSeconds: 15m }
providers: [{ name: cloud }]
pools:
  - { name: r-a, provider: cloud, zone: a, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.2, committedCostPerHour: 0.12 }
  - { name: r-b, provider: cloud, zone: b, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.2, committedCostPerHour: 0.10 }
accounts:
  - { name: A, group: g, priority: 10 }
  - { name: B, group: g, priority: 5 }
workloads:
  - name: wa
    account: A
    demand: { inline: { stepSeconds: 5m, values: [${Array(30).fill(10).join(', ')}] } }
    throughputPerInstanceRps: 1
    cpuMillicores: 1 vCPU
    memoryMiB: 4 GiB
    slo: { maxUtilization: 1 }
  - name: wb
    account: B
    demand: { inline: { stepSeconds: 5m, values: [${Array(30).fill(10).join(', ')}] } }
    throughputPerInstanceRps: 1
    cpuMillicores: 2 vCPU
    memoryMiB: 8 GiB
    slo: { maxUtilization: 1 }
reservations:
  pools: [r-a, r-b]
  reviewIntervalSeconds: 30m
  releaseAfterSeconds: 1h
  maxReservedNodes: { r-a: 3, r-b: 3 }
  breakEven: false
  accounts:
    B: { guaranteedNodes: 1 }
`;

/** The replay test below checks hysteresis and contention figures, so it runs without the break-even rule; \`withBreakEven\` has it. */
const scenario: Scenario = buildScenario(validateScenario(parse(YAML), 'tiny.yaml'), '.');
const withBreakEven = (line: string, hold = '15m'): Scenario =>
  buildScenario(validateScenario(parse(YAML.replace('  breakEven: false', line).replace('releaseAfterSeconds: 1h', `releaseAfterSeconds: ${hold}`)), 'tiny.yaml'), '.');

/** A forecast whose paths are flat: median `median`, 95% `upper`, 5% half the median, mean the median. */
const flat = (median: number, upper: number, steps = 3): QuantileForecast => ({
  model: 'fixed',
  startSeconds: 0,
  stepSeconds: 300,
  mean: Array(steps).fill(median),
  quantiles: [
    { level: 0.05, values: Array(steps).fill(median / 2) },
    { level: 0.5, values: Array(steps).fill(median) },
    { level: 0.95, values: Array(steps).fill(upper) },
  ],
});

/** Demand in requests per second is taken as instances (so node-equivalents are instances × node share). */
const identity = { instancesFor: (_w: unknown, d: number) => d };

describe('accountNodeForecasts', () => {
  it('turns workload forecasts into node-equivalents in the reservation pools, by where instances run', () => {
    const f = accountNodeForecasts({
      scenario,
      settings: scenario.reservations!,
      forecasts: { stepIndex: 2, byWorkload: new Map([['wa', flat(8, 12)], ['wb', flat(4, 6)]]) },
      // wa all in r-a; wb half in each.
      placement: { wa: { 'r-a': 4 }, wb: { 'r-a': 2, 'r-b': 2 } },
      instancesFor: identity.instancesFor,
    });
    // A: 12 instances × 0.25 = 3 nodes at the upper bound, 8 × 0.25 = 2 predicted, all in r-a.
    expect(f.A).toMatchObject({ upperNodes: 3, predictedNodes: 2, byPool: { 'r-a': 3, 'r-b': 0 } });
    // B: 6 × 0.5 = 3 upper, 4 × 0.5 = 2 predicted, half in each zone.
    expect(f.B).toMatchObject({ upperNodes: 3, predictedNodes: 2, byPool: { 'r-a': 1.5, 'r-b': 1.5 } });
  });

  it('counts only the share of instances placed in the reservation pools', () => {
    const f = accountNodeForecasts({
      scenario,
      settings: { ...scenario.reservations!, pools: ['r-b'] },
      forecasts: { stepIndex: 2, byWorkload: new Map([['wa', flat(8, 12)], ['wb', flat(4, 6)]]) },
      placement: { wa: { 'r-a': 4 }, wb: { 'r-a': 1, 'r-b': 3 } },
      instancesFor: identity.instancesFor,
    });
    expect(f.A.upperNodes).toBe(0);
    // 6 × 3/4 × 0.5 = 2.25.
    expect(f.B.upperNodes).toBeCloseTo(2.25, 12);
  });
});

describe('groupNodeForecasts', () => {
  it("a group's upper bound is below the sum of its independent members' upper bounds, and one member is itself", () => {
    const members = { A: flat(10, 13.3), B: flat(10, 13.3) };
    const g = groupNodeForecasts(new Map([['g', ['A', 'B']], ['solo', ['A']]]), members);
    expect(g.g.summedUpperNodes).toBeCloseTo(26.6, 9);
    // Two independent members, each median 10 and 95% at 10 + 1.645σ (σ ≈ 2): the sum's 95% is
    // 20 + 1.645·σ·√2 ≈ 24.7, well below 26.6 (the sum of the quantiles assumes perfect dependence).
    expect(g.g.upperNodes).toBeGreaterThan(23.5);
    expect(g.g.upperNodes).toBeLessThan(25.8);
    expect(g.g.predictedNodes).toBeCloseTo(20, 0);
    expect(g.solo).toEqual({ upperNodes: 13.3, predictedNodes: 10, summedUpperNodes: 13.3 });
  });
});

describe('withReservations in a replay', () => {
  it('raises, shares a contended pool by priority above guarantees, releases after the hold time, and bills it', async () => {
    let forecasts = new Map([['wa', flat(8, 12)], ['wb', flat(4, 6)]]);
    const inner: ReplayPolicy = {
      name: 'predictive',
      initialAllocation: async () => ({ nodesByPool: {}, instances: {}, costPerHour: 0, shortfall: {} }),
      onTick: async () => {},
      latestForecasts: () => ({ stepIndex: 0, byWorkload: forecasts }),
    };
    const ctx = { scenario, sizer: identity, evalStartIndex: 2, evalSteps: 24 } as unknown as PolicyContext;
    const policy = withReservations(inner, ctx);
    const t0 = scenario.startSeconds + 2 * 300;
    const driver = new SimulatorDriver(scenario.pools, scenario.workloads, t0, { nodesByPool: { 'r-a': 2, 'r-b': 1 }, instances: { wa: { 'r-a': 4 }, wb: { 'r-a': 2, 'r-b': 2 } } });
    const meter = new HourlyMeter(scenario.pools, scenario.workloads, []);
    driver.onUsage((i) => meter.add(i));
    const review = async (minutes: number) => {
      const t = t0 + minutes * 60;
      driver.setTime(t);
      await policy.onTick({ timeSeconds: t, stepIndex: 2 + minutes / 5, tickInStep: 0 }, driver);
    };
    // t0: A wants ⌈3 / 0.8⌉ = 4, all in r-a (its demand is there); B wants 4, split 2 / 2.
    // r-a holds 3: A (priority 10) gets all 3, B (priority 5, guarantee 1 placed in the cheaper r-b) none there.
    await review(0);
    expect(driver.reservedNodes()).toEqual({ 'r-a': 3, 'r-b': 2 });
    // Between reviews nothing changes.
    await review(5);
    forecasts = new Map([['wa', flat(0.8, 1.6)], ['wb', flat(4, 6)]]);
    await review(30);
    await review(60);
    expect(driver.reservedNodes()).toEqual({ 'r-a': 3, 'r-b': 2 });
    // A's predicted 0.2 < 80% of 4 since 30 min; at 90 min the hour has passed: release to ⌈0.4 / 0.8⌉ = 1,
    // and B gets the 2 nodes it wanted in r-a.
    await review(90);
    expect(driver.reservedNodes()).toEqual({ 'r-a': 3, 'r-b': 2 });
    const changes = policy.reservations!().changes.map((c) => [(c.timeSeconds - t0) / 60, c.account, c.pool, c.fromNodes, c.toNodes, c.reason]);
    expect(changes).toEqual([
      [0, 'A', 'r-a', 0, 3, 'raise'],
      [0, 'B', 'r-b', 0, 2, 'raise'],
      [90, 'A', 'r-a', 3, 1, 'release'],
      [90, 'B', 'r-a', 0, 2, 'restored'],
    ]);
    // A's raise was cut by contention, and says so.
    expect(policy.reservations!().changes[0].detail).toMatch(/^4 wanted, 3 granted: 3 reservable in r-a/);
    driver.setTime(t0 + 120 * 60);
    // A: 3 nodes for 1.5 h + 1 node for 0.5 h = 5 node-hours at 0.12; B: 2 × 2 h in r-b + 2 × 0.5 h in r-a.
    const summary = reservationSummary(scenario, policy.reservations!().changes, meter.records(), { startSeconds: t0, endSeconds: t0 + 7200 });
    expect(summary.map((s) => [s.account, s.reservedNodeHours, +s.reservedCost.toFixed(6)])).toEqual([
      ['A', 5, 0.6],
      ['B', 5, 0.52],
    ]);
    // The group's forecast is recorded at every review (0, 30, 60, 90 min; 5 min is no review).
    expect(policy.reservations!().groups.filter((g) => g.group === 'g')).toHaveLength(4);
    // The bill: the meter saw the reservations the driver billed.
    const reserved = meter.reservationRecords().reduce((s, r) => s + r.reservedNodeHours, 0);
    expect(reserved).toBeCloseTo(10, 9);
  });

  /** One review at t0 of forecasts wa, wb on the placement wa all in r-a, wb half in each; returns reserved nodes and changes. */
  async function reviewOnce(sc: Scenario, wa: QuantileForecast, wb: QuantileForecast) {
    const inner: ReplayPolicy = {
      name: 'predictive',
      initialAllocation: async () => ({ nodesByPool: {}, instances: {}, costPerHour: 0, shortfall: {} }),
      onTick: async () => {},
      latestForecasts: () => ({ stepIndex: 0, byWorkload: new Map([['wa', wa], ['wb', wb]]) }),
    };
    const policy = withReservations(inner, { scenario: sc, sizer: identity, evalStartIndex: 2, evalSteps: 24 } as unknown as PolicyContext);
    const t0 = sc.startSeconds + 2 * 300;
    const driver = new SimulatorDriver(sc.pools, sc.workloads, t0, { nodesByPool: { 'r-a': 2, 'r-b': 1 }, instances: { wa: { 'r-a': 4 }, wb: { 'r-a': 2, 'r-b': 2 } } });
    await policy.onTick({ timeSeconds: t0, stepIndex: 2, tickInStep: 0 }, driver);
    return { reserved: driver.reservedNodes(), changes: policy.reservations!().changes, notes: policy.notes?.() ?? [] };
  }

  it('with the break-even rule, reserves only the nodes whose expected use reaches committed / on-demand', async () => {
    // A hold time of 15 min, the forecast horizon: the rule reads the forecast alone.
    // Threshold: the dearer ratio of the two pools, 0.12 / 0.2 = 0.6.
    // A (wa, a quarter node per instance): median 8, 95% 12, 5% 4 instances; at the ten levels 0.05 ... 0.95
    // (interpolated) 1, 1.22, 1.44, 1.67, 1.89, 2.11, 2.33, 2.56, 2.78, 3 nodes. Node 1 is always full (1 ≥ 0.6);
    // node 2 is used (0 + .22 + .44 + .67 + .89 + 1 + 1 + 1 + 1 + 1) / 10 = 0.72 ≥ 0.6; node 3 (.11 + .33 + .56 + .78 + 1) / 10 = 0.28.
    // The upper bound alone wants ⌈3 / 0.8⌉ = 4; 2 pay.
    // B (wb, half a node): median 0, 95% 6 instances, a spike: 0 below the median, then 0.33, 1, 1.67, 2.33, 3 nodes;
    // node 1 is used (0.33 + 1 + 1 + 1 + 1) / 10 = 0.43 < 0.6: nothing pays, where the upper bound alone wants 4.
    const on = await reviewOnce(withBreakEven('  breakEven: true'), flat(8, 12), flat(0, 6));
    expect(on.reserved).toEqual({ 'r-a': 2, 'r-b': 0 });
    expect(on.changes.map((c) => [c.account, c.pool, c.fromNodes, c.toNodes, c.reason, c.detail])).toEqual([
      ['A', 'r-a', 0, 2, 'raise', 'upper bound 3 nodes > 90% of 0; 4 wanted, 2 pay for themselves'],
    ]);
    expect(on.notes.join('\n')).toMatch(/expected use over the 0.25 h hold \(the forecast, then the use observed just before\) reaches 60%/);
    // A 25% margin raises the bar to 0.75: A's second node (0.72) no longer pays.
    const margin = await reviewOnce(withBreakEven('  breakEven: { margin: 0.25 }'), flat(8, 12), flat(0, 6));
    expect(margin.reserved).toEqual({ 'r-a': 1, 'r-b': 0 });
    // A hold time of 1 h outlasts the 15 min horizon: the other 45 min (9 steps) are taken from the use observed
    // just before; here only now's step is observed: A runs 4 × 0.25 = 1 node, B 4 × 0.5 = 2 nodes, each
    // counted as one step (ten samples) next to the forecast's 3 steps (30 samples).
    // A: node 2 is used (10 × 0 + 3 × 7.22) / 40 = 0.54 < 0.6, so 1 node; B: node 1 (10 × 1 + 3 × 4.33) / 40 = 0.575 < 0.6, none.
    const held = await reviewOnce(withBreakEven('  breakEven: true', '1h'), flat(8, 12), flat(0, 6));
    expect(held.reserved).toEqual({ 'r-a': 1, 'r-b': 0 });
    // Without the rule the same forecasts reserve 5 nodes: A wants 4 in r-a and gets its limit, 3; B wants 4 split 2 / 2
    // and gets only its 2 in r-b (r-a is full, A has the higher priority).
    const off = await reviewOnce(scenario, flat(8, 12), flat(0, 6));
    expect(off.reserved).toEqual({ 'r-a': 3, 'r-b': 2 });
  });
});
