import { describe, expect, it } from 'vitest';
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import type { AvailabilityRequirement, Pool } from '../core/model.ts';
import {
  balancedPlacement,
  equalSpreadInstances,
  checkPlacement,
  failureDomains,
  instancesByDomain,
  minimalSpreadInstances,
  placementUnavailability,
  shortfallProbability,
  sizeForAvailability,
} from './availability.ts';
import { thrown } from '../../test/helpers.ts';

const zones = (n: number) => Array.from({ length: n }, (_, i) => `aws/z${i + 1}`);
const size = (needed: number, requirement: AvailabilityRequirement, domains = zones(3), maxInstances?: number) =>
  sizeForAvailability({ neededInstances: needed, requirement, domains, maxInstances, name: 'api' });

/** C(n, k) as a float, for hand formulas. */
function choose(n: number, k: number): number {
  let c = 1;
  for (let j = 1; j <= k; j++) c = (c * (n - k + j)) / j;
  return c;
}

describe('shortfallProbability (binomial tail)', () => {
  it.each([
    // 3 instances, 2 needed, p = 0.1: two or three down = 3·0.1²·0.9 + 0.1³.
    [3, 2, 0.1, 0.028],
    // 5 instances, 3 needed, p = 0.01: 10·1e-6·0.99² + 5·1e-8·0.99 + 1e-10.
    [5, 3, 0.01, 9.8506e-6],
    // 2 instances, 2 needed: either down.
    [2, 2, 0.2, 0.36],
    [4, 5, 0.01, 1],
    [4, 0, 0.5, 0],
    [4, 4, 0, 0],
  ])('n = %i, needed = %i, p = %f → %f', (n, needed, p, expected) => {
    expect(shortfallProbability(n, needed, p)).toBeCloseTo(expected, 12);
  });

  it('keeps relative precision far in the tail (1 − A ≈ 1e-20)', () => {
    // 10 instances, 1 needed: all ten down, p^10.
    expect(shortfallProbability(10, 1, 0.01) / 1e-20).toBeCloseTo(1, 10);
  });

  it('and its complement, summed the other way, add up to one at n = 300', () => {
    const [n, needed, p] = [300, 230, 0.2];
    let up = 0;
    for (let f = 0; f <= n - needed; f++) up += choose(n, f) * p ** f * (1 - p) ** (n - f);
    expect(shortfallProbability(n, needed, p) + up).toBeCloseTo(1, 9);
  });
});

describe('placementUnavailability', () => {
  const model = (instanceFailureProbability: number, domainFailureProbability: number) => ({ instanceFailureProbability, domainFailureProbability });

  it.each([
    // Both zones down.
    [[1, 1], 1, model(0, 0.1), 0.01],
    // Each instance is down unless its zone and itself are up: 1 − 0.9·0.9 = 0.19, both down.
    [[1, 1], 1, model(0.1, 0.1), 0.19 ** 2],
    // One zone: the zone, or both instances.
    [[2], 1, model(0.1, 0.05), 0.05 + 0.95 * 0.01],
    // Needs 2 of [2, 1]: the big zone down, or any of its instances down, or ... = 1 − P(zone1 up and 2 of its 2 up, or zone1 up, 1 of 2 up and zone2 + its instance up).
    [[2, 1], 2, model(0, 0.1), 1 - 0.9],
  ])('%j needing %i', (counts, needed, m, expected) => {
    expect(placementUnavailability(counts, needed, m)).toBeCloseTo(expected, 12);
  });

  it('equals the sum over surviving-domain subsets', () => {
    const counts = [3, 2, 2, 1];
    const [pi, pd, needed] = [0.05, 0.02, 5];
    let bySubsets = 0;
    for (let mask = 0; mask < 1 << counts.length; mask++) {
      let prob = 1;
      let up = 0;
      counts.forEach((c, d) => {
        if (mask & (1 << d)) {
          prob *= 1 - pd;
          up += c;
        } else prob *= pd;
      });
      bySubsets += prob * shortfallProbability(up, needed, pi);
    }
    expect(placementUnavailability(counts, needed, model(pi, pd))).toBeCloseTo(bySubsets, 14);
  });
});

