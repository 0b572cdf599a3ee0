/**
 * Loading scenario files: a small valid scenario written here (so every
 * derived number can be worked out by hand), each kind of bad input made from
 * it by one edit, and the bundled demo.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { checkScenario } from '../capacity/scenarioChecks.ts';
import { InfeasibleError, InvalidInputError, isUserError } from '../core/errors.ts';
import type { Scenario } from '../core/model.ts';
import { buildScenario, loadScenarioFile, validateScenario } from './load.ts';
import { thrown, tempDir } from '../../test/helpers.ts';

/**
 * Two workloads, two pools:
 * - api: inline demand in requests per 5-minute step, 600..3000 -> 2, 4, 6, 8, 10 requests/s.
 * - web: web.csv, one sample a minute, value 60·i requests per minute (i = 0..24),
 *   so i requests/s, times scale 2 = 2i; each 5-minute bucket k averages
 *   i = 5k..5k+4, i.e. 2·(5k + 2) = 4, 14, 24, 34, 44.
 * Both traces cover 5 steps (25 minutes): 2 of warm-up (10m), 3 evaluated (15m).
 */
const VALID = `name: tiny
description: two workloads, two pools
simulation:
  stepSeconds: 5m
  warmupSeconds: 10m
  durationSeconds: 15m
  decisionIntervalSeconds: 5m
providers:
  - name: aws
pools:
  - name: small
    provider: aws
    cpuMillicores: 2000
    memoryMiB: 4096
    costPerHour: 0.1
  - name: large
    provider: aws
    nodeType: big.node
    cpuMillicores: 8000
    memoryMiB: 32768
    costPerHour: 0.5
    provisioningDelaySeconds: 4m
    tags: [pci]
workloads:
  - name: api
    demand:
      inline:
        stepSeconds: 5m
        values: [600, 1200, 1800, 2400, 3000]
      unit: requestsPerStep
    serviceTimeSeconds: 0.1
    cpuMillicores: 500
    memoryMiB: 512
    slo: { latencySeconds: 0.5, percentile: 0.99 }
  - name: web
    demand:
      csv: web.csv
      unit: requestsPerStep
      scale: 2
    throughputPerInstanceRps: 50
    concurrency: 4
    cpuMillicores: 1000
    memoryMiB: 2048
    slo: { maxUtilization: 0.7 }
    tags: [pci]
`;

const WEB_CSV = ['timestamp,value', ...Array.from({ length: 25 }, (_, i) => `2024-01-01 00:${String(i).padStart(2, '0')}:00,${60 * i}`)].join('\n') + '\n';

let dir: string;
beforeEach(() => {
  dir = tempDir('load');
  writeFileSync(join(dir, 'web.csv'), WEB_CSV);
});

/** Write `yaml` as scenario.yaml in the temp dir; returns its path. */
function write(yaml: string, name = 'scenario.yaml'): string {
  const path = join(dir, name);
  writeFileSync(path, yaml);
  return path;
}

/** VALID with `from` replaced by `to` (which must be there exactly once). */
function edit(from: string, to: string): string {
  expect(VALID.split(from)).toHaveLength(2);
  return VALID.replace(from, to);
}

/** 1-based line of the first line of `yaml` containing `text`. */
function lineOf(yaml: string, text: string): number {
  const i = yaml.split('\n').findIndex((l) => l.includes(text));
  expect(i).toBeGreaterThanOrEqual(0);
  return i + 1;
}


/** Load `yaml`; expect an InvalidInputError (a user error) and return its message. */
function loadError(yaml: string): string {
  const path = write(yaml);
  const e = thrown(() => loadScenarioFile(path));
  expect(e).toBeInstanceOf(InvalidInputError);
  expect(isUserError(e)).toBe(true);
  return e.message;
}

