/**
 * Forecast demand of every service over the candidate windows: the entry
 * points are forecast from their history before the origin (never after it),
 * and the forecast propagates along the dependency graph to every other
 * service (src/graph/graph.ts: the mean exactly, each quantile level by level).
 * Without a graph each workload is forecast on its own. Pure: a forecaster
 * and series in, forecasts out.
 */
import { InvalidInputError } from '../core/errors.ts';
import { quantileAt, type QuantileForecast } from '../core/forecast.ts';
import type { Scenario, Workload } from '../core/model.ts';
import type { Forecaster } from '../core/forecast.ts';
import { buildDependencyGraph, propagateForecast, type DependencyGraph } from '../graph/graph.ts';

export interface ServiceForecast {
  readonly startSeconds: number;
  readonly stepSeconds: number;
  readonly steps: number;
  /** Mean demand (requests per second) by service, one value per step. */
  readonly mean: ReadonlyMap<string, readonly number[]>;
  /** Demand at the service's sizing quantile (its risk level), by service. */
  readonly quantile: ReadonlyMap<string, readonly number[]>;
  readonly model: string;
}

/** The scenario's dependency graph over its graph services (or its workloads), when it has edges. */
export function scenarioGraph(scenario: Pick<Scenario, 'graph' | 'workloads' | 'dependencies'>): DependencyGraph | undefined {
  const services = scenario.graph ? scenario.graph.services.map((s) => s.name) : scenario.workloads.map((w) => w.name);
  if (scenario.dependencies.length === 0 && !scenario.graph) return undefined;
  return buildDependencyGraph(services, scenario.dependencies, 'dependencies');
}

/** Step index of `timeSeconds` on a workload's demand grid. */
export function stepIndex(w: Workload, timeSeconds: number): number {
  return Math.floor((timeSeconds - w.demand.startSeconds) / w.demand.stepSeconds);
}

/**
 * Forecast every workload's demand for `steps` steps from `originSeconds`.
 * Entry points (graph scenarios) or every workload (otherwise) are fitted on
 * their history before the origin.
 */
export function forecastServices(
  scenario: Pick<Scenario, 'graph' | 'workloads' | 'dependencies'>,
  originSeconds: number,
  steps: number,
  forecaster: Forecaster,
): ServiceForecast {
  const workloads = scenario.workloads;
  const first = workloads[0];
  const stepSeconds = first.demand.stepSeconds;
  const origin = stepIndex(first, originSeconds);
  if (origin < 2) throw new InvalidInputError('maintenance.candidates.from', 'needs at least two steps of history before it');
  if ((originSeconds - first.demand.startSeconds) % stepSeconds !== 0) throw new InvalidInputError('maintenance.candidates.from', `must fall on a step boundary (steps of ${stepSeconds} s from ${first.demand.startSeconds})`);
  const levels = [...new Set([0.5, ...workloads.map((w) => w.sizingQuantile)])].sort((a, b) => a - b);
  const fit = (w: Workload): QuantileForecast =>
    forecaster.fit({ history: { startSeconds: w.demand.startSeconds, stepSeconds, values: w.demand.values.slice(0, origin) } }).predict(steps, levels);

  const graph = scenario.graph ? scenarioGraph(scenario) : undefined;
  const byService = new Map<string, QuantileForecast>();
  if (graph && scenario.graph) {
    const external = Object.fromEntries(scenario.graph.entry.map((e) => [e, fit(workloads.find((w) => w.name === e)!)]));
    for (const [s, f] of propagateForecast(graph, external)) byService.set(s, f);
  } else {
    for (const w of workloads) byService.set(w.name, fit(w));
  }
  const mean = new Map<string, number[]>();
  const quantile = new Map<string, number[]>();
  let model = '';
  for (const w of workloads) {
    const f = byService.get(w.name)!;
    model ||= f.model;
    mean.set(w.name, f.mean.map((v) => Math.max(0, v)));
    quantile.set(w.name, Array.from({ length: steps }, (_, k) => Math.max(0, quantileAt(f, w.sizingQuantile, k))));
  }
  return { startSeconds: originSeconds, stepSeconds, steps, mean, quantile, model };
}
