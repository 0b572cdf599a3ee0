/**
 * One policy's run -> comparable numbers: money, node-hours, SLO attainment and
 * the SPEC Research Group's elasticity metrics (Herbst et al., "Ready for Rain?
 * A View from SPEC Research on the Future of Cloud Metrics", 2016; "Quantifying
 * Cloud Performance and Dependability", ACM TOMPECS 2018).
 *
 * With required d_t and supplied s_t instances over T equal steps:
 *   τ_U = (1/T) Σ [s_t < d_t]              τ_O = (1/T) Σ [s_t > d_t]
 *   θ_U = (1/T') Σ max(d_t − s_t, 0)/d_t   θ_O = (1/T') Σ max(s_t − d_t, 0)/d_t
 * as fractions (the papers print percentages). θ is relative to d_t, so steps
 * with d_t = 0 have no defined amount: they are left out of θ (T' counts the
 * steps with d_t > 0) but still count for τ. Workloads are weighted equally;
 * a workload with no step of d_t > 0 is left out of the θ averages.
 */

import { InvalidInputError } from '../core/errors.ts';
import type { PolicyMetrics, PolicyName, PolicyTimeline } from './types.ts';

/**
 * Supplied and required instances closer than this count as equal. Both are
 * step means of whole instances, so anything smaller is floating-point noise.
 */
export const INSTANCE_EPSILON = 1e-9;

/** Slack under an SLO percentile below which a step still counts as met (so p = 1 means "any shortfall violates"). */
export const ATTAINMENT_EPSILON = 1e-9;

/** SPEC elasticity metrics of one workload, all fractions. */
export interface ElasticityMetrics {
  readonly underProvisionedTimeShare: number;
  readonly overProvisionedTimeShare: number;
  /** null when no step had required > 0. */
  readonly underProvisionedAmount: number | null;
  readonly overProvisionedAmount: number | null;
}

/** τ_U, τ_O, θ_U, θ_O of one workload's supplied vs required instances. */
export function elasticityMetrics(required: readonly number[], supplied: readonly number[]): ElasticityMetrics {
  if (required.length !== supplied.length) {
    throw new InvalidInputError('elasticity metrics', `required has ${required.length} steps but supplied has ${supplied.length}`);
  }
  const steps = required.length;
  let underSteps = 0;
  let overSteps = 0;
  let underAmount = 0;
  let overAmount = 0;
  let amountSteps = 0;
  for (let t = 0; t < steps; t++) {
    const d = required[t];
    const gap = supplied[t] - d;
    const under = gap < -INSTANCE_EPSILON;
    const over = gap > INSTANCE_EPSILON;
    if (under) underSteps++;
    if (over) overSteps++;
    if (d > 0) {
      amountSteps++;
      if (under) underAmount += -gap / d;
      if (over) overAmount += gap / d;
    }
  }
  return {
    underProvisionedTimeShare: steps ? underSteps / steps : 0,
    overProvisionedTimeShare: steps ? overSteps / steps : 0,
    underProvisionedAmount: amountSteps ? underAmount / amountSteps : null,
    overProvisionedAmount: amountSteps ? overAmount / amountSteps : null,
  };
}

function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
}

function ofLength(values: readonly number[], steps: number, where: string): readonly number[] {
  if (values.length !== steps) throw new InvalidInputError(where, `expected ${steps} steps (one per timeline step), got ${values.length}`);
  return values;
}

function series(record: Readonly<Record<string, readonly number[]>>, key: string, field: string, steps: number): readonly number[] {
  const values = record[key];
  if (!values) throw new InvalidInputError(field, `no series for "${key}"`);
  return ofLength(values, steps, `${field}.${key}`);
}

export interface SummarizePolicyArgs {
  readonly name: PolicyName;
  readonly timeline: PolicyTimeline;
  /** workload -> actual requests per second, one value per timeline step. */
  readonly demandRps: Readonly<Record<string, readonly number[]>>;
  readonly stepSeconds: number;
  /** workload -> share of requests that must meet the SLO (0..1); 1 for utilization SLOs. */
  readonly sloPercentileByWorkload: Readonly<Record<string, number>>;
  readonly actions: number;
}

/**
 * Metrics of one policy's timeline. The workloads are those of
 * `timeline.sloAttainment`; each must have demand, instances, required
 * instances and an SLO percentile of the timeline's length (else
 * InvalidInputError).
 */
export function summarizePolicy(args: SummarizePolicyArgs): PolicyMetrics {
  const { timeline, stepSeconds } = args;
  const steps = timeline.timeSeconds.length;
  const stepHours = stepSeconds / 3600;

  const cost = ofLength(timeline.costPerHour, steps, 'timeline.costPerHour').reduce((sum, c) => sum + c * stepHours, 0);
  let nodeHours = 0;
  for (const pool of Object.keys(timeline.nodes)) {
    for (const n of series(timeline.nodes, pool, 'timeline.nodes', steps)) nodeHours += n * stepHours;
  }

  let servedWithinSlo = 0;
  let totalDemand = 0;
  let violations = 0;
  let pairs = 0;
  const elasticity: ElasticityMetrics[] = [];
  for (const workload of Object.keys(timeline.sloAttainment)) {
    const attainment = series(timeline.sloAttainment, workload, 'timeline.sloAttainment', steps);
    const demand = series(args.demandRps, workload, 'demandRps', steps);
    const percentile = args.sloPercentileByWorkload[workload];
    if (percentile === undefined) throw new InvalidInputError('sloPercentileByWorkload', `no SLO percentile for workload "${workload}"`);
    for (let t = 0; t < steps; t++) {
      servedWithinSlo += attainment[t] * demand[t];
      totalDemand += demand[t];
      if (attainment[t] < percentile - ATTAINMENT_EPSILON) violations++;
      pairs++;
    }
    elasticity.push(
      elasticityMetrics(
        series(timeline.requiredInstances, workload, 'timeline.requiredInstances', steps),
        series(timeline.instances, workload, 'timeline.instances', steps),
      ),
    );
  }

  const amounts = (pick: (e: ElasticityMetrics) => number | null) =>
    mean(elasticity.map(pick).filter((v): v is number => v !== null));
  return {
    name: args.name,
    cost,
    nodeHours,
    sloAttainment: totalDemand > 0 ? servedWithinSlo / totalDemand : 1,
    violationStepShare: pairs ? violations / pairs : 0,
    underProvisionedTimeShare: mean(elasticity.map((e) => e.underProvisionedTimeShare)),
    overProvisionedTimeShare: mean(elasticity.map((e) => e.overProvisionedTimeShare)),
    underProvisionedAmount: amounts((e) => e.underProvisionedAmount),
    overProvisionedAmount: amounts((e) => e.overProvisionedAmount),
    actions: args.actions,
  };
}
