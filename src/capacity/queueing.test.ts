import { describe, expect, it } from 'vitest';
import {
  SATURATED_UTILIZATION,
  attainment,
  erlangB,
  erlangC,
  responseTimeAtPercentile,
  responseTimeExceedanceProbability,
  slowRequestShare,
  waitExceedanceProbability,
} from './queueing.ts';

/** Erlang C from its defining sum, independent of the recursion under test. */
function erlangCBySum(c: number, a: number): number {
  let sum = 0;
  let term = 1; // a^k / k!
  for (let k = 0; k < c; k++) {
    sum += term;
    term *= a / (k + 1);
  }
  const waiting = (term * c) / (c - a);
  return waiting / (sum + waiting);
}

/** Erlang B by the plain recursion from k = 0 (no shortcut). */
function erlangBFull(c: number, a: number): number {
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b;
}

describe('erlangB / erlangC', () => {
  it.each([
    // c, A, expected C: hand-computed or textbook
    [1, 0.5, 0.5], // M/M/1: C = ρ
    [2, 1, 1 / 3], // B(2,1) = 0.2, C = 2·0.2 / (2 − 0.8)
    [10, 8, 0.40918], // standard table value
    [11, 10, 0.68212], // call centre: 100 calls / 30 min × 3 min handling = 10 Erlangs, 11 agents
  ])('C(%i, %f) = %f', (c, a, expected) => {
    expect(erlangC(c, a)).toBeCloseTo(expected, 5);
  });

  it('matches the defining sum', () => {
    for (const [c, a] of [[3, 2.5], [20, 15], [50, 49.5], [7, 0.1]] as const) {
      expect(erlangC(c, a)).toBeCloseTo(erlangCBySum(c, a), 12);
    }
  });

  it('Erlang B: B(1, A) = A/(1+A) and B(2,1) = 0.2', () => {
    expect(erlangB(1, 3)).toBeCloseTo(0.75, 12);
    expect(erlangB(2, 1)).toBeCloseTo(0.2, 12);
  });

  it('the shortened recursion for large loads agrees with the full one', () => {
    for (const [c, a] of [[5000, 4900], [10000, 9950], [300, 280], [2000, 2100]] as const) {
      const full = erlangBFull(c, a);
      expect(Math.abs(erlangB(c, a) / full - 1)).toBeLessThan(1e-10);
    }
  });

  it('is 1 when the load reaches the servers, and 0 without load', () => {
    expect(erlangC(4, 4)).toBe(1);
    expect(erlangC(4, 9)).toBe(1);
    expect(erlangC(4, 0)).toBe(0);
  });

  it('is finite and in (0,1) for c = 10,000', () => {
    const c = erlangC(10000, 9900);
    expect(c).toBeGreaterThan(0);
    expect(c).toBeLessThan(1);
  });

  it('decreases with more servers at fixed load', () => {
    let previous = 1;
    for (let c = 9; c <= 30; c++) {
      const value = erlangC(c, 8);
      expect(value).toBeLessThan(previous);
      previous = value;
    }
  });
});