describe('spread totals', () => {
  it.each([
    // [surviving N, domains Z, minimal S + ⌈S/(Z−1)⌉, equal ⌈S/(Z−1)⌉·Z]
    [4, 3, 6, 6],
    [3, 3, 5, 6],
    [10, 4, 14, 16],
    [5, 2, 10, 10],
    [1, 3, 2, 3],
    [9, 4, 12, 12],
  ])('N = %i over Z = %i: minimal %i, equal per domain %i', (n, z, minimal, equal) => {
    expect(minimalSpreadInstances(n, z)).toBe(minimal);
    expect(equalSpreadInstances(n, z)).toBe(equal);
    // The minimal total, placed evenly, keeps N after losing its largest domain; one fewer does not.
    const placed = balancedPlacement(minimal, z);
    expect(minimal - Math.max(...placed)).toBeGreaterThanOrEqual(n);
    const fewer = balancedPlacement(minimal - 1, z);
    expect(minimal - 1 - Math.max(...fewer)).toBeLessThan(n);
  });
});

describe('sizeForAvailability', () => {
  it('N + k: k spare instances, no spread', () => {
    expect(size(5, { spareInstances: 2 })).toEqual({ neededInstances: 5, instances: 7, feasible: true, binding: 'spare' });
  });

  it('survive a zone: S = N surviving over Z zones', () => {
    const r = size(4, { survive: 'zone' });
    expect(r).toMatchObject({ instances: 6, spread: { domain: 'zone', survivingInstances: 4 }, perDomain: [2, 2, 2], binding: 'spread' });
    expect(size(3, { survive: 'zone' })).toMatchObject({ instances: 5, spread: { survivingInstances: 3 }, perDomain: [2, 2, 1] });
    expect(size(5, { survive: 'provider' }, ['aws', 'gcp'])).toMatchObject({ instances: 10, spread: { domain: 'provider', survivingInstances: 5 }, perDomain: [5, 5] });
  });

  it('survive a zone with k spares: N + k remain after the loss', () => {
    // S = 5 over 3 zones: 5 + ⌈5/2⌉ = 8 = [3, 3, 2]; losing a zone of 3 leaves 5.
    expect(size(4, { survive: 'zone', spareInstances: 1 })).toMatchObject({ instances: 8, spread: { survivingInstances: 5 }, perDomain: [3, 3, 2] });
  });

  it('a target under instance failures: the fewest T with P(Bin(T, 0.9) ≥ 2) ≥ A', () => {
    // T = 3: P(2+ down) = 0.028; T = 4: 4·0.1³·0.9 + 0.1⁴ = 0.0037; T = 5: 5·0.1⁴·0.9 + 0.1⁵ = 4.6e-4.
    expect(size(2, { target: 0.99, instanceFailureProbability: 0.1 })).toMatchObject({ instances: 4, binding: 'target' });
    expect(size(2, { target: 0.97, instanceFailureProbability: 0.1 })).toMatchObject({ instances: 3, binding: 'target' });
    const r = size(2, { target: 0.999, instanceFailureProbability: 0.1 });
    expect(r).toMatchObject({ instances: 5, binding: 'target' });
    expect(r.guaranteedAvailability).toBeCloseTo(1 - 4.6e-4, 12);
    // Spares already enough: the target does not bind.
    expect(size(2, { target: 0.99, instanceFailureProbability: 0.1, spareInstances: 3 })).toMatchObject({ instances: 5, binding: 'spare' });
  });

  it('a target under zone failures only: two zones down is the floor', () => {
    // Z = 3, p_d = 0.01: P(2+ zones down) = 3·1e-4·0.99 + 1e-6 = 2.98e-4.
    const r = size(2, { target: 0.999, survive: 'zone', domainFailureProbability: 0.01 });
    expect(r).toMatchObject({ instances: 3, perDomain: [1, 1, 1], spread: { survivingInstances: 2 }, binding: 'spread' });
    expect(1 - (r.guaranteedAvailability as number)).toBeCloseTo(2.98e-4, 15);
    expect(1 - (r.balancedAvailability as number)).toBeCloseTo(2.98e-4, 15);
  });

  it('a target under instance and zone failures: minimal, and a true lower bound for every placement meeting the spread', () => {
    const model = { instanceFailureProbability: 0.02, domainFailureProbability: 0.001 };
    for (const [needed, target] of [
      [2, 0.9999],
      [10, 0.9995],
      [25, 0.99995],
    ] as const) {
      const r = size(needed, { target, survive: 'zone', ...model });
      const surviving = r.spread?.survivingInstances as number;
      expect(r.feasible).toBe(true);
      expect(r.guaranteedAvailability).toBeGreaterThanOrEqual(target);
      expect(r.balancedAvailability).toBeGreaterThanOrEqual(r.guaranteedAvailability as number);
      // One fewer surviving instance misses the target (minimality).
      expect(r.binding).toBe('target');
      const smaller = size(needed, { survive: 'zone', ...model, spareInstances: surviving - 1 - needed });
      expect(smaller.guaranteedAvailability).toBeLessThan(target);
      // Every placement of the total over 3 zones that keeps `surviving` after any loss does at least as well as the bound.
      const t = r.instances;
      for (let a = 0; a <= t; a++) {
        for (let b = 0; a + b <= t; b++) {
          const placement = [a, b, t - a - b];
          if (t - Math.max(...placement) < surviving) continue;
          expect(1 - placementUnavailability(placement, needed, model)).toBeGreaterThanOrEqual((r.guaranteedAvailability as number) - 1e-15);
        }
      }
    }
  });

  it('reports instead of searching forever when maxInstances is too small', () => {
    expect(size(20, { target: 0.999999, instanceFailureProbability: 0.3 }, zones(3), 25)).toMatchObject({ instances: 25, feasible: false, binding: 'target' });
    const spread = size(20, { survive: 'zone' }, zones(3), 25);
    expect(spread).toMatchObject({ instances: 25, feasible: false, perDomain: [9, 8, 8], spread: { survivingInstances: 16 } });
  });

  it('needs nothing when the SLO needs nothing', () => {
    expect(size(0, { survive: 'zone', spareInstances: 2 })).toMatchObject({ instances: 0, feasible: true });
  });

  it('impossible: surviving a zone with one zone, or none', () => {
    const one = thrown(() => size(4, { survive: 'zone' }, ['aws/eu-1a']));
    expect(one).toBeInstanceOf(InfeasibleError);
    expect(one.message).toBe(
      "workload 'api' cannot survive the loss of a zone:\n  - every pool it may use is in zone 'aws/eu-1a'; surviving its loss needs pools in at least two zones",
    );
    expect(thrown(() => size(4, { survive: 'provider' }, [])).message).toContain('no pool it may use names a provider');
  });

  it('impossible: a target above the chance that at most one zone is down', () => {
    const e = thrown(() => size(2, { target: 0.9999, survive: 'zone', domainFailureProbability: 0.01 }));
    expect(e).toBeInstanceOf(InfeasibleError);
    expect(e.message).toContain('two of its 3 zones (aws/z1, aws/z2, aws/z3) are down at once with probability 0.000298, more than the 0.000100 the target allows');
  });

  it.each([
    [{ target: 0.99 }, 'target: needs instanceFailureProbability and/or domainFailureProbability'],
    [{ spareInstances: 1.5 }, 'spareInstances: must be an integer ≥ 0'],
    [{ survive: 'zone', instanceFailureProbability: 1 }, 'instanceFailureProbability: must be in [0, 1)'],
    [{ spareInstances: 1, domainFailureProbability: 0.1 }, 'domainFailureProbability: needs survive'],
  ] as [AvailabilityRequirement, string][])('rejects %j', (req, message) => {
    const e = thrown(() => size(3, req));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toContain(`workload 'api' availability.${message}`);
  });
});

