/**
 * Providers, pool prices and agreements as the scenario file gives them:
 * validated at the boundary, with each kind of mistake named.
 */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { buildScenario, validateScenario } from '../config/load.ts';
import type { ScenarioFileInput } from '../config/schema.ts';
import { thrown } from '../../test/helpers.ts';

const base = (): ScenarioFileInput & Record<string, unknown> => ({
  name: 's',
  simulation: { stepSeconds: 60, warmupSeconds: 60, durationSeconds: 60 },
  workloads: [{ name: 'w', demand: { inline: { stepSeconds: 60, values: [1, 2, 3] } }, serviceTimeSeconds: 0.1, cpuMillicores: 500, memoryMiB: 512, slo: { maxUtilization: 0.7 } }],
  providers: [
    { name: 'own', kind: 'own' },
    { name: 'partner', kind: 'partner', health: 'failing', rates: { onDemand: { perVcpuHour: 0.02, perGibHour: 0.003 }, committed: { perVcpuHour: 0.015 } } },
  ],
  pools: [
    { name: 'dc', provider: 'own', cpuMillicores: '16 cores', memoryMiB: '64 GiB', costPerHour: 0.08 },
    { name: 'pa', provider: 'partner', cpuMillicores: '8 vCPU', memoryMiB: '32 GiB' },
    { name: 'pb', provider: 'partner', cpuMillicores: '8 vCPU', memoryMiB: '32 GiB', costPerHour: 0.5, health: 'failing' },
  ],
});

const load = (over: Record<string, unknown> = {}) => buildScenario(validateScenario({ ...base(), ...over }, 's.yaml'), '/tmp', 's.yaml');
const error = (over: Record<string, unknown>) => {
  const e = thrown(() => load(over));
  expect(e).toBeInstanceOf(InvalidInputError);
  return e.message;
};

const deal = { name: 'deal', provider: 'partner', rates: { nodeHours: [{ upTo: 100, rate: 0.3 }, { rate: 0.25 }] } };

describe('providers and pool prices', () => {
  it('registers providers with health and rates; pools derive costPerHour from on-demand rates', () => {
    const s = load();
    expect(s.providers[1]).toEqual({ name: 'partner', kind: 'partner', health: 'failing', rates: { onDemand: { perVcpuHour: 0.02, perGibHour: 0.003 }, committed: { perVcpuHour: 0.015 } } });
    const [dc, pa, pb] = s.pools;
    expect(dc.costPerHour).toBe(0.08);
    expect(dc.committedCostPerHour).toBeUndefined();
    // 8 × 0.02 + 32 × 0.003 = 0.256; committed 8 × 0.015 = 0.12.
    expect(pa.costPerHour).toBeCloseTo(0.256, 12);
    expect(pa.committedCostPerHour).toBeCloseTo(0.12, 12);
    // A pool's own price wins over its provider's rates.
    expect(pb.costPerHour).toBe(0.5);
    expect(pb.health).toBe('failing');
    expect(s.agreements).toBeUndefined();
  });

  it('rejects a pool with neither a price nor provider rates', () => {
    const b = base();
    expect(error({ pools: [...b.pools, { name: 'x', provider: 'own', cpuMillicores: 1000, memoryMiB: 1024 }] })).toMatch(/pools\[3\]\.costPerHour: pool "x" has no costPerHour and its provider "own" has no on-demand rates/);
  });
});

