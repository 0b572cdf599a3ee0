/**
 * A scenario's `maintenance:` end to end: forecast from history before the
 * origin, propagate along the graph, rank the candidate windows, and execute
 * the chosen window's plan through the simulator driver; plus the JSON and
 * text the CLI prints.
 */
import { MemoryActionLog, type ActionLog } from '../core/actionLog.ts';
import { InfeasibleError, InvalidInputError, firstProblems } from '../core/errors.ts';
import type { Forecaster } from '../core/forecast.ts';
import type { Scenario } from '../core/model.ts';
import type { Action } from '../core/plan.ts';
import type { Driver } from '../drivers/driver.ts';
import { forecasterByName } from '../forecast/index.ts';
import { forecastServices, scenarioGraph } from './demand.ts';
import { executeMigration, type MigrationRun } from './execute.ts';
import { checkPlan, graphLevels, type MigrationPlan } from './plan.ts';
import { countIn, splitEdges, totalOf, type Location } from './placement.ts';
import { phaseStarts, requiredOver, whatIfWindows, type Candidate, type WhatIfInput, type WhatIfReport } from './whatif.ts';

/** The what-if input of a scenario with `maintenance:` (forecast made here). */
export function whatIfInput(scenario: Scenario, forecaster?: Forecaster): WhatIfInput {
  const settings = scenario.maintenance;
  if (!settings) throw new InvalidInputError(scenario.name, 'the scenario has no maintenance: section');
  const step = scenario.simulation.stepSeconds;
  const steps = Math.ceil(settings.withinSeconds / step);
  const model = forecaster ?? forecasterByName(scenario.predictive.model, { horizonSteps: Math.min(steps, Math.round(86_400 / step)), stepSeconds: step });
  const forecast = forecastServices(scenario, settings.fromSeconds, steps, model);
  const graph = scenarioGraph(scenario);
  const names = new Set(scenario.workloads.map((w) => w.name));
  const order = graph ? graph.order.filter((s) => names.has(s)) : scenario.workloads.map((w) => w.name);
  const edges = scenario.dependencies.filter((e) => names.has(e.from) && names.has(e.to));
  return { workloads: scenario.workloads, pools: scenario.pools, edges, order, levels: graphLevels(order, edges), settings, forecast };
}

export interface MaintenanceOutcome {
  readonly input: WhatIfInput;
  readonly whatif: WhatIfReport;
  /** Absent when no candidate holds (the change is postponed before anything runs) or nothing has to move. */
  readonly run?: MigrationRun;
  /** The move back after the window (settings.returnAfter), planned for the chosen window. */
  readonly returnPlan?: MigrationPlan;
  readonly postponed?: string;
}

export interface MaintenanceOptions {
  readonly injectFailurePhase?: number;
  readonly log?: ActionLog;
  readonly wrapDriver?: (driver: Driver) => Driver;
  readonly forecaster?: Forecaster;
}

