/**
 * Demand (requests per second) -> instances under a workload's SLO.
 *
 * Each instance is `concurrency` M/M/c servers, so a workload with n instances
 * is one M/M/(n·concurrency) station (a shared queue in front of all instances,
 * the usual model for a load balancer with least-outstanding-requests routing).
 */
import { InvalidInputError } from '../core/errors.ts';
import type { Slo, Workload } from '../core/model.ts';
import { SATURATED_UTILIZATION, attainment, responseTimeAtPercentile } from './queueing.ts';

export type SizingWorkload = Pick<Workload, 'service' | 'slo' | 'minInstances' | 'maxInstances'> & { readonly name?: string };

export interface InstanceCount {
  readonly instances: number;
  /** False when even `maxInstances` misses the SLO (then `instances` = maxInstances). */
  readonly feasible: boolean;
}

/** Relative slack for float comparisons of utilizations (λ·S/c computed in floats). */
const UTILIZATION_EPSILON = 1e-9;

/**
 * Throws InvalidInputError when the SLO is malformed or cannot be met at any
 * instance count: with unlimited servers the response time is the service time
 * alone, Exp(S), whose p-quantile is S·ln(1/(1−p)); a latency target below it is
 * impossible.
 */
export function sloFeasibility(workload: Pick<Workload, 'service' | 'slo'> & { readonly name?: string }): void {
  const where = `workload '${workload.name ?? '?'}' slo`;
  const { serviceTimeSeconds, concurrency } = workload.service;
  if (!(serviceTimeSeconds > 0) || !(concurrency >= 1)) {
    throw new InvalidInputError(`workload '${workload.name ?? '?'}' service`, `needs serviceTimeSeconds > 0 and concurrency ≥ 1, got ${serviceTimeSeconds} s and ${concurrency}`);
  }
  const slo = workload.slo;
  if (slo.kind === 'utilization') {
    if (!(slo.maxUtilization > 0 && slo.maxUtilization <= 1)) {
      throw new InvalidInputError(where, `maxUtilization must be in (0, 1], got ${slo.maxUtilization}`);
    }
    return;
  }
  if (!(slo.percentile > 0 && slo.percentile < 1)) throw new InvalidInputError(where, `percentile must be in (0, 1), got ${slo.percentile}`);
  if (!(slo.targetSeconds > 0)) throw new InvalidInputError(where, `targetSeconds must be > 0, got ${slo.targetSeconds}`);
  const floorSeconds = serviceTimeSeconds * Math.log(1 / (1 - slo.percentile));
  if (slo.targetSeconds < floorSeconds) {
    const p = formatPercentile(slo.percentile);
    throw new InvalidInputError(
      where,
      `${p} latency target ${slo.targetSeconds} s is below the ${p} of the service time alone ` +
        `(${floorSeconds.toPrecision(3)} s for an exponential service time of mean ${serviceTimeSeconds} s); no instance count can meet it`,
    );
  }
}

function formatPercentile(percentile: number): string {
  return `p${Number((percentile * 100).toPrecision(6))}`;
}

/**
 * What `instances` achieve at `demandRps` in the SLO's own measure: the
 * response time (seconds) at the SLO's percentile for a latency SLO
 * (Infinity when they cannot keep up), the utilization (0..) for a
 * utilization SLO. Compared with the target, it says how much room the
 * instances leave, and with one instance more, what that instance buys.
 */
export function sloMeasureAt(workload: Pick<Workload, 'service' | 'slo'>, instances: number, demandRps: number): number {
  const { serviceTimeSeconds, concurrency } = workload.service;
  const slo = workload.slo;
  const lambda = Math.max(0, demandRps);
  if (slo.kind === 'utilization') return lambda === 0 ? 0 : instances <= 0 ? Infinity : (lambda * serviceTimeSeconds) / (instances * concurrency);
  return responseTimeAtPercentile({ servers: instances * concurrency, arrivalRatePerSecond: lambda, serviceTimeSeconds }, slo.percentile);
}

/** The SLO in words: "p95 latency ≤ 200 ms", "utilization ≤ 70%". */
export function sloText(slo: Slo): string {
  return slo.kind === 'utilization' ? `utilization ≤ ${Number((slo.maxUtilization * 100).toPrecision(6))}%` : `${formatPercentile(slo.percentile)} latency ≤ ${Number((slo.targetSeconds * 1000).toPrecision(6))} ms`;
}

/** Share of requests within the SLO (0..1) at `instances` and `demandRps`. */
export function attainmentAt(workload: Pick<Workload, 'service' | 'slo'>, instances: number, demandRps: number): number {
  if (demandRps <= 0) return 1;
  if (instances <= 0) return 0;
  const { serviceTimeSeconds, concurrency } = workload.service;
  const slo = workload.slo;
  if (slo.kind === 'utilization') {
    const capacityRps = (instances * concurrency) / serviceTimeSeconds;
    return Math.min(1, (slo.maxUtilization * capacityRps) / demandRps);
  }
  return attainment({ servers: instances * concurrency, arrivalRatePerSecond: demandRps, serviceTimeSeconds }, slo.targetSeconds);
}

