/**
 * The scenario keys for sizing beyond one SLO: network bandwidth, availability
 * requirements and risk levels by priority. Scenarios are built in memory
 * (inline demand), each bad one by one edit of a valid base.
 */
import { describe, expect, it } from 'vitest';
import { checkScenario } from '../capacity/scenarioChecks.ts';
import { InfeasibleError, InvalidInputError } from '../core/errors.ts';
import type { Scenario } from '../core/model.ts';
import { buildScenario, validateScenario } from './load.ts';
import type { ScenarioFileInput } from './schema.ts';
import { thrown } from '../../test/helpers.ts';

type WorkloadInput = ScenarioFileInput['workloads'][number];

function workload(name: string, extra: Partial<WorkloadInput> = {}): WorkloadInput {
  return {
    name,
    demand: { inline: { stepSeconds: 300, values: [10, 20, 30, 40] } },
    serviceTimeSeconds: 0.1,
    cpuMillicores: 500,
    memoryMiB: 512,
    slo: { maxUtilization: 0.5 },
    ...extra,
  };
}

function scenario(workloads: WorkloadInput[], extra: Partial<ScenarioFileInput> = {}): ScenarioFileInput {
  return {
    name: 'keys',
    simulation: { stepSeconds: 300, warmupSeconds: 600 },
    workloads,
    pools: [{ name: 'p', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 1 }],
    ...extra,
  };
}

function load(input: ScenarioFileInput): Scenario {
  return buildScenario(validateScenario(input, 'keys.yaml'), '/tmp');
}

/** The message of the InvalidInputError that validating `input` throws. */
function invalid(input: ScenarioFileInput): string {
  const e = thrown(() => load(input));
  expect(e).toBeInstanceOf(InvalidInputError);
  return e.message;
}

describe('network bandwidth', () => {
  it('is carried into Resources when given, and absent (unconstrained) otherwise', () => {
    const s = load(
      scenario([workload('a', { networkMbps: 250 }), workload('b')], {
        pools: [
          { name: 'p', cpuMillicores: 4000, memoryMiB: 8192, networkMbps: 10000, costPerHour: 1 },
          { name: 'q', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 1 },
        ],
      }),
    );
    expect(s.workloads[0].perInstance).toEqual({ cpuMillicores: 500, memoryMiB: 512, networkMbps: 250 });
    expect(s.workloads[1].perInstance).toEqual({ cpuMillicores: 500, memoryMiB: 512 });
    expect('networkMbps' in s.workloads[1].perInstance).toBe(false);
    expect(s.pools[0].nodeType.capacity).toEqual({ cpuMillicores: 4000, memoryMiB: 8192, networkMbps: 10000 });
    expect(s.pools[1].nodeType.capacity).toEqual({ cpuMillicores: 4000, memoryMiB: 8192 });
  });

  it('must be positive', () => {
    expect(invalid(scenario([workload('a', { networkMbps: 0 })]))).toContain('workloads[0].networkMbps: must be more than 0, got "0"');
  });
});

describe('availability', () => {
  it('is carried into the workload as given', () => {
    const availability = { target: 0.9995, survive: 'zone' as const, spareInstances: 1, instanceFailureProbability: 0.01, domainFailureProbability: 0.001 };
    const s = load(scenario([workload('a', { availability }), workload('b')]));
    expect(s.workloads[0].availability).toEqual(availability);
    expect(s.workloads[1].availability).toBeUndefined();
  });

  it.each([
    [{}, 'workloads[0].availability: give at least one of target, survive, spareInstances'],
    [{ survive: 'region' }, 'workloads[0].availability.survive: Invalid enum value'],
    [{ target: 1, instanceFailureProbability: 0.01 }, 'workloads[0].availability.target: must be below 1: no finite redundancy reaches certainty'],
    [{ target: 0.999 }, 'workloads[0].availability.target: needs instanceFailureProbability and/or domainFailureProbability'],
    [{ spareInstances: 1, domainFailureProbability: 0.01 }, 'workloads[0].availability.domainFailureProbability: needs survive: zone or provider'],
    [{ survive: 'zone', instanceFailureProbability: 1 }, 'workloads[0].availability.instanceFailureProbability: must be between 0 (inclusive) and 1 (exclusive)'],
    [{ spareInstances: -1 }, 'workloads[0].availability.spareInstances: Number must be greater than or equal to 0'],
    [{ spareInstances: 1, spares: 2 }, 'workloads[0].availability: unknown key "spares"'],
  ])('rejects %j naming the field', (availability, message) => {
    expect(invalid(scenario([workload('a', { availability: availability as WorkloadInput['availability'] })]))).toContain(message);
  });
});

