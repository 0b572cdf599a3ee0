import { describe, expect, it } from 'vitest';
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import { assignRange, checkPoolRanges, NetworkPlanner, neededAddresses, nodeBlockAddresses, overlaps, parseRange, prefixFor } from './network.ts';

const range = (cidr: string) => parseRange(cidr, 'test');

describe('parseRange', () => {
  it.each([
    ['10.1.0.0/20', 167837696, 4096, 20],
    ['192.168.0.0/16', 3232235520, 65536, 16],
    ['10.0.2.0/23', 167772672, 512, 23],
    ['0.0.0.0/0', 0, 2 ** 32, 0],
  ])('%s starts at %d with %d addresses', (cidr, start, size, prefix) => {
    expect(range(cidr)).toEqual({ cidr, start, size, prefix });
  });

  it.each([
    ['10.1.0.5/20', /host bits set; the \/20 block containing it starts at 10\.1\.0\.0/],
    ['10.1/16', /not an IPv4 range in CIDR notation/],
    ['300.1.0.0/16', /not an IPv4 range/],
    ['10.0.0.0/33', /not an IPv4 range/],
    ['fd00::/8', /not an IPv4 range/],
  ])('rejects %s', (cidr, message) => {
    expect(() => parseRange(cidr, 'pools[2].network.cidr')).toThrow(InvalidInputError);
    expect(() => parseRange(cidr, 'pools[2].network.cidr')).toThrow(message);
  });
});

describe('sizes', () => {
  it.each([
    [1, 1],
    [32, 32],
    [33, 64],
    [110, 128],
  ])('a node running %d pods takes a block of %d addresses', (pods, block) => expect(nodeBlockAddresses(pods)).toBe(block));

  it('a pool of 10 nodes of 32 pods needs 320 addresses, a /23', () => {
    expect(neededAddresses(10, 32)).toBe(320);
    expect(prefixFor(320)).toBe(23);
    expect(prefixFor(256)).toBe(24);
  });
});

describe('checkPoolRanges', () => {
  const parent = range('10.0.0.0/14');
  it('accepts disjoint ranges inside the parent that hold their pools', () => {
    expect(() =>
      checkPoolRanges(parent, [
        { pool: 'a', range: range('10.0.0.0/22'), maxNodes: 8, podsPerNode: 110 },
        { pool: 'b', range: range('10.0.4.0/23'), maxNodes: 10, podsPerNode: 32 },
      ]),
    ).not.toThrow();
  });

  it('rejects overlapping ranges, naming both pools and both ranges', () => {
    const pools = [
      { pool: 'dc-general', range: range('10.0.0.0/22'), maxNodes: 4, podsPerNode: 110 },
      { pool: 'colo-general', range: range('10.0.2.0/23'), maxNodes: 2, podsPerNode: 110 },
    ];
    expect(overlaps(pools[0].range, pools[1].range)).toBe(true);
    expect(() => checkPoolRanges(parent, pools)).toThrow('range 10.0.2.0/23 of pool "colo-general" overlaps range 10.0.0.0/22 of pool "dc-general"');
  });

  it('adjacent ranges do not overlap', () => {
    expect(overlaps(range('10.0.0.0/24'), range('10.0.1.0/24'))).toBe(false);
  });

  it('detects exhaustion: a range too small for the pool at its quota', () => {
    expect(() => checkPoolRanges(parent, [{ pool: 'c', range: range('10.0.8.0/24'), maxNodes: 10, podsPerNode: 32 }])).toThrow(
      'range 10.0.8.0/24 is exhausted: it holds 256 addresses, 8 nodes of 32 (32 pods per node), but the pool may grow to 10 nodes (320 addresses); use a /23 or larger',
    );
  });

  it('rejects a range outside the parent', () => {
    expect(() => checkPoolRanges(parent, [{ pool: 'd', range: range('10.4.0.0/24'), maxNodes: 1, podsPerNode: 32 }])).toThrow('range 10.4.0.0/24 is not inside the parent range 10.0.0.0/14');
  });
});

describe('assignRange: first free aligned block', () => {
  // Parent 10.0.0.0/22 (1024 addresses); a holds [0, 256), b holds [384, 512).
  const parent = range('10.0.0.0/22');
  const taken = [
    { pool: 'a', range: range('10.0.0.0/24') },
    { pool: 'b', range: range('10.0.1.128/25') },
  ];
  it.each([
    [100, '10.0.1.0/25'], // 128: [256, 384) is free
    [200, '10.0.2.0/24'], // 256: [256, 512) meets b, so [512, 768)
    [512, '10.0.2.0/23'], // 512: aligned at 512
  ])('%d addresses -> %s', (addresses, cidr) => {
    expect(assignRange(parent, taken, addresses, 'new').cidr).toBe(cidr);
  });

  it('reports exhaustion of the parent, naming the ranges taken', () => {
    expect(() => assignRange(parent, taken, 1024, 'big')).toThrow(InfeasibleError);
    expect(() => assignRange(parent, taken, 1024, 'big')).toThrow(/address range 10\.0\.0\.0\/22 is exhausted: no free \/22 \(1024 addresses\) for pool "big"[\s\S]*384 taken[\s\S]*pool "a" holds 10\.0\.0\.0\/24[\s\S]*pool "b" holds 10\.0\.1\.128\/25/);
  });
});

describe('NetworkPlanner', () => {
  it('gives new pools the next free range, validated, and takes it back on release', () => {
    const planner = new NetworkPlanner(range('10.8.0.0/16'), 32, [{ pool: 'base', range: range('10.8.0.0/20') }]);
    const burst = planner.configFor({ name: 'burst', maxNodes: 10 });
    expect(burst).toEqual({ segment: 'burst-pods', cidr: '10.8.16.0/23', podsPerNode: 32, addresses: 512, neededAddresses: 320 });
    const spot = planner.configFor({ name: 'spot', maxNodes: 4, network: { segment: 'vlan-42', podsPerNode: 110 } });
    expect(spot).toEqual({ segment: 'vlan-42', cidr: '10.8.18.0/23', podsPerNode: 110, addresses: 512, neededAddresses: 512 });
    planner.release('burst');
    expect(planner.configFor({ name: 'again', maxNodes: 2 }).cidr).toBe('10.8.16.0/26');
  });

  it('rejects a declared range of a new pool that overlaps a pool in use', () => {
    const planner = new NetworkPlanner(range('10.8.0.0/16'), 32, [{ pool: 'base', range: range('10.8.0.0/20') }]);
    expect(() => planner.configFor({ name: 'clash', maxNodes: 2, network: { cidr: '10.8.15.0/24' } })).toThrow('range 10.8.15.0/24 of pool "clash" overlaps range 10.8.0.0/20 of pool "base"');
  });
});