/** Whether `instances` hold the SLO at `demandRps` (latency: attainment ≥ percentile and ρ ≤ ρmax). */
function holds(service: Workload['service'], slo: Slo, instances: number, demandRps: number): boolean {
  if (demandRps <= 0) return true;
  if (instances <= 0) return false;
  const rho = (demandRps * service.serviceTimeSeconds) / (instances * service.concurrency);
  if (slo.kind === 'utilization') return rho <= slo.maxUtilization * (1 + UTILIZATION_EPSILON);
  if (rho > SATURATED_UTILIZATION) return false;
  const served = attainment({ servers: instances * service.concurrency, arrivalRatePerSecond: demandRps, serviceTimeSeconds: service.serviceTimeSeconds }, slo.targetSeconds);
  return served >= slo.percentile;
}

/** Memo of latency sizing results; bounded, cleared when full (the simulator replays the same demands per policy). */
const MEMO_LIMIT = 200_000;
const memo = new Map<string, InstanceCount>();
/** Workloads whose SLO already passed `sloFeasibility` (by object identity). */
const checked = new WeakSet<object>();

/**
 * Fewest instances that hold the SLO at `demandRps`, clamped to
 * [minInstances, maxInstances]. Latency SLOs: starts at the stability bound
 * ⌈λS/(concurrency·ρmax)⌉ (a lower bound) and gallops up (+1, +2, +4, …) then
 * bisects, so the cost is O(log(extra instances)) queue evaluations of O(√A) each.
 * Throws InvalidInputError for an SLO no instance count can meet.
 */
export function instancesForDemand(workload: SizingWorkload, demandRps: number): InstanceCount {
  if (!checked.has(workload)) {
    sloFeasibility(workload);
    checked.add(workload);
  }
  const { service, slo, minInstances, maxInstances } = workload;
  const lambda = Math.max(0, demandRps);
  if (lambda === 0) return { instances: Math.min(minInstances, maxInstances), feasible: minInstances <= maxInstances };
  const offeredInstances = (lambda * service.serviceTimeSeconds) / service.concurrency;
  if (slo.kind === 'utilization') {
    const needed = Math.max(1, Math.ceil((offeredInstances / slo.maxUtilization) * (1 - UTILIZATION_EPSILON)));
    return clamp(needed, minInstances, maxInstances);
  }
  const key = `${service.serviceTimeSeconds}|${service.concurrency}|${slo.targetSeconds}|${slo.percentile}|${minInstances}|${maxInstances}|${lambda}`;
  const cached = memo.get(key);
  if (cached) return cached;
  const result = searchLatency(service, slo, lambda, Math.max(1, minInstances, Math.ceil((offeredInstances / SATURATED_UTILIZATION) * (1 - UTILIZATION_EPSILON))), maxInstances, minInstances);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, result);
  return result;
}

function clamp(needed: number, minInstances: number, maxInstances: number): InstanceCount {
  if (needed > maxInstances) return { instances: maxInstances, feasible: false };
  return { instances: Math.max(needed, minInstances), feasible: true };
}

function searchLatency(service: Workload['service'], slo: Slo, lambda: number, start: number, maxInstances: number, minInstances: number): InstanceCount {
  if (start > maxInstances) return { instances: maxInstances, feasible: false };
  if (holds(service, slo, start, lambda)) return { instances: Math.max(start, minInstances), feasible: true };
  // Gallop: `low` always fails, `high` holds (or exceeds maxInstances).
  let low = start;
  let step = 1;
  let high = start + step;
  while (high <= maxInstances && !holds(service, slo, high, lambda)) {
    low = high;
    step *= 2;
    high = low + step;
  }
  if (high > maxInstances) {
    if (low === maxInstances || !holds(service, slo, maxInstances, lambda)) return { instances: maxInstances, feasible: false };
    high = maxInstances;
  }
  while (high - low > 1) {
    const mid = low + Math.floor((high - low) / 2);
    if (holds(service, slo, mid, lambda)) high = mid;
    else low = mid;
  }
  return { instances: Math.max(high, minInstances), feasible: true };
}

/**
 * Highest utilization (0..1) at which `instances` still hold the SLO: what a
 * careful user would set as a Kubernetes HPA's target utilization. Utilization
 * SLOs return maxUtilization; latency SLOs bisect on the arrival rate
 * (attainment falls as load rises). Returns 0 when no load at all is acceptable.
 */
export function maxUtilizationHoldingSlo(workload: Pick<Workload, 'service' | 'slo'>, instances: number): number {
  const slo = workload.slo;
  if (slo.kind === 'utilization') return slo.maxUtilization;
  if (instances <= 0) return 0;
  const { serviceTimeSeconds, concurrency } = workload.service;
  const servers = instances * concurrency;
  const capacityRps = servers / serviceTimeSeconds;
  const ok = (rho: number) =>
    rho <= SATURATED_UTILIZATION &&
    attainment({ servers, arrivalRatePerSecond: rho * capacityRps, serviceTimeSeconds }, slo.targetSeconds) >= slo.percentile;
  if (!ok(1e-12)) return 0;
  if (ok(SATURATED_UTILIZATION)) return SATURATED_UTILIZATION;
  let low = 0;
  let high = SATURATED_UTILIZATION;
  // 40 halvings: resolution ≈ 1e-12 of utilization.
  for (let i = 0; i < 40; i++) {
    const mid = (low + high) / 2;
    if (ok(mid)) low = mid;
    else high = mid;
  }
  return low;
}
