import type { Scenario, Workload } from '../core/model.ts';
import type { Allocation } from '../core/plan.ts';
import { instanceCapacityRps } from '../core/model.ts';
import { SimulatorDriver } from '../drivers/simulator.ts';
import { attainmentAt } from '../capacity/sizing.ts';
import { summarizePolicy } from './metrics.ts';
import { bill, priceBookOf, totalMicros } from '../billing/invoice.ts';
import { HourlyMeter } from '../billing/meter.ts';
import { MICROS_PER_UNIT } from '../billing/money.ts';
import type { PolicyContext, ReplayPolicy, Sizer, Allocator } from './policies/policy.ts';
import type { PolicyResult, PolicyTimeline, SimulationResult } from './types.ts';
import { reservationSummary } from './reservations.ts';
import { networkPlannerOf, PoolStatus, PoolTracker, recordingShortfall } from './pools.ts';

export interface ReplayProgress {
  readonly policy: string;
  readonly doneSteps: number;
  readonly totalSteps: number;
}

export interface ReplayOptions {
  readonly policies: readonly ((ctx: PolicyContext) => ReplayPolicy)[];
  readonly sizer: Sizer;
  /** A fresh allocator for each policy (allocators may keep per-caller state); `pools` says which pools it may use at the replay's current time. */
  readonly allocator: (pools: PoolStatus) => Allocator;
  readonly onProgress?: (p: ReplayProgress) => void;
}

/** Memoized attainment: demand is constant within a step and instances change rarely. */
function attainmentCache(w: Workload): (instances: number, demandRps: number) => number {
  let lastN = -1;
  let lastD = -1;
  let last = 1;
  return (n, d) => {
    if (n !== lastN || d !== lastD) {
      lastN = n;
      lastD = d;
      last = attainmentAt(w, n, d);
    }
    return last;
  };
}

/**
 * Replay the scenario's traces through each policy on its own simulated
 * cluster. Time advances in ticks (`tickSeconds`, the autoscalers' sync
 * period); within a step demand is the step's mean rate. After every tick the
 * engine records what ran, what it cost and what share of requests met the SLO.
 */
