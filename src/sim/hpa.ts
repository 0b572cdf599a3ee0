/**
 * The Kubernetes Horizontal Pod Autoscaler (autoscaling/v2, resource metric
 * with an average-utilization target), as one pure step of its control loop.
 *
 * Follows the controller in kubernetes/kubernetes
 * `pkg/controller/podautoscaler/` (`horizontal.go`, `replica_calculator.go`,
 * `metrics/utilization.go`) and the documented algorithm
 * (kubernetes.io, "Horizontal Pod Autoscaling"):
 *
 * 1. If the target's replicas are 0 while minReplicas > 0, autoscaling is off.
 *    If they are outside [minReplicas, maxReplicas], they are set to the bound
 *    (no stabilization, no rate limit).
 * 2. Otherwise the metric proposal: usageRatio = utilization / target, with the
 *    utilization as an integer percentage (truncated, as the controller's integer
 *    arithmetic does); within tolerance -> current replicas; else
 *    ceil(usageRatio × readyPods). Pods not yet ready are set aside; when the
 *    ratio says "scale up" they are counted at 0% and the ratio recomputed; if
 *    the recomputed ratio is within tolerance or reverses direction, no change.
 * 3. Stabilization: the result is kept between the lowest proposal of the
 *    scale-up window and the highest proposal of the scale-down window
 *    (proposals of the last `…StabilizationSeconds`, the current one included).
 * 4. Rate limits: each policy allows a change relative to the replica count at
 *    the start of its period (current − added + removed in the last
 *    `periodSeconds`); `selectPolicy` picks the largest (Max) or smallest (Min)
 *    allowed change; then clamp to [minReplicas, maxReplicas].
 *
 * Simplifications (the observation is an aggregate, not a pod list):
 * - every pod has the same request, and every ready pod reports a metric (no
 *   "missing" pods);
 * - every pod that is not ready is "unready" (the controller also counts a pod
 *   that is not ready but past its CPU initialization period as unready for CPU,
 *   so the difference only concerns pods that failed readiness long after start);
 * - `currentReplicas − readyReplicas` pods are not ready; terminating pods are
 *   not counted at all (the controller ignores pods being deleted);
 * - a single tolerance for both directions (the default of both of Kubernetes'
 *   per-direction tolerances).
 *
 * Times are epoch seconds supplied by the caller (the clock is injected); the
 * caller calls `hpaStep` every `syncPeriodSeconds`.
 */

import { InvalidInputError } from '../core/errors.ts';

/** One scaling policy of the autoscaling/v2 behavior API. */
export interface HpaScalingPolicy {
  /** `Pods`: change by `value` pods; `Percent`: change by `value` percent of the replicas at the period's start. */
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  /** Length of the window over which past changes count against this policy. */
  readonly periodSeconds: number;
}

/** `Max`: allow the largest change any policy allows; `Min`: the smallest; `Disabled`: no change in this direction. */
export type HpaSelectPolicy = 'Max' | 'Min' | 'Disabled';

export interface HpaConfig {
  /** How often the controller runs (kube-controller-manager `--horizontal-pod-autoscaler-sync-period`). */
  readonly syncPeriodSeconds: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  /**
   * Target average utilization as a fraction of the pods' request (0.8 = the
   * manifest's `averageUtilization: 80`). Kubernetes takes an integer percentage:
   * the value is rounded to a whole percent.
   */
  readonly targetUtilization: number;
  /** No change while |usageRatio − 1| ≤ tolerance (`--horizontal-pod-autoscaler-tolerance`). */
  readonly tolerance: number;
  readonly scaleUpStabilizationSeconds: number;
  readonly scaleDownStabilizationSeconds: number;
  readonly scaleUpSelectPolicy: HpaSelectPolicy;
  readonly scaleUpPolicies: readonly HpaScalingPolicy[];
  readonly scaleDownSelectPolicy: HpaSelectPolicy;
  readonly scaleDownPolicies: readonly HpaScalingPolicy[];
}