/** Load `yaml` (it must load), then expect checkScenario to reject it. */
function infeasible(yaml: string): InfeasibleError {
  const scenario = loadScenarioFile(write(yaml));
  const e = thrown(() => checkScenario(scenario));
  expect(e).toBeInstanceOf(InfeasibleError);
  expect(isUserError(e)).toBe(true);
  return e as InfeasibleError;
}

describe('a valid scenario', () => {
  let s: Scenario;
  beforeEach(() => {
    s = loadScenarioFile(write(VALID));
  });

  it('parses durations and fills defaults in the simulation settings', () => {
    expect(s.name).toBe('tiny');
    expect(s.baseDir).toBe(resolve(dir));
    expect(s.simulation).toEqual({
      stepSeconds: 300,
      warmupSeconds: 600,
      durationSeconds: 900,
      horizonSeconds: 3600, // default
      decisionIntervalSeconds: 300,
      tickSeconds: 15, // default
    });
    expect(s.startSeconds).toBe(0); // inline demand without a start begins at epoch 0
  });

  it('converts inline requests per step to requests per second', () => {
    const api = s.workloads[0];
    expect(api.demand).toEqual({ startSeconds: 0, stepSeconds: 300, values: [2, 4, 6, 8, 10] });
  });

  it('converts a per-minute CSV to requests per second, scales it, aligns it to the start and averages it onto 5-minute steps', () => {
    const web = s.workloads[1];
    expect(web.demand.startSeconds).toBe(0);
    expect(web.demand.stepSeconds).toBe(300);
    expect(web.demand.values).toEqual([4, 14, 24, 34, 44]);
  });

  it('derives the service model, resources, SLO and defaults of each workload', () => {
    const [api, web] = s.workloads;
    expect(api.service).toEqual({ serviceTimeSeconds: 0.1, concurrency: 1 });
    expect(api.slo).toEqual({ kind: 'latency', targetSeconds: 0.5, percentile: 0.99 });
    expect(api.perInstance).toEqual({ cpuMillicores: 500, memoryMiB: 512 });
    expect([api.minInstances, api.maxInstances, api.priority, api.sizingQuantile]).toEqual([1, 1000, 0, 0.95]);
    // serviceTime = concurrency / throughput = 4 / 50 s.
    expect(web.service).toEqual({ serviceTimeSeconds: 0.08, concurrency: 4 });
    expect(web.slo).toEqual({ kind: 'utilization', maxUtilization: 0.7 });
    expect(web.tags).toEqual(['pci']);
  });

  it('reads pools with their defaults, and passes checkScenario', () => {
    const [small, large] = s.pools;
    expect(small).toMatchObject({ name: 'small', provider: 'aws', zone: 'default', provisioningDelaySeconds: 180, minNodes: 0, maxNodes: 1000, tags: [] });
    expect(small.nodeType).toEqual({ name: 'node', capacity: { cpuMillicores: 2000, memoryMiB: 4096 } });
    expect(large).toMatchObject({ name: 'large', costPerHour: 0.5, provisioningDelaySeconds: 240, tags: ['pci'] });
    expect(large.nodeType.name).toBe('big.node');
    expect(() => checkScenario(s)).not.toThrow();
  });

  it('evaluates the rest of the traces when durationSeconds is left out', () => {
    const t = loadScenarioFile(write(edit('  durationSeconds: 15m\n', '')));
    expect(t.simulation.durationSeconds).toBe(900); // 5 steps covered - 2 of warm-up = 3
  });

  it('validateScenario + buildScenario resolve a relative CSV against the base directory', () => {
    const file = validateScenario(
      {
        name: 'obj',
        simulation: { stepSeconds: 300, warmupSeconds: 0 },
        pools: [{ name: 'p', cpuMillicores: 1000, memoryMiB: 1024, costPerHour: 1 }],
        workloads: [{ name: 'web', demand: { csv: 'web.csv' }, serviceTimeSeconds: 0.1, cpuMillicores: 100, memoryMiB: 100, slo: { maxUtilization: 0.5 } }],
      },
      'object',
    );
    // requestsPerSecond (the default): bucket k averages 60·(5k..5k+4) = 60·(5k+2).
    expect(buildScenario(file, dir).workloads[0].demand.values).toEqual([120, 420, 720, 1020, 1320]);
  });
});