export async function runMaintenance(scenario: Scenario, options: MaintenanceOptions = {}): Promise<MaintenanceOutcome> {
  const input = whatIfInput(scenario, options.forecaster);
  const whatif = whatIfWindows(input);
  const chosen = whatif.chosen;
  if (!chosen) return { input, whatif, postponed: `the ${input.settings.change.kind} is postponed: ${whatif.reason}` };
  // Phases of the move, then of the move back (numbered on).
  const lastPhase = chosen.plan.phases.length + (chosen.returnPlan?.phases.length ?? 0);
  if (options.injectFailurePhase !== undefined && (options.injectFailurePhase < 1 || options.injectFailurePhase > lastPhase)) {
    throw new InvalidInputError('--inject-failure', `phase ${options.injectFailurePhase} is not in the chosen plan (phases 1..${lastPhase})`);
  }
  // Decide, check, then act: a plan that breaks a limit never reaches a driver.
  const violations = checkPlan(chosen.plan, scenario.workloads, scenario.pools, input.settings.change.kind === 'priceChange' ? [] : input.settings.change.pools);
  if (violations.length) throw new InfeasibleError('the chosen migration plan breaks its limits', firstProblems(violations.map((v) => `phase ${v.phase}, ${v.action}: ${v.problem}`)));
  const returnPlan = chosen.returnPlan;
  if (returnPlan) {
    const back = checkPlan(returnPlan, scenario.workloads, scenario.pools, input.settings.targetPools);
    if (back.length) throw new InfeasibleError('the planned move back breaks its limits', firstProblems(back.map((v) => `phase ${v.phase}, ${v.action}: ${v.problem}`)));
  }
  const run = await executeMigration({
    ...(returnPlan ? { returnPlan } : {}),
    workloads: scenario.workloads,
    pools: scenario.pools,
    settings: input.settings,
    plan: chosen.plan,
    planStartSeconds: chosen.planStartSeconds,
    windowStartSeconds: chosen.startSeconds,
    windowEndSeconds: chosen.endSeconds,
    log: options.log ?? new MemoryActionLog(),
    ...(options.injectFailurePhase !== undefined ? { injectFailurePhase: options.injectFailurePhase } : {}),
    ...(options.wrapDriver ? { wrapDriver: options.wrapDriver } : {}),
  });
  return { input, whatif, run, ...(returnPlan ? { returnPlan } : {}), ...(run.postponed ? { postponed: run.postponed } : {}) };
}

const iso = (t: number) => new Date(t * 1000).toISOString();
const round = (v: number, digits: number) => Number(v.toFixed(digits));

function candidateJson(c: Candidate, rank: number) {
  return {
    rank,
    start: iso(c.startSeconds),
    end: iso(c.endSeconds),
    planStart: iso(c.planStartSeconds),
    leadSeconds: c.plan.leadSeconds,
    phases: c.plan.phases.length,
    cost: round(c.cost, 4),
    nodeCost: round(c.nodeCost, 4),
    trafficCost: round(c.trafficCost, 4),
    sloAttainment: round(c.sloAttainment, 6),
    failingSlos: c.failingSlos.map((f) => f.service),
    failingSteps: Object.fromEntries(c.failingSlos.map((f) => [f.service, f.steps])),
    peakDemandRps: round(c.peakDemandRps, 2),
    neededCpuMillicores: c.neededCpuMillicores,
    capacityLeftCpuMillicores: c.capacityLeftCpuMillicores,
    crossZoneGiB: round(c.crossZoneGiB, 4),
    maxAddedLatencyMs: round(c.maxAddedLatencyMs, 3),
    splitEdges: c.splitEdges.map((e) => ({ ...e, maxCrossShare: round(e.maxCrossShare, 4) })),
    problems: c.problems,
    holds: c.holds,
  };
}

function actionJson(a: Action) {
  const { decidedAtSeconds: _d, ...rest } = a;
  return rest;
}

