import { describe, expect, it } from 'vitest';
import type { Pool } from '../core/model.ts';
import type { CapacityRequest } from '../core/requests.ts';
import { grantDemands, isGrantName } from './grants.ts';

const GiB = 1024;
const pool = (name: string, cores: number, memGiB: number): Pool => ({
  name,
  provider: 'cloud',
  zone: 'a',
  nodeType: { name, capacity: { cpuMillicores: cores * 1000, memoryMiB: memGiB * GiB } },
  costPerHour: 1,
  provisioningDelaySeconds: 60,
  minNodes: 0,
  maxNodes: 10,
  tags: [],
});
const request = (id: number, cpuMillicores: number, memoryMiB: number, extra: Partial<CapacityRequest> = {}): CapacityRequest => ({
  id,
  tenant: 'search',
  cpuMillicores,
  memoryMiB,
  priority: 3,
  submittedAtSeconds: 0,
  status: 'granted',
  grantedAtSeconds: 10,
  ...extra,
});
const noTags = () => undefined;

describe('grantDemands (hand-computed)', () => {
  const pools = [pool('small', 2, 4), pool('wide', 4, 16)];

  it('splits amounts into the fewest equal pieces that fit one node of some pool', () => {
    // 10 cores, 24 GiB: small needs max(⌈10/2⌉, ⌈24/4⌉) = 6 pieces, wide max(⌈10/4⌉, ⌈24/16⌉) = 3: three pieces of 3.33 cores, 8 GiB.
    const [g] = grantDemands([request(7, 10_000, 24 * GiB)], pools, noTags, 100);
    expect(g).toMatchObject({ id: 7, tenant: 'search', name: 'request:7', amounts: { cpuMillicores: 10_000, memoryMiB: 24 * GiB }, chunks: 3, priority: 3, tags: [] });
    expect(g.perChunk.cpuMillicores).toBeCloseTo(10_000 / 3, 9);
    expect(g.perChunk.memoryMiB).toBe(8 * GiB);
    expect(isGrantName(g.name)).toBe(true);
  });

  it('keeps an amount that fits one node whole, and an exact multiple of a node in that many pieces', () => {
    expect(grantDemands([request(1, 1500, 3 * GiB)], pools, noTags, 100)[0]).toMatchObject({ chunks: 1, perChunk: { cpuMillicores: 1500, memoryMiB: 3 * GiB } });
    expect(grantDemands([request(2, 8000, 32 * GiB)], pools, noTags, 100)[0]).toMatchObject({ chunks: 2, perChunk: { cpuMillicores: 4000, memoryMiB: 16 * GiB } });
  });

  it("holds a grant for instances of a workload as those instances, with the workload's tags", () => {
    const tags = (w: string) => (w === 'payments' ? ['pci'] : undefined);
    const [g] = grantDemands([request(3, 4 * 500, 4 * 2 * GiB, { workload: 'payments', instances: 4 })], pools, tags, 100);
    expect(g).toMatchObject({ chunks: 4, perChunk: { cpuMillicores: 500, memoryMiB: 2 * GiB }, tags: ['pci'] });
    // A workload removed since the grant: the instances are still held, untagged.
    expect(grantDemands([request(4, 1000, 1024, { workload: 'gone', instances: 2 })], pools, tags, 100)[0]).toMatchObject({ chunks: 2, tags: [] });
  });

  it('leaves out what is not a grant in force: queued, ended, past its end, empty', () => {
    const requests = [
      request(1, 1000, GiB, { status: 'queued', grantedAtSeconds: undefined }),
      request(2, 1000, GiB, { status: 'released', finishedAtSeconds: 50 }),
      request(3, 1000, GiB, { durationSeconds: 90, endsAtSeconds: 100 }),
      request(4, 0, 0),
      request(5, 1000, GiB, { durationSeconds: 91, endsAtSeconds: 101 }),
    ];
    expect(grantDemands(requests, pools, noTags, 100).map((g) => g.id)).toEqual([5]);
  });

  it('with no pool, one piece (the allocation reports it short)', () => {
    expect(grantDemands([request(1, 64_000, 256 * GiB)], [], noTags, 0)[0].chunks).toBe(1);
  });
});