/** Kubernetes defaults (autoscaling/v2 `SetDefaults_HorizontalPodAutoscalerBehavior`, controller-manager flags). */
export const HPA_DEFAULTS: Omit<HpaConfig, 'maxReplicas'> = {
  syncPeriodSeconds: 15,
  minReplicas: 1,
  targetUtilization: 0.8,
  tolerance: 0.1,
  scaleUpStabilizationSeconds: 0,
  scaleDownStabilizationSeconds: 300,
  scaleUpSelectPolicy: 'Max',
  scaleUpPolicies: [
    { type: 'Pods', value: 4, periodSeconds: 15 },
    { type: 'Percent', value: 100, periodSeconds: 15 },
  ],
  scaleDownSelectPolicy: 'Max',
  scaleDownPolicies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

/** A config from Kubernetes defaults and overrides; `maxReplicas` is required, as in the API. Throws InvalidInputError. */
export function hpaConfig(overrides: Partial<HpaConfig> & Pick<HpaConfig, 'maxReplicas'>): HpaConfig {
  const config: HpaConfig = { ...HPA_DEFAULTS, ...overrides };
  const problems: string[] = [];
  if (!Number.isInteger(config.minReplicas) || config.minReplicas < 0) problems.push(`minReplicas must be a whole number ≥ 0, got ${config.minReplicas}`);
  if (!Number.isInteger(config.maxReplicas) || config.maxReplicas < Math.max(1, config.minReplicas)) {
    problems.push(`maxReplicas must be a whole number ≥ max(1, minReplicas), got ${config.maxReplicas}`);
  }
  if (!(Math.round(config.targetUtilization * 100) >= 1)) problems.push(`targetUtilization must be at least 0.01, got ${config.targetUtilization}`);
  if (!(config.tolerance >= 0)) problems.push(`tolerance must be ≥ 0, got ${config.tolerance}`);
  if (!(config.syncPeriodSeconds > 0)) problems.push(`syncPeriodSeconds must be > 0, got ${config.syncPeriodSeconds}`);
  for (const key of ['scaleUpStabilizationSeconds', 'scaleDownStabilizationSeconds'] as const) {
    if (!(config[key] >= 0 && config[key] <= 3600)) problems.push(`${key} must be in [0, 3600], got ${config[key]}`);
  }
  for (const key of ['scaleUpPolicies', 'scaleDownPolicies'] as const) {
    config[key].forEach((p, i) => {
      if (!(p.value > 0) || !(p.periodSeconds > 0 && p.periodSeconds <= 1800)) {
        problems.push(`${key}[${i}] needs value > 0 and periodSeconds in (0, 1800], got ${JSON.stringify(p)}`);
      }
    });
  }
  if (problems.length) throw new InvalidInputError('hpa config', problems.join('; '));
  return config;
}

/** What the controller reads at one sync. */
export interface HpaObservation {
  /** Epoch seconds of this sync. */
  readonly timeSeconds: number;
  /** The target's desired replica count (`scale.spec.replicas`), i.e. what the last sync set. */
  readonly currentReplicas: number;
  /** Pods that are Ready (not terminating); the other `currentReplicas − readyReplicas` are set aside as not yet ready. */
  readonly readyReplicas: number;
  /** Mean usage of the ready pods as a fraction of their request (0.9 = 90 %); may exceed 1. */
  readonly averageUtilization: number;
}

interface TimedReplicas {
  readonly timeSeconds: number;
  readonly replicas: number;
}

/** The controller's memory between syncs: past proposals and past scale events. */
export interface HpaState {
  /** Unstabilized proposals, newest last, only those still inside a stabilization window. */
  readonly recommendations: readonly TimedReplicas[];
  /** Replicas added per scale-up (positive), only those still inside a policy period. */
  readonly scaleUpEvents: readonly TimedReplicas[];
  /** Replicas removed per scale-down (positive), only those still inside a policy period. */
  readonly scaleDownEvents: readonly TimedReplicas[];
}

export const INITIAL_HPA_STATE: HpaState = { recommendations: [], scaleUpEvents: [], scaleDownEvents: [] };

/** Why the step ended where it did (the controller's condition reasons). */
export type HpaReason =
  | 'ScalingDisabled'
  | 'AboveMaxReplicas'
  | 'BelowMinReplicas'
  | 'NoReadyPods'
  | 'DesiredWithinRange'
  | 'ScaleUpLimit'
  | 'TooManyReplicas'
  | 'ScaleDownLimit'
  | 'TooFewReplicas';

export interface HpaStepResult {
  readonly state: HpaState;
  readonly desiredReplicas: number;
  readonly reason: HpaReason;
}

/** Guards integer-percent truncation against binary fractions (0.29 × 100 = 28.999…). */
const PERCENT_EPSILON = 1e-9;

/** Integer utilization percentage, truncated like the controller's `int32(usage*100/request)`. */
function utilizationPercent(utilization: number): number {
  return Math.floor(utilization * 100 + PERCENT_EPSILON);
}

/**
 * The metric's replica proposal (`GetResourceReplicas`), or null when no ready
 * pod reports a metric (the controller then leaves the scale alone).
 */
export function proposeReplicas(obs: HpaObservation, config: HpaConfig): number | null {
  const current = obs.currentReplicas;
  const ready = obs.readyReplicas;
  if (ready <= 0) return null;
  const unready = Math.max(0, current - ready);
  const targetPercent = Math.round(config.targetUtilization * 100);
  const usageRatio = utilizationPercent(obs.averageUtilization) / targetPercent;

  const rebalanceUnready = unready > 0 && usageRatio > 1;
  if (!rebalanceUnready) {
    if (Math.abs(1 - usageRatio) <= config.tolerance) return current;
    return Math.ceil(usageRatio * ready);
  }
  // Scale-up with pods not yet ready: count them at 0 % and recompute.
  const total = ready + unready;
  const newUsageRatio = utilizationPercent((obs.averageUtilization * ready) / total) / targetPercent;
  if (Math.abs(1 - newUsageRatio) <= config.tolerance || newUsageRatio < 1) return current;
  const newReplicas = Math.ceil(newUsageRatio * total);
  return newReplicas < current ? current : newReplicas;
}

function changeWithin(events: readonly TimedReplicas[], nowSeconds: number, periodSeconds: number): number {
  const cutoff = nowSeconds - periodSeconds;
  let sum = 0;
  for (const e of events) if (e.timeSeconds > cutoff) sum += e.replicas;
  return sum;
}

/** Highest replica count the scale-up policies allow now (`calculateScaleUpLimitWithScalingRules`). */
export function scaleUpLimit(current: number, state: HpaState, nowSeconds: number, config: HpaConfig): number {
  if (config.scaleUpSelectPolicy === 'Disabled') return current;
  const pick = config.scaleUpSelectPolicy === 'Min' ? Math.min : Math.max;
  let result = config.scaleUpSelectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of config.scaleUpPolicies) {
    const periodStart =
      current - changeWithin(state.scaleUpEvents, nowSeconds, p.periodSeconds) + changeWithin(state.scaleDownEvents, nowSeconds, p.periodSeconds);
    const proposed = p.type === 'Pods' ? periodStart + p.value : Math.ceil(periodStart * (1 + p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

/** Lowest replica count the scale-down policies allow now (`calculateScaleDownLimitWithBehaviors`). */
export function scaleDownLimit(current: number, state: HpaState, nowSeconds: number, config: HpaConfig): number {
  if (config.scaleDownSelectPolicy === 'Disabled') return current;
  // For scale-down the largest change is the lowest count.
  const pick = config.scaleDownSelectPolicy === 'Min' ? Math.max : Math.min;
  let result = config.scaleDownSelectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of config.scaleDownPolicies) {
    const periodStart =
      current - changeWithin(state.scaleUpEvents, nowSeconds, p.periodSeconds) + changeWithin(state.scaleDownEvents, nowSeconds, p.periodSeconds);
    const proposed = p.type === 'Pods' ? periodStart - p.value : Math.trunc(periodStart * (1 - p.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

function longestPeriodSeconds(policies: readonly HpaScalingPolicy[]): number {
  return policies.reduce((m, p) => Math.max(m, p.periodSeconds), 0);
}

/** Records a rescale, dropping events no policy period can see any more. */
function withScaleEvent(state: HpaState, nowSeconds: number, from: number, to: number, config: HpaConfig): HpaState {
  if (to > from) {
    const cutoff = nowSeconds - longestPeriodSeconds(config.scaleUpPolicies);
    return {
      ...state,
      scaleUpEvents: [...state.scaleUpEvents.filter((e) => e.timeSeconds > cutoff), { timeSeconds: nowSeconds, replicas: to - from }],
    };
  }
  const cutoff = nowSeconds - longestPeriodSeconds(config.scaleDownPolicies);
  return {
    ...state,
    scaleDownEvents: [...state.scaleDownEvents.filter((e) => e.timeSeconds > cutoff), { timeSeconds: nowSeconds, replicas: from - to }],
  };
}

/**
 * One sync of the controller: returns the replica count to set (equal to
 * `obs.currentReplicas` when it decides not to scale) and the new state.
 */
export function hpaStep(state: HpaState, obs: HpaObservation, config: HpaConfig): HpaStepResult {
  const now = obs.timeSeconds;
  const current = obs.currentReplicas;
  // recordInitialRecommendation: the first sync remembers the replicas it found.
  let next: HpaState =
    state.recommendations.length === 0 ? { ...state, recommendations: [{ timeSeconds: now, replicas: current }] } : state;

  let desired: number;
  let reason: HpaReason;
  if (current === 0 && config.minReplicas !== 0) {
    return { state: next, desiredReplicas: 0, reason: 'ScalingDisabled' };
  } else if (current > config.maxReplicas) {
    desired = config.maxReplicas;
    reason = 'AboveMaxReplicas';
  } else if (current < config.minReplicas) {
    desired = config.minReplicas;
    reason = 'BelowMinReplicas';
  } else {
    const proposal = proposeReplicas(obs, config);
    if (proposal === null) return { state: next, desiredReplicas: current, reason: 'NoReadyPods' };

    // Stabilize between the lowest proposal of the up-window and the highest of the down-window.
    const upCutoff = now - config.scaleUpStabilizationSeconds;
    const downCutoff = now - config.scaleDownStabilizationSeconds;
    let upBound = proposal;
    let downBound = proposal;
    for (const rec of next.recommendations) {
      if (rec.timeSeconds > upCutoff) upBound = Math.min(upBound, rec.replicas);
      if (rec.timeSeconds > downCutoff) downBound = Math.max(downBound, rec.replicas);
    }
    const stabilized = Math.min(Math.max(current, upBound), downBound);
    const keepAfter = Math.min(upCutoff, downCutoff);
    next = {
      ...next,
      recommendations: [...next.recommendations.filter((r) => r.timeSeconds > keepAfter), { timeSeconds: now, replicas: proposal }],
    };

    ({ desired, reason } = rateLimited(stabilized, current, next, now, config));
  }

  if (desired !== current) next = withScaleEvent(next, now, current, desired, config);
  return { state: next, desiredReplicas: desired, reason };
}

/** `convertDesiredReplicasWithBehaviorRate`: policy limits, then min/max. */
function rateLimited(
  stabilized: number,
  current: number,
  state: HpaState,
  now: number,
  config: HpaConfig,
): { desired: number; reason: HpaReason } {
  if (stabilized > current) {
    const limit = Math.max(current, scaleUpLimit(current, state, now, config));
    const limitedByRate = config.maxReplicas > limit;
    const maxAllowed = limitedByRate ? limit : config.maxReplicas;
    if (stabilized > maxAllowed) return { desired: maxAllowed, reason: limitedByRate ? 'ScaleUpLimit' : 'TooManyReplicas' };
  } else if (stabilized < current) {
    const limit = Math.min(current, scaleDownLimit(current, state, now, config));
    const limitedByRate = config.minReplicas < limit;
    const minAllowed = limitedByRate ? limit : config.minReplicas;
    if (stabilized < minAllowed) return { desired: minAllowed, reason: limitedByRate ? 'ScaleDownLimit' : 'TooFewReplicas' };
  }
  return { desired: stabilized, reason: 'DesiredWithinRange' };
}
