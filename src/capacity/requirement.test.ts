import { describe, expect, it } from 'vitest';
import { InfeasibleError } from '../core/errors.ts';
import type { Pool, Workload } from '../core/model.ts';
import { workloadRequirement } from './requirement.ts';
import { thrown } from '../../test/helpers.ts';

/** Utilization SLO 0.5 at S = 0.1 s: ⌈λ·0.1/0.5⌉ = ⌈λ/5⌉ instances. */
const workload = (extra: Partial<Workload> = {}): Workload => ({
  name: 'api',
  demand: { startSeconds: 0, stepSeconds: 300, values: [] },
  service: { serviceTimeSeconds: 0.1, concurrency: 1 },
  perInstance: { cpuMillicores: 500, memoryMiB: 1024, networkMbps: 200 },
  slo: { kind: 'utilization', maxUtilization: 0.5 },
  minInstances: 1,
  maxInstances: 100,
  priority: 0,
  sizingQuantile: 0.95,
  tags: [],
  ...extra,
});
const pool = (name: string, zone: string): Pool => ({
  name,
  provider: 'aws',
  zone,
  nodeType: { name: 'm', capacity: { cpuMillicores: 4000, memoryMiB: 16384, networkMbps: 10000 } },
  costPerHour: 1,
  provisioningDelaySeconds: 0,
  minNodes: 0,
  maxNodes: 10,
  tags: [],
});
const threeZones = [pool('a', 'z1'), pool('b', 'z2'), pool('c', 'z3')];

describe('workloadRequirement', () => {
  it('without availability: the SLO count and its resource vector', () => {
    // 38 rps → ⌈38/5⌉ = 8 instances: 4000m, 8192 MiB, 1600 Mbit/s.
    expect(workloadRequirement(workload(), 38, threeZones)).toEqual({
      workload: 'api',
      demandRps: 38,
      sloInstances: 8,
      instances: 8,
      feasible: true,
      resources: { cpuMillicores: 4000, memoryMiB: 8192, networkMbps: 1600 },
    });
  });

  it('leaves network out when the workload does not name it', () => {
    expect(workloadRequirement(workload({ perInstance: { cpuMillicores: 250, memoryMiB: 256 } }), 10, threeZones).resources).toEqual({ cpuMillicores: 500, memoryMiB: 512 });
  });

  it('survive a zone: N = 8 over 3 zones is 8 + 4 = 12, with the spread for the allocator', () => {
    const r = workloadRequirement(workload({ availability: { survive: 'zone' } }), 38, threeZones);
    expect(r).toMatchObject({ sloInstances: 8, instances: 12, feasible: true, spread: { domain: 'zone', survivingInstances: 8 }, resources: { cpuMillicores: 6000, memoryMiB: 12288, networkMbps: 2400 } });
    expect(r.availability?.perDomain).toEqual([4, 4, 4]);
  });

  it('N + k beyond maxInstances is flagged, not hidden', () => {
    expect(workloadRequirement(workload({ maxInstances: 9, availability: { spareInstances: 2 } }), 38, threeZones)).toMatchObject({ sloInstances: 8, instances: 9, feasible: false });
  });

  it('survive a zone when every usable pool is in one zone', () => {
    const e = thrown(() => workloadRequirement(workload({ availability: { survive: 'zone' } }), 38, [pool('a', 'z1'), pool('b', 'z1')]));
    expect(e).toBeInstanceOf(InfeasibleError);
    expect(e.message).toContain("every pool it may use is in zone 'aws/z1'");
  });
});