describe('bad scenarios: the error names the problem and where it is', () => {
  it('a missing scenario file', () => {
    const path = join(dir, 'absent.yaml');
    const e = thrown(() => loadScenarioFile(path));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toBe(`${path}: scenario file not found`);
  });

  it('a missing CSV names its resolved path', () => {
    expect(loadError(edit('csv: web.csv', 'csv: traces/absent.csv'))).toBe(`${join(dir, 'traces/absent.csv')}: file not found`);
  });

  it('a typo in a workload key names the key, its path and its line; the missing key the line of its workload', () => {
    const yaml = edit('    cpuMillicores: 500\n', '    cpuMilicores: 500\n');
    const message = loadError(yaml);
    expect(message).toContain(`${join(dir, 'scenario.yaml')}: invalid scenario:`);
    expect(message).toContain(`line ${lineOf(yaml, 'cpuMilicores:')}: workloads[0]: unknown key "cpuMilicores"`);
    // The correctly spelled key is then missing, and is reported too.
    expect(message).toContain(`line ${lineOf(yaml, '- name: api')}: workloads[0].cpuMillicores: is required`);
  });

  it('a typo inside an SLO names the slo and its line', () => {
    const yaml = edit('percentile: 0.99', 'percentil: 0.99');
    expect(loadError(yaml)).toContain(`line ${lineOf(yaml, 'percentil:')}: workloads[0].slo: unknown key "percentil"`);
  });

  it('a typo in the simulation block names the line of the misspelt key', () => {
    const yaml = edit('  warmupSeconds: 10m', '  warmupSecs: 10m');
    expect(loadError(yaml)).toContain(`line ${lineOf(yaml, '  warmupSecs:')}: simulation: unknown key "warmupSecs"`);
  });

  it('a workload naming a pool: workloads cannot pick pools (only tags), so "pool" is an unknown key', () => {
    const yaml = edit('    serviceTimeSeconds: 0.1\n', '    serviceTimeSeconds: 0.1\n    pool: gpu\n');
    expect(loadError(yaml)).toContain(`line ${lineOf(yaml, '    pool: gpu')}: workloads[0]: unknown key "pool"`);
  });

  it('NaN in inline demand', () => {
    const yaml = edit('[600, 1200,', '[600, .nan,');
    expect(loadError(yaml)).toContain(`line ${lineOf(yaml, 'inline:')}: workloads[0].demand: inline.values[1]: Expected number, received nan`);
  });

  it('NaN in a CSV names the file and line', () => {
    writeFileSync(join(dir, 'web.csv'), WEB_CSV.replace('2024-01-01 00:01:00,60\n', '2024-01-01 00:01:00,NaN\n'));
    expect(loadError(VALID)).toBe(`${join(dir, 'web.csv')}:3: column "value": "NaN" is not a finite number`);
  });

  it('negative inline demand names the value', () => {
    const yaml = edit('[600, 1200,', '[600, -1200,');
    expect(loadError(yaml)).toContain(`line ${lineOf(yaml, 'values:')}: workloads[0].demand.inline.values[1]: demand cannot be negative`);
  });

  it('negative demand in a CSV names the file and line', () => {
    writeFileSync(join(dir, 'web.csv'), WEB_CSV.replace('2024-01-01 00:24:00,1440\n', '2024-01-01 00:24:00,-1440\n'));
    expect(loadError(VALID)).toBe(`${join(dir, 'web.csv')}:26: column "value": demand cannot be negative (-1440)`);
  });

  it('a pool naming an unknown provider', () => {
    expect(loadError(edit('    provider: aws\n    cpuMillicores: 2000', '    provider: gcp\n    cpuMillicores: 2000'))).toBe(
      `${join(dir, 'scenario.yaml')}: pools[0].provider: pool "small" names provider "gcp", which is not in providers (aws)`,
    );
  });

  it('a workload naming an unknown account', () => {
    expect(loadError(edit('    serviceTimeSeconds: 0.1\n', '    serviceTimeSeconds: 0.1\n    account: team-x\n'))).toBe(
      `${join(dir, 'scenario.yaml')}: workloads[0].account: workload "api" names account "team-x", which is not in accounts`,
    );
  });

  it('a dependency on an unknown workload', () => {
    expect(loadError(VALID + 'dependencies:\n  - { from: api, to: db, callsPerRequest: 2 }\n')).toBe(
      `${join(dir, 'scenario.yaml')}: dependencies[0]: edge api -> db names unknown workload "db"`,
    );
  });

  it('two workloads with one name', () => {
    expect(loadError(edit('  - name: web', '  - name: api'))).toBe(`${join(dir, 'scenario.yaml')}: two workloads are named "api"`);
  });

  it('a duration that is not one', () => {
    const yaml = edit('simulation:\n  stepSeconds: 5m\n', 'simulation:\n  stepSeconds: 5 minutes\n');
    expect(loadError(yaml)).toContain(`line ${lineOf(yaml, 'stepSeconds: 5 minutes')}: simulation.stepSeconds: "5 minutes" is not a duration`);
  });

  it('a decision interval that is not a multiple of the step', () => {
    expect(loadError(edit('decisionIntervalSeconds: 5m', 'decisionIntervalSeconds: 7m'))).toBe(
      `${join(dir, 'scenario.yaml')}: simulation.decisionIntervalSeconds: must be a multiple of stepSeconds (300)`,
    );
  });

  it('a duration longer than the traces cover after warm-up', () => {
    expect(loadError(edit('durationSeconds: 15m', 'durationSeconds: 20m'))).toBe(
      `${join(dir, 'scenario.yaml')}: simulation.durationSeconds: asks for 4 steps after warm-up but the traces cover only 3`,
    );
  });

  it('a warm-up as long as the traces', () => {
    // 5 steps · 300 s = 1500 s = 0.017 days.
    expect(loadError(edit('warmupSeconds: 10m', 'warmupSeconds: 1d'))).toBe(
      `${join(dir, 'scenario.yaml')}: simulation.warmupSeconds: the traces cover 0.02 days together, not more than the warm-up of 1.00 days`,
    );
  });

  it.each([
    ['an unclosed flow sequence', 'name: tiny\n', 'name: [tiny\n', 2, 1],
    ['a duplicate key', '  warmupSeconds: 10m\n', '  warmupSeconds: 10m\n  warmupSeconds: 1h\n', 6, 3],
    ['a tab in the indentation', '  durationSeconds: 15m\n', '\tdurationSeconds: 15m\n', 6, 1],
  ])('malformed YAML: %s, with line and column', (_label, from, to, line, col) => {
    const message = loadError(edit(from, to));
    expect(message.startsWith(`${join(dir, 'scenario.yaml')}:${line}:${col}: malformed YAML: `)).toBe(true);
    // One line, not ending in a dangling "at line L, column C:".
    expect(message).not.toContain('\n');
    expect(message).not.toMatch(/at line \d+, column \d+:?$/);
  });

  it('validateScenario without a file reports paths but no line numbers', () => {
    const e = thrown(() => validateScenario({ name: 'x' }, 'object'));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e.message).toBe('object: invalid scenario:\n  workloads: is required\n  pools: is required');
  });
});

