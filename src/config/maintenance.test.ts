/**
 * The `maintenance:` section: the bundled example resolves to the settings it
 * states (stateful redis-cart from the real manifests), and every mistake gives
 * an error naming the key and the problem. Each case is the example with one edit.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { thrown } from '../../test/helpers.ts';
import { InvalidInputError } from '../core/errors.ts';
import { buildScenario, loadScenarioFile, validateScenario } from './load.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const EXAMPLE = resolve(ROOT, 'examples/maintenance.yaml');
const raw = () => parse(readFileSync(EXAMPLE, 'utf8')) as Record<string, any>;
const build = (edit: (doc: Record<string, any>) => void) => {
  const doc = raw();
  edit(doc);
  return buildScenario(validateScenario(doc, 'maintenance.yaml'), resolve(ROOT, 'examples'), 'maintenance.yaml');
};

describe('examples/maintenance.yaml', () => {
  const s = loadScenarioFile(EXAMPLE);
  const m = s.maintenance!;

  it('resolves the change, candidates, gate and budgets', () => {
    expect(m.change).toEqual({ kind: 'maintenance', scope: 'pool', name: 'a-general', pools: ['a-general'], durationSeconds: 4 * 3600 });
    // Candidates from the first evaluated step (7 days after the trace starts on 2014-04-10), hourly for 7 days.
    expect(m.fromSeconds).toBe(s.startSeconds + 7 * 86400);
    expect(new Date(m.fromSeconds * 1000).toISOString()).toBe('2014-04-17T00:00:00.000Z');
    expect([m.everySeconds, m.withinSeconds]).toEqual([3600, 7 * 86400]);
    expect(m.targetPools).toEqual(['b-general']);
    expect(m.gate).toEqual({ minSloAttainment: 0.99, soakSeconds: 300 });
    expect(m.services.frontend).toEqual({ budget: { maxUnavailable: { instances: 0 }, maxSurge: { percent: 25 } }, stateful: false, dataMiB: 1024 });
    // redis-cart is stateful from the manifests (a Redis image), with its own surge and data size.
    expect(m.services['redis-cart']).toEqual({ budget: { maxUnavailable: { instances: 0 }, maxSurge: { instances: 1 } }, stateful: true, dataMiB: 200 });
    expect(Object.keys(m.services)).toHaveLength(11);
    expect(m.cutoverPauseSeconds).toBe(30);
  });

  it('leaves scenarios without maintenance: as they were', () => {
    const plain = loadScenarioFile(resolve(ROOT, 'examples/online-boutique.yaml'));
    expect('maintenance' in plain).toBe(false);
  });

  it('defaults the targets to the pools the change leaves up, same provider first, then cheapest per vCPU', () => {
    const s2 = build((d) => {
      delete d.maintenance.targetPools;
      d.pools.push({ ...d.pools[1], name: 'c-other', provider: 'partner', costPerHour: 0.01 });
      d.providers.push({ name: 'partner', kind: 'partner' });
    });
    expect(s2.maintenance!.targetPools).toEqual(['b-general', 'c-other']);
  });
});

describe('maintenance: errors name the key and the problem', () => {
  const cases: [string, (d: Record<string, any>) => void, string][] = [
    ['unknown pool', (d) => (d.maintenance.change.pool = 'z-pool'), 'maintenance.change.pool: unknown pool "z-pool" (pools with pools: a-general, b-general)'],
    ['two scopes', (d) => (d.maintenance.change.zone = 'us-central1-a'), 'name exactly one of pool, zone or provider that the change affects (got pool and zone)'],
    ['unknown zone', (d) => { delete d.maintenance.change.pool; d.maintenance.change.zone = 'mars-1'; }, 'maintenance.change.zone: unknown zone "mars-1" (zones with pools: us-central1-a, us-central1-b)'],
    ['window longer than the span', (d) => (d.maintenance.change.duration = '8d'), 'maintenance.change.duration: the window (192 h) is longer than the span of candidate starts (candidates.within = 168 h)'],
    ['span past the traces', (d) => (d.maintenance.candidates.from = '2014-04-18'), 'maintenance.candidates.within: candidates run to 2014-04-25T00:00:00.000Z, past the end of the traces (2014-04-24T00:00:00.000Z)'],
    ['no history', (d) => (d.maintenance.candidates.from = '2014-04-01'), 'maintenance.candidates.from: 2014-04-01T00:00:00.000Z leaves no history to forecast from'],
    ['missing duration', (d) => delete d.maintenance.change.duration, 'maintenance.change.duration: a maintenance needs a duration'],
    ['decommission with a duration', (d) => (d.maintenance.change.kind = 'decommission'), 'a decommission lasts to the end of the horizon: leave out duration'],
    ['price change without a factor', (d) => (d.maintenance.change.kind = 'priceChange'), 'a price change needs priceFactor'],
    ['target the change takes down', (d) => (d.maintenance.targetPools = ['a-general']), 'maintenance.targetPools[0]: pool "a-general" is one the change takes down'],
    ['unknown target', (d) => (d.maintenance.targetPools = ['b-genral']), 'maintenance.targetPools[0]: unknown pool "b-genral"'],
    ['unknown service', (d) => (d.maintenance.services.cartservise = { maxSurge: 1 }), 'maintenance.services.cartservise: unknown service "cartservise"'],
    ['no budget at all', (d) => (d.maintenance.budget = { maxUnavailable: 0, maxSurge: 0 }), 'maintenance.budget: service "frontend": maxUnavailable and maxSurge are both 0, so no instance could ever move'],
    ['stateful without surge', (d) => (d.maintenance.services['redis-cart'] = { maxSurge: 0, maxUnavailable: 1 }), 'service "redis-cart" is stateful: it moves by copy then cutover, which runs the copy beside the original, so maxSurge must be at least 1'],
    ['unknown initial pool', (d) => (d.maintenance.initialPools = { frontend: 'x' }), 'maintenance.initialPools.frontend: unknown pool "x"'],
  ];
  it.each(cases)('%s', (_label, edit, message) => {
    const e = thrown(() => build(edit));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toContain(message);
  });

  it('rejects unknown keys and bad budget amounts through the schema', () => {
    expect(thrown(() => build((d) => (d.maintenance.gate.soke = '5m'))).message).toContain('maintenance.gate: unknown key "soke"');
    expect(thrown(() => build((d) => (d.maintenance.budget.maxSurge = '25 percent'))).message).toContain('maintenance.budget.maxSurge');
  });
});