describe('risk level (sizing quantile)', () => {
  const rules = [
    { minPriority: 100, quantile: 0.99 },
    { minPriority: 0, quantile: 0.9 },
    { minPriority: 50, quantile: 0.95 },
  ];

  it('takes the workload’s own quantile first, then the rule with the highest minPriority at or below the priority, else 0.95', () => {
    const s = load(
      scenario(
        [
          workload('own', { priority: 200, sizingQuantile: 0.8 }),
          workload('top', { priority: 200 }),
          workload('exact', { priority: 100 }),
          workload('mid', { priority: 99 }),
          workload('base', { priority: 0 }),
          workload('below', { priority: -5 }),
        ],
        { riskQuantiles: rules },
      ),
    );
    expect(s.workloads.map((w) => [w.name, w.sizingQuantile, w.sizingQuantileSource])).toEqual([
      ['own', 0.8, 'workload'],
      ['top', 0.99, 'priority'],
      ['exact', 0.99, 'priority'],
      ['mid', 0.95, 'priority'],
      ['base', 0.9, 'priority'],
      ['below', 0.95, 'default'],
    ]);
  });

  it('without rules, keeps the old default of 0.95', () => {
    const s = load(scenario([workload('a', { priority: 1000 }), workload('b', { sizingQuantile: 0.5 })]));
    expect(s.workloads.map((w) => [w.sizingQuantile, w.sizingQuantileSource])).toEqual([
      [0.95, 'default'],
      [0.5, 'workload'],
    ]);
  });

  it('rejects a higher priority sized at a lower quantile, a repeated minPriority and a quantile of 1', () => {
    expect(invalid(scenario([workload('a')], { riskQuantiles: [{ minPriority: 0, quantile: 0.99 }, { minPriority: 10, quantile: 0.9 }] }))).toContain(
      'riskQuantiles[1].quantile: quantile 0.9 for minPriority 10 is below 0.99 for the lower minPriority 0',
    );
    expect(invalid(scenario([workload('a')], { riskQuantiles: [{ minPriority: 5, quantile: 0.9 }, { minPriority: 5, quantile: 0.95 }] }))).toContain(
      'riskQuantiles[1].minPriority: minPriority 5 appears twice',
    );
    expect(invalid(scenario([workload('a')], { riskQuantiles: [{ minPriority: 5, quantile: 1 }] }))).toContain('riskQuantiles[0].quantile: must be between 0 and 1 (exclusive)');
  });
});

describe('checkScenario and availability', () => {
  it('names a workload that must survive a zone when all its pools are in one zone', () => {
    const s = load(scenario([workload('api', { availability: { survive: 'zone' } })], {
      pools: [
        { name: 'p', zone: 'eu-1a', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 1 },
        { name: 'q', zone: 'eu-1a', cpuMillicores: 8000, memoryMiB: 8192, costPerHour: 1 },
      ],
    }));
    const e = thrown(() => checkScenario(s));
    expect(e).toBeInstanceOf(InfeasibleError);
    expect((e as InfeasibleError).conflicts).toEqual([
      "workload 'api' cannot survive the loss of a zone: every pool it may use is in zone 'default/eu-1a'; surviving its loss needs pools in at least two zones",
    ]);
  });

  it('passes with two zones, and names a node too small for the network bandwidth', () => {
    const pools = [
      { name: 'p', zone: 'eu-1a', cpuMillicores: 4000, memoryMiB: 8192, networkMbps: 1000, costPerHour: 1 },
      { name: 'q', zone: 'eu-1b', cpuMillicores: 4000, memoryMiB: 8192, networkMbps: 1000, costPerHour: 1 },
    ];
    expect(() => checkScenario(load(scenario([workload('api', { availability: { survive: 'zone' }, networkMbps: 500 })], { pools })))).not.toThrow();
    const e = thrown(() => checkScenario(load(scenario([workload('api', { networkMbps: 2000 })], { pools })))) as InfeasibleError;
    expect(e.conflicts).toEqual(['workload "api" needs 500m CPU, 512 MiB and 2000 Mbit/s per instance; no node is that big: p (4000m, 8192 MiB, 1000 Mbit/s), q (4000m, 8192 MiB, 1000 Mbit/s)']);
  });
});