describe('failureDomains', () => {
  const pool = (name: string, provider: string, zone: string, tags: string[] = [], cpuMillicores = 4000): Pool => ({
    name,
    provider,
    zone,
    nodeType: { name: 'n', capacity: { cpuMillicores, memoryMiB: 8192 } },
    costPerHour: 1,
    provisioningDelaySeconds: 0,
    minNodes: 0,
    maxNodes: 10,
    tags,
  });
  const pools = [pool('a', 'aws', 'z1'), pool('b', 'aws', 'z2', ['pci']), pool('c', 'gcp', 'z1'), pool('d', 'gcp', 'z3', [], 100), pool('e', 'aws', 'z1')];
  const w = { tags: [] as string[], perInstance: { cpuMillicores: 500, memoryMiB: 512 } };

  it('counts zones per provider among pools the workload may use', () => {
    expect(failureDomains(w, pools, 'zone')).toEqual(['aws/z1', 'aws/z2', 'gcp/z1']);
    expect(failureDomains(w, pools, 'provider')).toEqual(['aws', 'gcp']);
    expect(failureDomains({ ...w, tags: ['pci'] }, pools, 'zone')).toEqual(['aws/z2']);
  });
});

describe('checkPlacement (an allocation against the requirement)', () => {
  const pool = (name: string, zone: string): Pool => ({
    name,
    provider: 'aws',
    zone,
    nodeType: { name: 'n', capacity: { cpuMillicores: 4000, memoryMiB: 8192 } },
    costPerHour: 1,
    provisioningDelaySeconds: 0,
    minNodes: 0,
    maxNodes: 10,
    tags: [],
  });
  const pools = [pool('a1', 'z1'), pool('a2', 'z1'), pool('b', 'z2'), pool('c', 'z3')];

  it('sums pools per zone and finds what survives the worst loss', () => {
    expect(instancesByDomain({ a1: 2, a2: 1, b: 2, c: 1 }, pools, 'zone')).toEqual({ domains: ['aws/z1', 'aws/z2', 'aws/z3'], counts: [3, 2, 1] });
    const req: AvailabilityRequirement = { survive: 'zone', target: 0.999, domainFailureProbability: 0.01 };
    // Needs 3 of [3, 2, 1]: losing any one zone leaves ≥ 3, and so does losing z2 and z3 (z1 alone holds 3);
    // fewer than 3 remain only when z1 is down with at least one other: P = 0.01·(1 − 0.99²).
    const check = checkPlacement({ a1: 2, a2: 1, b: 2, c: 1 }, pools, 3, req, { domain: 'zone', survivingInstances: 3 });
    expect(check.survivingWorstLoss).toBe(3);
    expect(check.meetsSpread).toBe(true);
    expect(1 - (check.availability as number)).toBeCloseTo(0.01 * (1 - 0.99 ** 2), 15);
    expect(check.meetsTarget).toBe(true);
    // All in one zone: losing it leaves nothing.
    const packed = checkPlacement({ a1: 6 }, pools, 3, req, { domain: 'zone', survivingInstances: 3 });
    expect(packed).toMatchObject({ survivingWorstLoss: 0, meetsSpread: false, meetsTarget: false });
    expect(1 - (packed.availability as number)).toBeCloseTo(0.01, 15);
  });

  it('names an unknown pool', () => {
    expect(thrown(() => instancesByDomain({ gpu: 1 }, pools, 'zone')).message).toContain("unknown pool 'gpu'");
  });
});