/** The JSON keys a maintenance run adds to `simulate --json` (and `whatif --json`). */
export function maintenanceJson(outcome: MaintenanceOutcome) {
  const { whatif, run } = outcome;
  const chosen = whatif.chosen;
  const starts = chosen ? phaseStarts(chosen.plan, chosen.planStartSeconds) : [];
  const returnStarts = chosen && outcome.returnPlan ? phaseStarts(outcome.returnPlan, chosen.endSeconds) : [];
  const gate = outcome.input.settings.gate;
  return {
    whatif: {
      change: outcome.input.settings.change,
      forecastModel: outcome.input.forecast.model,
      forecastOrigin: iso(outcome.input.settings.fromSeconds),
      candidates: whatif.candidates.map((c, i) => candidateJson(c, i + 1)),
      chosen: chosen ? candidateJson(chosen, whatif.candidates.indexOf(chosen) + 1) : null,
      ...(whatif.reason ? { reason: whatif.reason } : {}),
    },
    migration: {
      status: run ? run.status : 'postponed',
      ...(run?.failedPhase !== undefined ? { failedPhase: run.failedPhase } : {}),
      ...(run?.reason ? { reason: run.reason } : {}),
      ...(outcome.postponed ? { postponed: outcome.postponed } : {}),
      ...(run?.returnStatus ? { returnStatus: run.returnStatus } : {}),
      ...(run?.returnReason ? { returnReason: run.returnReason } : {}),
      phases: [
        ...(chosen?.plan.phases ?? []).map((p, i) => ({ p, i, plan: chosen!.plan, stage: 'move' as const, starts })),
        ...(outcome.returnPlan?.phases ?? []).map((p, i) => ({ p, i, plan: outcome.returnPlan!, stage: 'return' as const, starts: returnStarts })),
      ].map(({ p, i, plan, stage, starts }) => ({
        number: p.number,
        stage,
        kind: p.kind,
        description: p.description,
        start: iso(starts[i]),
        waitSeconds: p.waitSeconds,
        durationSeconds: p.durationSeconds,
        gate: { minSloAttainment: gate.minSloAttainment, soakSeconds: gate.soakSeconds },
        actions: p.actions.map(actionJson),
        rollback: p.rollback.map(actionJson),
        placementAfter: p.placementAfter,
        ...phaseChecks(outcome.input, plan, i, starts),
      })),
      gates: run?.gates ?? [],
      log: run?.log ?? [],
    },
    initialPlacement: run?.initialPlacement ?? chosen?.plan.initial ?? null,
    finalPlacement: run?.finalPlacement ?? chosen?.plan.initial ?? null,
    steps: (run?.steps ?? []).map((s) => ({ time: s.time, service: s.service, demandRps: round(s.demandRps, 3), capacityRps: round(s.capacityRps, 3), location: s.location })),
  };
}

/**
 * What one phase means for the services it touches: instances they keep
 * through it (the lower of before and after) against what the forecast at
 * their risk quantile needs over the phase, and the edges its placement
 * splits across zones (traffic the plan accepts while callers run at the
 * target and callees still at the source), at the forecast mean at its start.
 */
function phaseChecks(input: WhatIfInput, plan: MigrationPlan, index: number, starts: readonly number[]) {
  const phase = plan.phases[index];
  const before = index === 0 ? plan.initial : plan.phases[index - 1].placementAfter;
  const from = starts[index];
  const to = from + phase.durationSeconds;
  const touched = [...new Set(phase.actions.flatMap((a) => (a.kind === 'scaleWorkload' || a.kind === 'migrate' ? [a.workload] : [])))];
  const sloChecks = touched.map((service) => {
    const w = input.workloads.find((x) => x.name === service)!;
    const availableInstances = Math.min(totalOf(before, service), totalOf(phase.placementAfter, service));
    const requiredInstances = requiredOver(w, input.forecast, from, to);
    return { service, availableInstances, requiredInstances, holds: availableInstances >= requiredInstances };
  });
  const f = input.forecast;
  const k = Math.max(0, Math.min(f.steps - 1, Math.floor((from - f.startSeconds) / f.stepSeconds)));
  const demand = new Map(input.workloads.map((w) => [w.name, f.mean.get(w.name)![k]]));
  const locations = new Map<string, Location>(input.pools.map((p) => [p.name, { zone: p.zone, provider: p.provider }]));
  const split = splitEdges(phase.placementAfter, input.edges, demand, locations, input.settings.network).map((e) => ({
    from: e.from,
    to: e.to,
    crossZoneShare: round(e.crossZoneShare, 4),
    callsPerSecond: round(e.callsPerSecond, 2),
    addedLatencyMs: round(e.addedLatencySeconds * 1000, 3),
  }));
  const inChanged = Object.keys(phase.placementAfter).reduce((a, s) => a + countIn(phase.placementAfter, s, input.settings.change.pools), 0);
  return { sloChecks, acceptedCrossZoneEdges: split, instancesInChangedPools: inChanged };
}