describe('response time tail', () => {
  it('M/M/1 sojourn is exponential with rate μ − λ', () => {
    const station = { servers: 1, arrivalRatePerSecond: 6, serviceTimeSeconds: 0.1 };
    for (const t of [0.05, 0.2, 1]) {
      expect(responseTimeExceedanceProbability(station, t)).toBeCloseTo(Math.exp(-(10 - 6) * t), 12);
    }
  });

  it('the percentile of the response time inverts the tail: M/M/1 −ln(1 − p)/(μ − λ), M/M/c by its own tail', () => {
    const mm1 = { servers: 1, arrivalRatePerSecond: 6, serviceTimeSeconds: 0.1 };
    for (const p of [0.5, 0.9, 0.99]) expect(responseTimeAtPercentile(mm1, p)).toBeCloseTo(-Math.log(1 - p) / 4, 8);
    const mmc = { servers: 3, arrivalRatePerSecond: 20, serviceTimeSeconds: 0.1 };
    const t95 = responseTimeAtPercentile(mmc, 0.95);
    expect(responseTimeExceedanceProbability(mmc, t95)).toBeCloseTo(0.05, 8);
    // More servers at the same load: shorter; no load: the service time's own percentile.
    expect(responseTimeAtPercentile({ ...mmc, servers: 4 }, 0.95)).toBeLessThan(t95);
    expect(responseTimeAtPercentile({ ...mmc, arrivalRatePerSecond: 0 }, 0.95)).toBeCloseTo(-0.1 * Math.log(0.05), 8);
    // Unstable: never.
    expect(responseTimeAtPercentile({ ...mmc, arrivalRatePerSecond: 30 }, 0.95)).toBe(Infinity);
    expect(() => responseTimeAtPercentile(mmc, 1)).toThrow(/percentile must be in \(0, 1\)/);
  });

  it('integrates to the mean response time S + C/(cμ − λ)', () => {
    const station = { servers: 3, arrivalRatePerSecond: 20, serviceTimeSeconds: 0.1 };
    const meanSeconds = 0.1 + erlangC(3, 2) / (30 - 20);
    // Simpson's rule on [0, 5 s]; the tail beyond is below e^(−10·5).
    const n = 20000;
    const h = 5 / n;
    let integral = 0;
    for (let i = 0; i <= n; i++) {
      const weight = i === 0 || i === n ? 1 : i % 2 === 1 ? 4 : 2;
      integral += weight * responseTimeExceedanceProbability(station, i * h);
    }
    integral *= h / 3;
    // P(T > 0) is 1 by convention; the density has no atom, so the integral is unaffected.
    expect(integral).toBeCloseTo(meanSeconds, 6);
  });

  it('θ = μ uses the (1 + μt)e^(−μt) limit continuously', () => {
    // c = 2, μ = 1, λ = 1: θ = 2 − 1 = μ.
    const at = (lambda: number) => responseTimeExceedanceProbability({ servers: 2, arrivalRatePerSecond: lambda, serviceTimeSeconds: 1 }, 1.5);
    const c = erlangC(2, 1);
    const expected = (1 - c) * Math.exp(-1.5) + c * (1 + 1.5) * Math.exp(-1.5);
    expect(at(1)).toBeCloseTo(expected, 12);
    expect(at(1 + 1e-9)).toBeCloseTo(expected, 8);
    expect(at(1 - 1e-9)).toBeCloseTo(expected, 8);
  });

  it('wait tail is C·e^(−θt)', () => {
    const station = { servers: 2, arrivalRatePerSecond: 1, serviceTimeSeconds: 1 };
    expect(waitExceedanceProbability(station, 0)).toBeCloseTo(1 / 3, 12);
    expect(waitExceedanceProbability(station, 2)).toBeCloseTo((1 / 3) * Math.exp(-2), 12);
  });

  it('is 1 for an unstable queue', () => {
    expect(responseTimeExceedanceProbability({ servers: 2, arrivalRatePerSecond: 25, serviceTimeSeconds: 0.1 }, 10)).toBe(1);
  });
});

describe('attainment', () => {
  it('is 1 − P(T > t) below saturation', () => {
    const station = { servers: 1, arrivalRatePerSecond: 5, serviceTimeSeconds: 0.1 };
    expect(attainment(station, 0.5)).toBeCloseTo(1 - Math.exp(-5 * 0.5), 12);
    expect(slowRequestShare(station, 0.5)).toBeCloseTo(Math.exp(-5 * 0.5), 12);
  });

  it('counts demand above saturation as late', () => {
    // 1000 servers, S = 1 s: saturated rate 999 rps. At 1998 rps half is excess.
    const saturated = attainment({ servers: 1000, arrivalRatePerSecond: 999, serviceTimeSeconds: 1 }, 10);
    const doubled = attainment({ servers: 1000, arrivalRatePerSecond: 1998, serviceTimeSeconds: 1 }, 10);
    expect(doubled).toBeCloseTo(saturated / 2, 12);
    expect(doubled).toBeLessThanOrEqual(0.5);
  });

  it('is continuous at the saturation point and falls with load', () => {
    const at = (lambda: number) => attainment({ servers: 50, arrivalRatePerSecond: lambda, serviceTimeSeconds: 0.2 }, 1);
    const knee = (SATURATED_UTILIZATION * 50) / 0.2;
    expect(Math.abs(at(knee * (1 - 1e-12)) - at(knee * (1 + 1e-12)))).toBeLessThan(1e-6);
    let previous = 1;
    for (let lambda = 10; lambda <= 400; lambda += 10) {
      const value = at(lambda);
      expect(value).toBeLessThanOrEqual(previous + 1e-15);
      previous = value;
    }
  });

  it('rises with servers at fixed load', () => {
    let previous = 0;
    for (let c = 5; c <= 40; c++) {
      const value = attainment({ servers: c, arrivalRatePerSecond: 40, serviceTimeSeconds: 0.2 }, 0.5);
      expect(value).toBeGreaterThanOrEqual(previous);
      previous = value;
    }
  });
});