describe('scenarios that load but cannot be served (checkScenario)', () => {
  it('an SLO no instance count can meet', () => {
    // p99 of an exponential service time of mean 0.1 s: 0.1·ln(100) = 0.461 s, above the 0.4 s target.
    const e = infeasible(edit('latencySeconds: 0.5', 'latencySeconds: 0.4'));
    expect(e.message).toMatch(/^scenario "tiny" cannot be served:\n {2}- /);
    expect(e.conflicts).toHaveLength(1);
    expect(e.conflicts[0]).toContain("workload 'api' slo");
    expect(e.conflicts[0]).toContain('p99 latency target 0.4 s is below the p99 of the service time alone (0.461 s');
    expect(e.conflicts[0]).toContain('no instance count can meet it');
  });

  it('a workload whose instance is larger than every node it may use', () => {
    // web needs pci, which only "large" (8000m, 32768 MiB) offers.
    const e = infeasible(edit('    cpuMillicores: 1000\n', '    cpuMillicores: 16000\n'));
    expect(e.conflicts).toEqual(['workload "web" needs 16000m CPU and 2048 MiB per instance; no node is that big: large (8000m, 32768 MiB)']);
  });

  it('a tag no pool offers', () => {
    const e = infeasible(edit('0.7 }\n    tags: [pci]\n', '0.7 }\n    tags: [pci, hipaa]\n'));
    expect(e.conflicts).toEqual(['workload "web" needs tag(s) pci, hipaa: no pool offers them']);
  });

  it('more minimum instances than the pools\' quotas hold', () => {
    // large holds min(8000/1000, 32768/2048) = 8 web instances per node, 2 nodes -> 16.
    const yaml = edit('0.7 }\n    tags: [pci]\n', '0.7 }\n    tags: [pci]\n    minInstances: 17\n').replace('4m\n    tags: [pci]\n', '4m\n    maxNodes: 2\n    tags: [pci]\n');
    const e = infeasible(yaml);
    expect(e.conflicts).toEqual(['workload "web" needs at least 17 instances; its pools\' quotas hold at most 16']);
  });

  it('reports every problem at once', () => {
    const yaml = edit('latencySeconds: 0.5', 'latencySeconds: 0.4').replace('    cpuMillicores: 1000\n', '    cpuMillicores: 16000\n');
    const e = infeasible(yaml);
    expect(e.conflicts).toHaveLength(2);
    expect(e.conflicts[0]).toContain("workload 'api'");
    expect(e.conflicts[1]).toContain('workload "web"');
  });
});

