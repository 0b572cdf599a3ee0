/** The scenario's optional `events:` list: validation, yearly expansion, per-workload scoping. */
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildScenario, loadScenarioFile, validateScenario } from './load.ts';
import { thrown, tempDir } from '../../test/helpers.ts';

/** A one-workload scenario on inline hourly demand starting 2014-12-20, 10 days. */
function scenario(events: unknown): unknown {
  return {
    name: 'calendar',
    simulation: { stepSeconds: '1h', warmupSeconds: '2d', decisionIntervalSeconds: '1h', tickSeconds: '1h' },
    pools: [{ name: 'p', cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 1 }],
    workloads: [
      {
        name: 'api',
        demand: { inline: { start: '2014-12-20 00:00:00', stepSeconds: 3600, values: Array.from({ length: 240 }, () => 10) } },
        serviceTimeSeconds: 0.1,
        cpuMillicores: 500,
        memoryMiB: 512,
        slo: { maxUtilization: 0.7 },
      },
    ],
    ...(events === undefined ? {} : { events }),
  };
}

const build = (events: unknown) => buildScenario(validateScenario(scenario(events), 'test'), '.', 'test');

describe('scenario events', () => {
  it('is optional: no key, no events', () => {
    expect(build(undefined).events).toBeUndefined();
  });

  it('parses timestamps, keeps multipliers and expands yearly events over the grid', () => {
    const s = build([
      { name: 'christmas', start: '2013-12-25', end: '2013-12-26', multiplier: 0.6, recurrence: 'yearly' },
      { name: 'sale', start: '2014-12-27 08:00:00', end: 1419724800, workloads: ['api'] },
    ]);
    expect(s.events).toEqual([
      { name: 'christmas', startSeconds: Date.UTC(2014, 11, 25) / 1000, endSeconds: Date.UTC(2014, 11, 26) / 1000, expectedMultiplier: 0.6 },
      { name: 'sale', startSeconds: Date.UTC(2014, 11, 27, 8) / 1000, endSeconds: 1419724800, workloads: ['api'] },
    ]);
  });

  it('rejects an end before the start and an unknown workload, naming the entry', () => {
    const e1 = thrown(() => build([{ name: 'x', start: '2014-12-26', end: '2014-12-25' }]));
    expect(e1).toBeInstanceOf(InvalidInputError);
    expect(e1.message).toMatch(/events\.0\.end|events\[0\]\.end/);
    const e2 = thrown(() => build([{ name: 'x', start: '2014-12-25', end: '2014-12-26', workloads: ['nope'] }]));
    expect(e2.message).toMatch(/events\[0\]\.workloads.*"nope"/);
    const e3 = thrown(() => build([{ name: 'x', start: 'tomorrow', end: '2014-12-26' }]));
    expect(e3.message).toMatch(/"tomorrow" is not a timestamp/);
  });
});

describe('scenario events from YAML (the documented form)', () => {
  it('reads unquoted dates, quoted date-times and per-workload scoping', () => {
    const values = Array.from({ length: 240 }, () => 10).join(', ');
    const yaml = `name: calendar
simulation: { stepSeconds: 1h, warmupSeconds: 2d, decisionIntervalSeconds: 1h, tickSeconds: 1h }
pools: [{ name: p, cpuMillicores: 4000, memoryMiB: 8192, costPerHour: 1 }]
workloads:
  - name: shop
    demand: { inline: { start: "2014-12-20 00:00:00", stepSeconds: 3600, values: [${values}] } }
    serviceTimeSeconds: 0.1
    cpuMillicores: 500
    memoryMiB: 512
    slo: { maxUtilization: 0.7 }
events:
  - name: christmas
    start: 2014-12-25
    end: 2014-12-26
    multiplier: 0.6
    recurrence: yearly
  - name: spring-sale
    start: "2014-12-28 08:00:00"
    end: "2014-12-28 20:00:00"
    multiplier: 2.5
    workloads: [shop]
`;
    const dir = tempDir('events');
    writeFileSync(join(dir, 'scenario.yaml'), yaml);
    const s = loadScenarioFile(join(dir, 'scenario.yaml'));
    expect(s.events).toEqual([
      { name: 'christmas', startSeconds: Date.UTC(2014, 11, 25) / 1000, endSeconds: Date.UTC(2014, 11, 26) / 1000, expectedMultiplier: 0.6 },
      { name: 'spring-sale', startSeconds: Date.UTC(2014, 11, 28, 8) / 1000, endSeconds: Date.UTC(2014, 11, 28, 20) / 1000, expectedMultiplier: 2.5, workloads: ['shop'] },
    ]);
  });
});
