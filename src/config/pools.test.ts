import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { buildScenario, validateScenario } from './load.ts';

/** A small scenario as parsed YAML; `edit` changes it before validation. */
function load(edit: (s: Record<string, any>) => void) {
  const s: Record<string, any> = {
    name: 'net',
    simulation: { stepSeconds: '5m', warmupSeconds: '10m', durationSeconds: '10m', decisionIntervalSeconds: '5m' },
    providers: [
      { name: 'own', kind: 'own' },
      { name: 'aws', kind: 'cloud' },
    ],
    pools: [
      { name: 'dc', provider: 'own', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 0.1, maxNodes: 4 },
      { name: 'cloud', provider: 'aws', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 0.2, maxNodes: 10 },
    ],
    workloads: [{ name: 'api', demand: { inline: { stepSeconds: '5m', values: [1, 2, 3, 4] } }, serviceTimeSeconds: 0.1, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 } }],
  };
  edit(s);
  return buildScenario(validateScenario(s, 'net.yaml'), '.', 'net.yaml');
}

describe('network address plan at load', () => {
  it('assigns ranges to existing pools without one, in file order, after the declared ones', () => {
    const s = load((x) => {
      x.network = { parentCidr: '10.64.0.0/16', podsPerNode: 32 };
      x.pools[0].network = { cidr: '10.64.0.0/24' };
    });
    expect(s.network).toEqual({ parentCidr: '10.64.0.0/16', podsPerNode: 32 });
    expect(s.pools.map((p) => p.network?.cidr)).toEqual(['10.64.0.0/24', '10.64.2.0/23']); // 10 × 32 = 320 → /23, aligned after the /24
  });

  it('rejects overlapping ranges, naming both pools and ranges', () => {
    expect(() =>
      load((x) => {
        x.network = { parentCidr: '10.64.0.0/16', podsPerNode: 32 };
        x.pools[0].network = { cidr: '10.64.0.0/22' };
        x.pools[1].network = { cidr: '10.64.2.0/23' };
      }),
    ).toThrow('net.yaml: network: pool "cloud": range 10.64.2.0/23 of pool "cloud" overlaps range 10.64.0.0/22 of pool "dc"');
  });

  it('rejects a range too small for the pool (exhaustion)', () => {
    expect(() =>
      load((x) => {
        x.network = { parentCidr: '10.64.0.0/16', podsPerNode: 32 };
        x.pools[1].network = { cidr: '10.64.8.0/24' };
      }),
    ).toThrow(/range 10\.64\.8\.0\/24 is exhausted: it holds 256 addresses, 8 nodes of 32 .* may grow to 10 nodes \(320 addresses\); use a \/23 or larger/);
  });

  it('rejects a parent too small for every pool, candidates included', () => {
    const attempt = () =>
      load((x) => {
        x.network = { parentCidr: '10.64.0.0/23', podsPerNode: 32 };
        x.pools.push({ name: 'burst', provider: 'aws', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 0.3, maxNodes: 8, candidate: true });
      });
    // dc takes 128 (a /25), cloud 320 (a /23 that no longer fits beside it).
    expect(attempt).toThrow(InvalidInputError);
    expect(attempt).toThrow(/pools\[1\]\.network: address range 10\.64\.0\.0\/23 is exhausted: no free \/23 \(512 addresses\) for pool "cloud"/);
  });

  it('a declared range needs the address plan it belongs to', () => {
    expect(() => load((x) => (x.pools[0].network = { cidr: '10.0.0.0/24' }))).toThrow('net.yaml: pools[0].network.cidr: pool "dc" declares an address range; declare the address plan it belongs to (network.parentCidr)');
  });

  it.each([
    ['10.64.0.1/16', /host bits set/],
    ['10.64.0.0', /not an IPv4 range in CIDR notation/],
  ])('rejects parent %s', (parentCidr, message) => {
    expect(() => load((x) => (x.network = { parentCidr }))).toThrow(message);
  });
});

describe('incidents and pool life cycle at load', () => {
  it('reads incidents as epoch-second spans', () => {
    const s = load((x) => (x.incidents = [{ provider: 'aws', start: '2024-01-01 00:05:00', duration: '2h', description: 'zone outage' }, { pool: 'dc', start: 0, duration: 60 }]));
    expect(s.incidents).toEqual([
      { provider: 'aws', startSeconds: 1704067500, endSeconds: 1704067500 + 7200, description: 'zone outage' },
      { pool: 'dc', startSeconds: 0, endSeconds: 60 },
    ]);
  });

  it.each([
    [{ provider: 'azure', start: 0, duration: '1h' }, 'incidents[0].provider: incident names provider "azure", which is not in providers'],
    [{ pool: 'gpu', start: 0, duration: '1h' }, 'incidents[0].pool: incident names pool "gpu", which is not in pools'],
    [{ provider: 'aws', pool: 'dc', start: 0, duration: '1h' }, 'name either a provider or a pool'],
    [{ provider: 'aws', start: 0, duration: 0 }, 'must be more than 0 seconds'],
  ])('rejects incident %j', (incident, message) => {
    expect(() => load((x) => (x.incidents = [incident]))).toThrow(message);
  });

  it('a candidate pool cannot have a minimum of nodes (it does not exist at the start)', () => {
    expect(() => load((x) => x.pools.push({ name: 'burst', provider: 'aws', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 0.3, minNodes: 1, candidate: true }))).toThrow('its minNodes must be 0');
  });

  it('carries candidates, creation costs and life cycle settings', () => {
    const s = load((x) => {
      x.pools.push({ name: 'burst', provider: 'aws', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 0.3, candidate: true, creationCost: 12.5 });
      x.poolLifecycle = { maxCreationCost: 10, dismantleAfterSeconds: '30m' };
    });
    expect(s.pools[2]).toMatchObject({ name: 'burst', candidate: true, creationCost: 12.5 });
    expect(s.poolLifecycle).toEqual({ maxCreationCost: 10, dismantleAfterSeconds: 1800, idleReclaimSeconds: 600 });
  });

  it('scenarios without the new keys carry none of them', () => {
    const s = load(() => {});
    expect(s.incidents).toBeUndefined();
    expect(s.network).toBeUndefined();
    expect(s.poolLifecycle).toBeUndefined();
    expect(s.pools.every((p) => p.candidate === undefined && p.network === undefined)).toBe(true);
  });
});
