import { describe, expect, it } from 'vitest';
import { InfeasibleError } from '../core/errors.ts';
import type { Incident, Pool, Provider } from '../core/model.ts';
import { exclusionKey, exclusionsAt, healthChangeTimes, healthyPools } from './health.ts';

const pool = (name: string, provider: string, over: Partial<Pool> = {}): Pool => ({
  name,
  provider,
  zone: 'z',
  nodeType: { name: 'n', capacity: { cpuMillicores: 1000, memoryMiB: 1024 } },
  costPerHour: 1,
  provisioningDelaySeconds: 0,
  minNodes: 0,
  maxNodes: 10,
  tags: [],
  ...over,
});

const pools = [pool('a1', 'alpha'), pool('a2', 'alpha'), pool('b1', 'beta'), pool('c1', 'gamma', { health: 'failing' })];
const providers: Provider[] = [
  { name: 'alpha', kind: 'partner' },
  { name: 'beta', kind: 'cloud' },
  { name: 'gamma', kind: 'own' },
];
const incidents: Incident[] = [
  { provider: 'alpha', startSeconds: 1000, endSeconds: 2000, description: 'power loss' },
  { pool: 'b1', startSeconds: 1500, endSeconds: 1600 },
];

describe('exclusionsAt', () => {
  it.each([
    [0, 'c1'],
    [999, 'c1'],
    [1000, 'a1,a2,c1'],
    [1500, 'a1,a2,b1,c1'],
    [1599, 'a1,a2,b1,c1'],
    [1600, 'a1,a2,c1'],
    [2000, 'c1'], // the end is exclusive
  ])('at %d s: %s excluded', (t, key) => {
    expect(exclusionKey(exclusionsAt(pools, providers, incidents, t))).toBe(key);
  });

  it('says why, in user terms', () => {
    const ex = exclusionsAt(pools, providers, incidents, 1500);
    expect(ex.get('a1')).toBe('provider "alpha" failing from 1970-01-01T00:16:40Z to 1970-01-01T00:33:20Z (power loss)');
    expect(ex.get('b1')).toBe('pool "b1" failing from 1970-01-01T00:25:00Z to 1970-01-01T00:26:40Z');
    expect(ex.get('c1')).toBe('pool "c1" is failing');
  });

  it('a provider marked failing excludes all its pools', () => {
    const ex = exclusionsAt(pools, [{ name: 'beta', kind: 'cloud', health: 'failing' }], [], 0);
    expect(exclusionKey(ex)).toBe('b1,c1');
    expect(ex.get('b1')).toBe('provider "beta" is failing');
  });

  it('change times are the incidents\' starts and ends, once each, in order', () => {
    expect(healthChangeTimes(incidents)).toEqual([1000, 1500, 1600, 2000]);
  });
});

describe('healthyPools', () => {
  it('leaves the pools not excluded, in order', () => {
    expect(healthyPools(pools, exclusionsAt(pools, providers, incidents, 1000)).map((p) => p.name)).toEqual(['b1']);
  });

  it('everything failing: InfeasibleError naming each pool and why', () => {
    const ex = exclusionsAt(pools, providers, incidents, 1550);
    expect(() => healthyPools(pools, ex)).toThrow(InfeasibleError);
    expect(() => healthyPools(pools, ex)).toThrow(/every pool is excluded from plans:\n {2}- pool "a1": provider "alpha" failing[\s\S]*pool "b1": pool "b1" failing[\s\S]*pool "c1": pool "c1" is failing/);
  });
});
