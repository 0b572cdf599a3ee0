/** Placement arithmetic and split-edge traffic against hand-computed values. */
import { describe, expect, it } from 'vitest';
import type { NetworkCosts } from '../core/migration.ts';
import type { Action } from '../core/plan.ts';
import { applyToPlacement, nodesFor, normalize, placementEquals, splitEdges, usageByPool } from './placement.ts';
import { pool, workload } from './testFixtures.ts';

const network: NetworkCosts = { crossZoneLatencySeconds: 0.001, crossProviderLatencySeconds: 0.02, crossZoneCostPerGiB: 0.01, crossProviderCostPerGiB: 0.08, defaultBytesPerCall: 1024 };
const locations = new Map([
  ['a', { zone: 'z1', provider: 'p1' }],
  ['b', { zone: 'z2', provider: 'p1' }],
  ['c', { zone: 'z3', provider: 'p2' }],
]);
const base = { decidedAtSeconds: 0, phase: 1, reason: 't' };

describe('placement', () => {
  it('applies scale and migrate actions, and refuses actions made for another state', () => {
    const p = { s: { a: 3 } };
    const start: Action = { ...base, id: '1', kind: 'scaleWorkload', workload: 's', pool: 'b', fromInstances: 0, toInstances: 2 };
    const move: Action = { ...base, id: '2', kind: 'migrate', workload: 's', fromPool: 'a', toPool: 'b', instances: 3 };
    expect(applyToPlacement(p, start)).toEqual({ s: { a: 3, b: 2 } });
    expect(applyToPlacement(applyToPlacement(p, start), move)).toEqual({ s: { b: 5 } });
    expect(() => applyToPlacement(p, { ...start, fromInstances: 1 })).toThrow('expects 1 instances of "s" in "b", the placement has 0');
    expect(() => applyToPlacement(p, { ...move, instances: 4 })).toThrow('moves 4 instances of "s" from "a", which has 3');
    expect(p).toEqual({ s: { a: 3 } });
  });

  it('compares placements ignoring zero counts and order', () => {
    expect(placementEquals({ s: { a: 1, b: 0 }, t: {} }, { s: { a: 1 } })).toBe(true);
    expect(placementEquals({ s: { a: 1 } }, { s: { a: 2 } })).toBe(false);
    expect(Object.keys(normalize({ z: { b: 1 }, a: { c: 1 } }))).toEqual(['a', 'z']);
  });

  it('counts usage and nodes: the larger of CPU and memory, rounded up', () => {
    const ws = new Map([['s', workload('s', { cpu: 1000, mem: 1024 })], ['m', workload('m', { cpu: 100, mem: 8192 })]]);
    const u = usageByPool({ s: { a: 4 }, m: { a: 1, b: 3 } }, ws);
    expect(u.get('a')).toEqual({ cpuMillicores: 4100, memoryMiB: 4096 + 8192 });
    expect(u.get('b')).toEqual({ cpuMillicores: 300, memoryMiB: 3 * 8192 });
    expect(nodesFor(pool('a', 'z1'), u.get('a'))).toBe(2); // 4100 / 4000 → 1.025
    expect(nodesFor(pool('b', 'z2'), u.get('b'))).toBe(2); // 24576 / 16384 → 1.5
    expect(nodesFor(pool('b', 'z2'), { cpuMillicores: 8000, memoryMiB: 0 })).toBe(2);
  });
});

describe('splitEdges', () => {
  it('computes the crossing share, bytes, cost and latency of an edge split across zones and providers', () => {
    // Caller: half in z1, half in z2. Callee: 1/4 in z1 (provider p1), 3/4 in z3 (provider p2).
    // Zone-local share: 0.5 × 0.25 = 0.125 → 0.875 cross a zone. Provider-local: 1 × 0.25 → 0.75 cross a provider.
    const edges = [{ from: 'x', to: 'y', callsPerRequest: 2 }];
    const [e] = splitEdges({ x: { a: 2, b: 2 }, y: { a: 1, c: 3 } }, edges, new Map([['x', 100]]), locations, network);
    expect(e.crossZoneShare).toBeCloseTo(0.875, 12);
    expect(e.crossProviderShare).toBeCloseTo(0.75, 12);
    expect(e.callsPerSecond).toBe(200);
    expect(e.crossBytesPerSecond).toBeCloseTo(200 * 1024 * 0.875, 9);
    // Latency: 0.125 zone-only × 1 ms + 0.75 × 20 ms.
    expect(e.addedLatencySeconds).toBeCloseTo(0.125 * 0.001 + 0.75 * 0.02, 12);
    // Cost: 200 × 1024 B × 3600 s per hour = 0.6866 GiB/h; × (0.125 × 0.01 + 0.75 × 0.08).
    expect(e.costPerHour).toBeCloseTo(((200 * 1024 * 3600) / 1024 ** 3) * (0.125 * 0.01 + 0.75 * 0.08), 12);
  });

  it('leaves out edges that stay within one zone, and uses an edge\'s own bytesPerCall', () => {
    const edges = [
      { from: 'x', to: 'y', callsPerRequest: 1 },
      { from: 'x', to: 'z', callsPerRequest: 1, bytesPerCall: 10 },
    ];
    const out = splitEdges({ x: { a: 2 }, y: { a: 5 }, z: { b: 1 } }, edges, new Map([['x', 50]]), locations, network);
    expect(out.map((e) => [e.from, e.to, e.crossZoneShare, e.crossBytesPerSecond])).toEqual([['x', 'z', 1, 500]]);
  });
});
