import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import type { Slo } from '../core/model.ts';
import { SATURATED_UTILIZATION } from './queueing.ts';
import { attainmentAt, instancesForDemand, maxUtilizationHoldingSlo, sloFeasibility, sloMeasureAt, sloText } from './sizing.ts';

const latency = (targetSeconds: number, percentile: number): Slo => ({ kind: 'latency', targetSeconds, percentile });
const workload = (slo: Slo, serviceTimeSeconds = 0.1, concurrency = 1, minInstances = 0, maxInstances = 1000) => ({
  name: 'api',
  service: { serviceTimeSeconds, concurrency },
  slo,
  minInstances,
  maxInstances,
});

/** Smallest count by linear scan over the definition (attainment ≥ p and ρ ≤ ρmax). */
function bruteForce(w: ReturnType<typeof workload>, demandRps: number): number {
  for (let n = Math.max(1, w.minInstances); n <= w.maxInstances; n++) {
    const rho = (demandRps * w.service.serviceTimeSeconds) / (n * w.service.concurrency);
    const slo = w.slo;
    if (slo.kind === 'latency' && rho <= SATURATED_UTILIZATION && attainmentAt(w, n, demandRps) >= slo.percentile) return n;
  }
  return -1;
}

describe('instancesForDemand', () => {
  it('utilization SLO: ⌈λS/(concurrency·maxUtilization)⌉', () => {
    const w = workload({ kind: 'utilization', maxUtilization: 0.5 });
    expect(instancesForDemand(w, 100)).toEqual({ instances: 20, feasible: true });
    expect(instancesForDemand(w, 101)).toEqual({ instances: 21, feasible: true });
    const pairs = workload({ kind: 'utilization', maxUtilization: 0.5 }, 0.1, 4);
    expect(instancesForDemand(pairs, 100)).toEqual({ instances: 5, feasible: true });
  });

  it('M/M/1 latency: one instance holds p90 ≤ 0.5 s while λ ≤ μ − ln10/0.5 = 5.395 rps', () => {
    const w = workload(latency(0.5, 0.9));
    expect(instancesForDemand(w, 5.39).instances).toBe(1);
    expect(instancesForDemand(w, 5.4).instances).toBe(2);
  });

  it('agrees with a linear scan over the definition', () => {
    const cases: [ReturnType<typeof workload>, number][] = [
      [workload(latency(0.3, 0.99), 0.05, 1), 123.4],
      [workload(latency(0.25, 0.95), 0.05, 8), 2000],
      [workload(latency(1, 0.999), 0.1, 4), 777],
      [workload(latency(0.05, 0.5), 0.02, 2, 3), 1],
      [workload(latency(0.5, 0.99), 0.1, 1, 0, 100000), 20000],
    ];
    for (const [w, demand] of cases) expect(instancesForDemand(w, demand).instances).toBe(bruteForce(w, demand));
  });

  it('clamps to [minInstances, maxInstances] and flags infeasibility', () => {
    const w = workload(latency(0.5, 0.9), 0.1, 1, 3, 10);
    expect(instancesForDemand(w, 0)).toEqual({ instances: 3, feasible: true });
    expect(instancesForDemand(w, 1)).toEqual({ instances: 3, feasible: true });
    expect(instancesForDemand(w, 500)).toEqual({ instances: 10, feasible: false });
  });

  it('is monotone in demand', () => {
    const w = workload(latency(0.3, 0.99), 0.05, 2);
    let previous = 0;
    for (let demand = 1; demand <= 3000; demand *= 1.37) {
      const { instances } = instancesForDemand(w, demand);
      expect(instances).toBeGreaterThanOrEqual(previous);
      previous = instances;
    }
  });

  it('rejects an SLO that no instance count can meet', () => {
    // p99 of Exp(0.1 s) is 0.1·ln 100 = 0.4605 s.
    const w = workload(latency(0.4, 0.99));
    expect(() => instancesForDemand(w, 10)).toThrow(InvalidInputError);
    expect(() => sloFeasibility(w)).toThrow(/p99 latency target 0.4 s is below the p99 of the service time alone \(0.461 s/);
    expect(() => sloFeasibility(workload(latency(0.47, 0.99)))).not.toThrow();
    expect(() => sloFeasibility(workload({ kind: 'utilization', maxUtilization: 1.2 }))).toThrow(/maxUtilization/);
  });
});

describe('maxUtilizationHoldingSlo', () => {
  it('M/M/1: ρ = 1 − S·ln(1/(1−p))/t', () => {
    const w = workload(latency(0.5, 0.9));
    expect(maxUtilizationHoldingSlo(w, 1)).toBeCloseTo(1 - (0.1 * Math.log(10)) / 0.5, 9);
  });

  it('rises with the instance count (pooling) and echoes utilization SLOs', () => {
    const w = workload(latency(0.3, 0.99), 0.05, 1);
    const small = maxUtilizationHoldingSlo(w, 2);
    const large = maxUtilizationHoldingSlo(w, 50);
    expect(large).toBeGreaterThan(small);
    expect(maxUtilizationHoldingSlo(workload({ kind: 'utilization', maxUtilization: 0.7 }), 5)).toBe(0.7);
  });

  it('is consistent with sizing: at that utilization the count holds the SLO', () => {
    const w = workload(latency(0.3, 0.99), 0.05, 2);
    const rho = maxUtilizationHoldingSlo(w, 10);
    const demand = (rho * 10 * 2) / 0.05;
    expect(attainmentAt(w, 10, demand * 0.999)).toBeGreaterThanOrEqual(0.99);
    expect(attainmentAt(w, 10, demand * 1.01)).toBeLessThan(0.99);
  });
});

describe('attainmentAt', () => {
  it('utilization SLO: min(1, maxUtilization·capacity/demand)', () => {
    const w = workload({ kind: 'utilization', maxUtilization: 0.8 });
    expect(attainmentAt(w, 10, 100)).toBeCloseTo(0.8, 12); // capacity 100 rps
    expect(attainmentAt(w, 10, 50)).toBe(1);
  });
  it('no demand is fully attained; no instances with demand attain nothing', () => {
    const w = workload(latency(0.5, 0.9));
    expect(attainmentAt(w, 0, 0)).toBe(1);
    expect(attainmentAt(w, 0, 3)).toBe(0);
  });
});

describe('sloMeasureAt', () => {
  it('latency: the response time at the SLO percentile, within the target exactly from the sized count on', () => {
    const w = workload(latency(0.3, 0.95), 0.1, 2);
    const n = instancesForDemand(w, 80).instances;
    expect(sloMeasureAt(w, n, 80)).toBeLessThanOrEqual(0.3);
    expect(sloMeasureAt(w, n - 1, 80)).toBeGreaterThan(0.3);
    // One more instance buys a shorter p95; M/M/1: −ln(0.05)/(μ − λ).
    expect(sloMeasureAt(w, n + 1, 80)).toBeLessThan(sloMeasureAt(w, n, 80));
    expect(sloMeasureAt(workload(latency(1, 0.95)), 1, 6)).toBeCloseTo(-Math.log(0.05) / 4, 8);
    expect(sloMeasureAt(w, 1, 80)).toBe(Infinity);
  });

  it('utilization: λS/(n·concurrency)', () => {
    const w = workload({ kind: 'utilization', maxUtilization: 0.5 }, 0.1, 4);
    expect(sloMeasureAt(w, 5, 100)).toBeCloseTo(0.5, 12);
    expect(sloMeasureAt(w, 6, 100)).toBeCloseTo(10 / 24, 12);
    expect(sloMeasureAt(w, 0, 0)).toBe(0);
  });

  it('says the SLO in words', () => {
    expect(sloText(latency(0.2, 0.95))).toBe('p95 latency ≤ 200 ms');
    expect(sloText(latency(0.05, 0.999))).toBe('p99.9 latency ≤ 50 ms');
    expect(sloText({ kind: 'utilization', maxUtilization: 0.7 })).toBe('utilization ≤ 70%');
  });
});
