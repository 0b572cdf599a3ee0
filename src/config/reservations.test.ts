import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import { buildScenario, validateScenario } from './load.ts';

const values = Array(30).fill(10).join(', ');
/** Two 4 vCPU / 16 GiB pools with committed prices, one 8 vCPU pool, one pool under an agreement; account A runs 2 vCPU / 8 GiB instances. */
const base = (reservations: string, extra = '') => `
name: res-config
simulation: { stepSeconds: 5m, warmupSeconds: 10m, durationSeconds: 1h, decisionIntervalSeconds: 5m }
providers: [{ name: cloud }, { name: partner, kind: partner }]
pools:
  - { name: r-a, provider: cloud, zone: a, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.2, committedCostPerHour: 0.12 }
  - { name: r-b, provider: cloud, zone: b, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.2, committedCostPerHour: 0.10, maxNodes: 4 }
  - { name: big, provider: cloud, zone: a, cpuMillicores: 8 vCPU, memoryMiB: 16 GiB, costPerHour: 0.3, committedCostPerHour: 0.2 }
  - { name: plain, provider: cloud, zone: a, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.2 }
  - { name: p, provider: partner, zone: c, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.2, committedCostPerHour: 0.1 }
agreements:
  - { name: deal, provider: partner, rates: { nodeHours: 0.15 } }
accounts:
  - { name: A, priority: 10, guaranteedInstances: 3 }
  - { name: B, priority: 5 }
workloads:
  - name: w
    account: A
    demand: { inline: { stepSeconds: 5m, values: [${values}] } }
    throughputPerInstanceRps: 1
    cpuMillicores: 2 vCPU
    memoryMiB: 8 GiB
    slo: { maxUtilization: 1 }
reservations:
${reservations}
${extra}`;

const load = (reservations: string) => buildScenario(validateScenario(parse(base(reservations)), 'res.yaml'), '.', 'res.yaml');

describe('reservations: configuration', () => {
  it('loads with defaults: review at the decision interval, guarantees from guaranteedInstances, maxNodes as capacity', () => {
    const s = load('  pools: [r-a, r-b]');
    expect(s.reservations).toEqual({
      pools: ['r-a', 'r-b'],
      reviewIntervalSeconds: 300,
      raiseShare: 0.9,
      releaseShare: 0.8,
      releaseAfterSeconds: 21600,
      targetShare: 0.8,
      maxReservedNodesByPool: { 'r-a': 1000, 'r-b': 4 },
      breakEven: { margin: 0 },
      // A: 3 instances × 0.5 node = 1.5 → 2 nodes; B has no workloads.
      accounts: { A: { initialNodes: 0, minNodes: 0, guaranteedNodes: 2 }, B: { initialNodes: 0, minNodes: 0, guaranteedNodes: 0 } },
    });
  });

  it('takes durations, per-pool limits and per-account settings', () => {
    const s = load('  pools: [r-a]\n  reviewIntervalSeconds: 1h\n  releaseAfterSeconds: 12h\n  maxReservedNodes: { r-a: 5 }\n  accounts: { B: { initialNodes: 3, minNodes: 1, guaranteedNodes: 1 } }');
    expect(s.reservations).toMatchObject({ reviewIntervalSeconds: 3600, releaseAfterSeconds: 43200, maxReservedNodesByPool: { 'r-a': 5 }, accounts: { B: { initialNodes: 3, minNodes: 1, guaranteedNodes: 1 } } });
  });

  it.each([
    ['  breakEven: true', { margin: 0 }],
    ['  breakEven: { margin: 0.1 }', { margin: 0.1 }],
    ['  breakEven: false', undefined],
  ])('break-even rule %j', (line, expected) => {
    expect(load(`  pools: [r-a]\n${line}`).reservations?.breakEven).toEqual(expected);
  });

  it('rejects a negative break-even margin and unknown keys', () => {
    expect(() => load('  pools: [r-a]\n  breakEven: { margin: -0.1 }')).toThrow(/breakEven/);
    expect(() => load('  pools: [r-a]\n  breakEven: { ratio: 0.5 }')).toThrow(/breakEven/);
  });

  it('a scenario without reservations has none', () => {
    const s = buildScenario(validateScenario(parse(base('  pools: [r-a]').replace(/reservations:\n.*\n/, '')), 'res.yaml'), '.', 'res.yaml');
    expect(s.reservations).toBeUndefined();
  });

  it.each([
    ['  pools: [nope]', 'res.yaml: reservations.pools[0]: pool "nope" is not in pools'],
    ['  pools: [r-a, r-a]', 'pool "r-a" is listed twice'],
    ['  pools: [plain]', 'pool "plain" has no committed price'],
    ['  pools: [p]', 'pool "p" is billed under agreement "deal"'],
    ['  pools: [r-a, big]', 'pool "big" has nodes of 8000m CPU and 16384 MiB, unlike "r-a"'],
    ['  pools: [r-a]\n  reviewIntervalSeconds: 7m', 'reservations.reviewIntervalSeconds: must be a multiple of simulation.decisionIntervalSeconds (300 s), got 420 s'],
    ['  pools: [r-a]\n  targetShare: 0.95', 'reservations.targetShare: must be more than 0 and less than raiseShare (0.9)'],
    ['  pools: [r-a]\n  maxReservedNodes: { r-b: 2 }', 'reservations.maxReservedNodes.r-b: "r-b" is not one of the reservation pools'],
    ['  pools: [r-a]\n  accounts: { Z: { initialNodes: 1 } }', 'reservations.accounts.Z: "Z" is not in accounts'],
    ['  pools: [r-a]\n  accounts: { A: { initialNodes: 1, minNodes: 2 } }', 'reservations.accounts.A.initialNodes: 1 is below minNodes 2'],
  ])('rejects %j', (block, message) => {
    expect(() => load(block)).toThrow(InvalidInputError);
    expect(() => load(block)).toThrow(message);
  });

  it('rejects guarantees that cannot fit the smallest pool', () => {
    const block = '  pools: [r-a, r-b]\n  maxReservedNodes: { r-b: 2 }\n  accounts: { B: { guaranteedNodes: 1 } }';
    expect(() => load(block)).toThrow(InfeasibleError);
    expect(() => load(block)).toThrow(/guaranteed reservations add up to 3 nodes, more than the 2 .*\n.*A: 2 guaranteed nodes/);
  });
});