export async function replay(scenario: Scenario, options: ReplayOptions): Promise<SimulationResult> {
  const sim = scenario.simulation;
  const step = sim.stepSeconds;
  const evalStartIndex = Math.round(sim.warmupSeconds / step);
  const evalSteps = Math.round(sim.durationSeconds / step);
  const ticksPerStep = Math.round(step / sim.tickSeconds);
  const baseCtx = { scenario, sizer: options.sizer, evalStartIndex, evalSteps };
  const t0 = scenario.startSeconds + evalStartIndex * step;
  const demandRps = Object.fromEntries(scenario.workloads.map((w) => [w.name, w.demand.values.slice(evalStartIndex, evalStartIndex + evalSteps)]));
  const required = Object.fromEntries(
    scenario.workloads.map((w) => [w.name, (demandRps[w.name] as number[]).map((d) => options.sizer.instancesFor(w, d))]),
  );

  const results: PolicyResult[] = [];
  const notes: string[] = [];
  let bands = {};
  for (const makePolicy of options.policies) {
    const poolStatus = new PoolStatus(scenario, t0);
    const ctx: PolicyContext = { ...baseCtx, allocator: recordingShortfall(options.allocator(poolStatus), poolStatus) };
    const policy = makePolicy(ctx);
    const initial: Allocation = await policy.initialAllocation();
    const driver = new SimulatorDriver(scenario.pools, scenario.workloads, t0, { nodesByPool: { ...initial.nodesByPool }, instances: initial.instances as Record<string, Record<string, number>> });
    driver.networkPlanner = networkPlannerOf(scenario);
    const tracker = new PoolTracker(scenario, poolStatus, driver, t0, policy.name);
    const usageMeter = new HourlyMeter(scenario.pools, scenario.workloads, scenario.providers);
    driver.onUsage((interval) => usageMeter.add(interval));
    const attain = new Map(scenario.workloads.map((w) => [w.name, attainmentCache(w)]));
    const tl = {
      timeSeconds: [] as number[],
      capacityRps: Object.fromEntries(scenario.workloads.map((w) => [w.name, [] as number[]])),
      instances: Object.fromEntries(scenario.workloads.map((w) => [w.name, [] as number[]])),
      requiredInstances: required,
      sloAttainment: Object.fromEntries(scenario.workloads.map((w) => [w.name, [] as number[]])),
      nodes: Object.fromEntries(scenario.pools.map((p) => [p.name, [] as number[]])),
      costPerHour: [] as number[],
    };
    for (let e = 0; e < evalSteps; e++) {
      const stepIndex = evalStartIndex + e;
      const stepStart = scenario.startSeconds + stepIndex * step;
      const sumInst = new Map<string, number>();
      const sumAtt = new Map<string, number>();
      const sumNodes = new Map<string, number>();
      let sumCost = 0;
      for (let k = 0; k < ticksPerStep; k++) {
        const t = stepStart + k * sim.tickSeconds;
        driver.setTime(t);
        poolStatus.setTime(t);
        tracker.beforeTick(t);
        await policy.onTick({ timeSeconds: t, stepIndex, tickInStep: k }, driver);
        tracker.afterTick(t);
        for (const w of scenario.workloads) {
          const n = driver.runningTotal(w.name);
          sumInst.set(w.name, (sumInst.get(w.name) ?? 0) + n);
          sumAtt.set(w.name, (sumAtt.get(w.name) ?? 0) + attain.get(w.name)!(n, w.demand.values[stepIndex]));
        }
        const counts = driver.nodeCounts();
        for (const p of scenario.pools) sumNodes.set(p.name, (sumNodes.get(p.name) ?? 0) + counts[p.name]);
        sumCost += driver.costPerHour();
      }
      tl.timeSeconds.push(stepStart);
      for (const w of scenario.workloads) {
        const inst = sumInst.get(w.name)! / ticksPerStep;
        tl.instances[w.name].push(inst);
        tl.capacityRps[w.name].push(inst * instanceCapacityRps(w.service));
        tl.sloAttainment[w.name].push(sumAtt.get(w.name)! / ticksPerStep);
      }
      for (const p of scenario.pools) tl.nodes[p.name].push(sumNodes.get(p.name)! / ticksPerStep);
      tl.costPerHour.push(sumCost / ticksPerStep);
      if (options.onProgress && (e % 96 === 0 || e === evalSteps - 1)) options.onProgress({ policy: policy.name, doneSteps: e + 1, totalSteps: evalSteps });
    }
    driver.setTime(t0 + evalSteps * step);
    const timeline: PolicyTimeline = tl;
    const listed = summarizePolicy({
      name: policy.name,
      timeline,
      demandRps,
      stepSeconds: step,
      sloPercentileByWorkload: Object.fromEntries(scenario.workloads.map((w) => [w.name, w.slo.kind === 'latency' ? w.slo.percentile : 1])),
      actions: driver.log.length,
    });
    // The driver bills continuously; the timeline's step means must agree with it.
    if (Math.abs(listed.cost - driver.cost) > 1e-6 * Math.max(1, driver.cost)) {
      throw new Error(`internal: ${policy.name} cost ${listed.cost} disagrees with the simulator's bill ${driver.cost}`);
    }
    // What ran, metered and rated. Without agreements every pool is billed at
    // its costPerHour, so the invoices restate the simulator's bill (checked);
    // with agreements (tiers, commitments, caps) the invoices are the cost.
    const usage = usageMeter.records();
    const { invoices, alerts } = bill(usage, priceBookOf(scenario), { startSeconds: t0, endSeconds: t0 + evalSteps * step }, usageMeter.reservationRecords());
    const invoiced = totalMicros(invoices) / MICROS_PER_UNIT;
    const hasAgreements = (scenario.agreements?.length ?? 0) > 0;
    if (!hasAgreements && Math.abs(invoiced - listed.cost) >= 0.005) {
      throw new Error(`internal: ${policy.name} invoices total ${invoiced} but the simulator billed ${listed.cost}`);
    }
    const metrics = hasAgreements ? { ...listed, cost: invoiced } : listed;
    const held = policy.reservations?.();
    const reservations = held ? { ...held, accounts: reservationSummary(scenario, held.changes, usage, { startSeconds: t0, endSeconds: t0 + evalSteps * step }) } : undefined;
    results.push({ metrics, timeline, billing: { usage, invoices, alerts, onDemandCost: listed.cost }, pools: tracker.report(), ...(reservations ? { reservations } : {}) });
    if (policy.forecastBands) bands = policy.forecastBands();
    notes.push(...(policy.notes?.() ?? []));
  }
  return {
    scenario: scenario.name,
    description: scenario.description,
    stepSeconds: step,
    evaluatedSteps: evalSteps,
    startSeconds: t0,
    demandRps,
    forecastBands: bands,
    policies: results,
    notes,
  };
}