describe('the bundled demo scenario', () => {
  const demo = loadScenarioFile(resolve(import.meta.dirname, '../../examples/demo.yaml'));

  it('has three workloads and three pools', () => {
    expect(demo.workloads.map((w) => w.name)).toEqual(['booking-api', 'social-ingest', 'mobile-api']);
    expect(demo.pools.map((p) => p.name)).toEqual(['general', 'compute', 'memory']);
    expect(() => checkScenario(demo)).not.toThrow();
  });

  it('puts every demand series on 5-minute steps: 7 days of warm-up plus 7 evaluated = 4032 steps', () => {
    expect(demo.simulation.stepSeconds).toBe(300);
    expect(demo.simulation.warmupSeconds).toBe(7 * 86400);
    expect(demo.simulation.durationSeconds).toBe(7 * 86400);
    for (const w of demo.workloads) {
      expect(w.demand.stepSeconds, w.name).toBe(300);
      expect(w.demand.startSeconds, w.name).toBe(demo.startSeconds);
      expect(w.demand.values, w.name).toHaveLength(4032);
    }
  });

  it('turns the half-hourly taxi counts into requests per second, interpolated onto 5-minute steps', () => {
    // 14618 and 12908 passengers per 1800 s, 300 requests each: 14618/6 and 12908/6 requests/s,
    // at steps 0 and 6; step 3 is halfway between.
    const v = demo.workloads[0].demand.values;
    expect(demo.startSeconds).toBe(1_409_529_600); // 2014-09-01 00:00:00 UTC
    expect(v[0]).toBeCloseTo(14618 / 6, 9);
    expect(v[6]).toBeCloseTo(12908 / 6, 9);
    expect(v[3]).toBeCloseTo((14618 + 12908) / 12, 9);
  });
});
