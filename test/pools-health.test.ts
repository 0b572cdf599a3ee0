/**
 * Health-based exclusion on real traces (NAB, data/nab): a provider fails in
 * the middle of a replayed day; by the next decision its pools are out of the
 * plan, its workloads run elsewhere and their SLOs recover; when every
 * provider fails, the run goes on and reports who lost what.
 */
import { describe, expect, it } from 'vitest';
import { resolve } from 'node:path';
import { buildScenario, validateScenario } from '../src/config/load.ts';
import type { Incident, Scenario } from '../src/core/model.ts';
import { runScenario } from '../src/sim/run.ts';
import type { PolicyName, PolicyResult } from '../src/sim/types.ts';

const base = buildScenario(
  validateScenario(
    {
      name: 'two-providers',
      simulation: { stepSeconds: '5m', warmupSeconds: '3d', durationSeconds: '1d', horizonSeconds: '2h', decisionIntervalSeconds: '5m', tickSeconds: '15s' },
      policies: { predictive: { model: 'seasonal-naive' } },
      providers: [
        { name: 'own-dc', kind: 'own' },
        { name: 'aws', kind: 'cloud' },
      ],
      pools: [
        { name: 'dc-general', provider: 'own-dc', cpuMillicores: '16 cores', memoryMiB: '64 GiB', costPerHour: 0.08, provisioningDelaySeconds: '2m', maxNodes: 4 },
        { name: 'aws-general', provider: 'aws', cpuMillicores: '4 vCPU', memoryMiB: '16 GiB', costPerHour: 0.192, provisioningDelaySeconds: '3m', maxNodes: 60 },
      ],
      workloads: [
        {
          name: 'booking-api',
          demand: { csv: 'nyc_taxi.csv', unit: 'requestsPerStep', scale: 900 },
          serviceTimeSeconds: 0.02,
          concurrency: 2,
          cpuMillicores: '1 core',
          memoryMiB: '2 GiB',
          slo: { latencySeconds: 0.15, percentile: 0.99 },
          minInstances: 2,
          maxInstances: 500,
          priority: 100,
        },
        {
          name: 'edge-api',
          demand: { csv: 'elb_request_count_8c0756.csv', unit: 'requestsPerStep', scale: 30 },
          serviceTimeSeconds: 0.01,
          concurrency: 1,
          cpuMillicores: '250m',
          memoryMiB: '512 MiB',
          slo: { latencySeconds: 0.05, percentile: 0.99 },
          minInstances: 2,
          maxInstances: 150,
          priority: 30,
        },
      ],
    },
    'pools-health',
  ),
  resolve(import.meta.dirname, '../data/nab'),
);

const step = base.simulation.stepSeconds;
const t0 = base.startSeconds + base.simulation.warmupSeconds;
/** Evaluated step of the incident's start, and its length in steps. */
const failStep = 96;
const failSteps = 36;
/** Half a step in: the failure falls between two decisions. */
const failAt = t0 + failStep * step + step / 2;