describe('agreements', () => {
  it('loads a valid agreement with defaults: monthly, the scenario currency, 80% alerts, shortfall at the first tier rate', () => {
    const s = load({ agreements: [{ ...deal, commitment: { resource: 'nodeHours', minUnits: 500 }, cap: { maxSpend: 1000 } }] });
    expect(s.agreements).toEqual([
      {
        name: 'deal',
        provider: 'partner',
        currency: 'USD',
        period: { kind: 'month' },
        rates: { nodeHours: [{ upTo: 100, rate: 0.3 }, { rate: 0.25 }] },
        commitment: { kind: 'units', resource: 'nodeHours', minUnits: 500, shortfallRate: 0.3 },
        cap: { kind: 'spend', maxSpend: 1000, overageMultiplier: 1 },
        alertShare: 0.8,
      },
    ]);
    expect(s.billing).toEqual({ currency: 'USD', onDemandPeriod: { kind: 'replay' } });
  });

  it('accepts one rate for every unit, periods "replay" and whole hours, and a unit cap with overage', () => {
    const s = load({
      billing: { currency: 'EUR', period: '1d' },
      agreements: [{ name: 'd', provider: 'partner', pools: ['pa'], period: '7d', rates: { vcpuHours: 0.02 }, cap: { resource: 'vcpuHours', maxUnits: 10, overageRate: 0.05 } }, { name: 'e', provider: 'own', period: 'replay', rates: { gibHours: 0.001 } }],
    });
    expect(s.agreements![0]).toMatchObject({ currency: 'EUR', pools: ['pa'], period: { kind: 'fixed', seconds: 604800 }, rates: { vcpuHours: [{ rate: 0.02 }] }, cap: { kind: 'units', resource: 'vcpuHours', maxUnits: 10, overageRate: 0.05 } });
    expect(s.agreements![1].period).toEqual({ kind: 'replay' });
    expect(s.billing!.onDemandPeriod).toEqual({ kind: 'fixed', seconds: 86400 });
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown provider', { agreements: [{ ...deal, provider: 'nobody' }] }, /agreements\[0\]\.provider: agreement "deal" names provider "nobody", which has no pools/],
    ['an unknown pool', { agreements: [{ ...deal, pools: ['zz'] }] }, /agreements\[0\]\.pools: agreement "deal" names pool "zz", which is not in pools/],
    ['another provider\'s pool', { agreements: [{ ...deal, pools: ['dc'] }] }, /pool "dc" belongs to provider "own", not "partner"/],
    ['a pool covered twice', { agreements: [deal, { ...deal, name: 'deal2', pools: ['pa'] }] }, /agreements\[1\]\.pools: pool "pa" is already covered by agreement "deal"/],
    ['two agreements of one name', { agreements: [{ ...deal, pools: ['pa'] }, { ...deal, pools: ['pb'] }] }, /two agreements are named "deal"/],
    ['another currency', { agreements: [{ ...deal, currency: 'EUR' }] }, /agreement "deal" is in EUR but the scenario bills in USD/],
    ['a bad currency code', { agreements: [{ ...deal, currency: 'usd' }] }, /agreements\[0\]\.currency: use an ISO 4217 code/],
    ['tiers that do not increase', { agreements: [{ ...deal, rates: { nodeHours: [{ upTo: 100, rate: 0.3 }, { upTo: 50, rate: 0.2 }, { rate: 0.1 }] } }] }, /rates\.nodeHours\[1\]\.upTo: upTo must increase: 50 is not above the previous tier's 100/],
    ['a last tier with upTo', { agreements: [{ ...deal, rates: { nodeHours: [{ upTo: 100, rate: 0.3 }] } }] }, /the last tier takes every unit left: leave out upTo/],
    ['a middle tier without upTo', { agreements: [{ ...deal, rates: { nodeHours: [{ rate: 0.3 }, { rate: 0.2 }] } }] }, /every tier but the last needs upTo/],
    ['a negative rate', { agreements: [{ ...deal, rates: { nodeHours: -1 } }] }, /rates\.nodeHours/],
    ['no rate card', { agreements: [{ ...deal, rates: {} }] }, /give a rate card for at least one of nodeHours, vcpuHours, gibHours/],
    ['a commitment on a resource not on the card', { agreements: [{ ...deal, commitment: { resource: 'gibHours', minUnits: 10 } }] }, /commitment\.resource: the rate card has no gibHours/],
    ['a cap on a resource not on the card', { agreements: [{ ...deal, cap: { resource: 'vcpuHours', maxUnits: 10 } }] }, /cap\.resource: the rate card has no vcpuHours/],
    ['a period of part of an hour', { agreements: [{ ...deal, period: '90m' }] }, /"90m" is not a billing period/],
    ['an alert share above 1', { agreements: [{ ...deal, alertShare: 1.5 }] }, /alertShare/],
    ['an overage multiplier below 1', { agreements: [{ ...deal, cap: { maxSpend: 10, overageMultiplier: 0.5 } }] }, /overageMultiplier/],
  ];
  it.each(bad)('rejects %s', (_label, over, message) => {
    expect(error(over)).toMatch(message);
  });
});