const withIncidents = (incidents: Incident[]): Scenario => ({ ...base, incidents });
const run = async (s: Scenario, policies: PolicyName[]) => (await runScenario(s, { policies, engine: 'single-step' })).policies;
const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('a provider fails mid-replay (real traces)', async () => {
  const policies: PolicyName[] = ['predictive', 'reactive'];
  const healthy = await run(base, policies);
  const failing = await run(withIncidents([{ provider: 'own-dc', startSeconds: failAt, endSeconds: failAt + failSteps * step, description: 'power loss' }]), policies);

  describe.each(policies.map((name, i) => [name, healthy[i], failing[i]] as [string, PolicyResult, PolicyResult]))('%s', (_name, ok, hit) => {
    it('used the failing provider before the failure (the case is not trivial)', () => {
      expect(ok.timeline.nodes['dc-general'][failStep]).toBeGreaterThan(0);
      expect(hit.timeline.nodes['dc-general'][failStep - 1]).toBeGreaterThan(0);
    });

    it('records the exclusion and the restoration', () => {
      const changes = hit.pools!.changes.filter((c) => c.pool === 'dc-general' && (c.action === 'exclude' || c.action === 'restore'));
      // Ticks are 15 s apart: the exclusion applies at the first tick at or after the incident's start.
      expect(changes.map((c) => [c.action, c.timeSeconds])).toEqual([
        ['exclude', failAt],
        ['restore', failAt + failSteps * step],
      ]);
      expect(changes[0].reason).toMatch(/excluded from plans: provider "own-dc" failing from .* \(power loss\)/);
    });

    it('its workloads leave within one decision interval (plus the new capacity\'s boot time)', () => {
      const evacuate = hit.pools!.changes.find((c) => c.pool === 'dc-general' && c.action === 'evacuate')!;
      // Next decision: the start of failStep + 1, half a step after the failure; aws nodes boot in 3 min; ticks are 15 s.
      const nextDecision = t0 + (failStep + 1) * step;
      expect(evacuate.timeSeconds).toBeGreaterThanOrEqual(failAt);
      expect(evacuate.timeSeconds).toBeLessThanOrEqual(nextDecision + 180 + 15);
    });

    it('within one decision interval no node is left there, and none comes back until the incident ends', () => {
      // The next decision is at the start of failStep + 1; replacements boot in 3 min, then the old nodes go.
      for (let e = failStep + 2; e < failStep + failSteps; e++) expect(hit.timeline.nodes['dc-general'][e]).toBe(0);
    });

    it('the workloads run elsewhere: instances and SLO attainment recover to the healthy run\'s', () => {
      for (const w of ['booking-api', 'edge-api']) {
        const span = (xs: readonly number[]) => xs.slice(failStep + 2, failStep + failSteps);
        for (const [e, n] of span(hit.timeline.instances[w]).entries()) expect(n).toBeGreaterThanOrEqual(hit.timeline.requiredInstances[w][failStep + 2 + e] - 1e-9);
        expect(mean(span(hit.timeline.sloAttainment[w]))).toBeGreaterThanOrEqual(mean(span(ok.timeline.sloAttainment[w])) - 0.005);
      }
    });

    it('the failure was felt before the plan moved (instances there stopped at once)', () => {
      const at = (p: PolicyResult) => p.timeline.instances['booking-api'][failStep];
      expect(at(hit)).toBeLessThan(at(ok));
    });

    it('the cheaper provider is used again after the incident', () => {
      const after = hit.timeline.nodes['dc-general'].slice(failStep + failSteps + 2);
      expect(Math.max(...after)).toBeGreaterThan(0);
    });
  });
});

describe('every provider fails (real traces)', async () => {
  const [predictive] = await run(
    withIncidents([
      { provider: 'own-dc', startSeconds: failAt, endSeconds: failAt + 12 * step },
      { provider: 'aws', startSeconds: failAt, endSeconds: failAt + 12 * step },
    ]),
    ['predictive'],
  );

  it('the run goes on; nothing runs while everything fails, and the shortfall says who lost what', () => {
    for (let e = failStep + 1; e < failStep + 12; e++) {
      expect(predictive.timeline.instances['booking-api'][e]).toBe(0);
      expect(predictive.timeline.instances['edge-api'][e]).toBe(0);
    }
    const lost = Object.fromEntries(predictive.pools!.throttled.map((t) => [t.workload, t]));
    expect(Object.keys(lost).sort()).toEqual(['booking-api', 'edge-api']);
    // The plans from the next decision until the outage ends place nothing: at least its 11 whole steps.
    for (const w of ['booking-api', 'edge-api']) expect(lost[w].hoursShort).toBeGreaterThanOrEqual((11 * step) / 3600);
    expect(predictive.pools!.changes.filter((c) => c.action === 'exclude').map((c) => c.pool).sort()).toEqual(['aws-general', 'dc-general']);
  });

  it('capacity comes back after the outage', () => {
    const after = predictive.timeline.instances['booking-api'].slice(failStep + 14);
    expect(Math.min(...after)).toBeGreaterThan(0);
  });
});
