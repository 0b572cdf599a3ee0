/**
 * Scenarios with a `graph:` section: the bundled Online Boutique example
 * (real manifests, real front-door trace) and small scenarios written here,
 * one edit each, for the rules and their errors.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkScenario } from '../capacity/scenarioChecks.ts';
import { InvalidInputError } from '../core/errors.ts';
import { thrown, tempDir } from '../../test/helpers.ts';
import { loadScenarioFile } from './load.ts';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

describe('examples/online-boutique.yaml', () => {
  const s = loadScenarioFile(resolve(ROOT, 'examples/online-boutique.yaml'));
  const by = new Map(s.workloads.map((w) => [w.name, w]));
  const frontend = by.get('frontend')!.demand.values;

  it('sizes the 11 serving services (not the load generator) from the one frontend trace', () => {
    expect(s.workloads.map((w) => w.name)).toEqual([
      'frontend',
      'adservice',
      'recommendationservice',
      'checkoutservice',
      'currencyservice',
      'cartservice',
      'redis-cart',
      'emailservice',
      'paymentservice',
      'shippingservice',
      'productcatalogservice',
    ]);
    expect(s.graph!.entry).toEqual(['frontend']);
    expect(s.graph!.services.find((x) => x.name === 'loadgenerator')).toMatchObject({ sized: false, client: true });
    expect(s.dependencies).toHaveLength(16);
    expect(() => checkScenario(s)).not.toThrow();
  });

  it('gives every service its demand per frontend request (the derivation table) at every step', () => {
    const perRequest: Record<string, number> = {
      currencyservice: 91 / 28,
      productcatalogservice: 160 / 28,
      cartservice: 27 / 28,
      'redis-cart': 30 / 28,
      adservice: 16 / 28,
      recommendationservice: 20 / 28,
      shippingservice: 8 / 28,
      checkoutservice: 1 / 28,
      paymentservice: 1 / 28,
      emailservice: 1 / 28,
    };
    expect(frontend.length).toBe((10 * 86400) / 300);
    for (const [name, k] of Object.entries(perRequest)) {
      const d = by.get(name)!.demand;
      expect(d.startSeconds).toBe(by.get('frontend')!.demand.startSeconds);
      d.values.forEach((v, i) => expect(v, `${name} step ${i}`).toBeCloseTo(frontend[i] * k, 9));
    }
  });

  it('takes CPU and memory from the manifests, the rest from the defaults and per-service options', () => {
    expect(by.get('adservice')!.perInstance).toEqual({ cpuMillicores: 200, memoryMiB: 180 });
    expect(by.get('recommendationservice')!.perInstance).toEqual({ cpuMillicores: 100, memoryMiB: 220 });
    expect(by.get('redis-cart')!).toMatchObject({
      perInstance: { cpuMillicores: 70, memoryMiB: 200 },
      service: { serviceTimeSeconds: 0.0001, concurrency: 1 },
      slo: { kind: 'utilization', maxUtilization: 0.7 },
      maxInstances: 1,
      priority: 100,
    });
    expect(by.get('currencyservice')!).toMatchObject({ service: { serviceTimeSeconds: 0.01, concurrency: 1 }, slo: { kind: 'latency', targetSeconds: 0.1, percentile: 0.99 }, priority: 50, maxInstances: 500 });
    expect(s.graph!.services.filter((x) => x.stateful).map((x) => x.name)).toEqual(['redis-cart']);
  });
});

/**
 * A three-service graph without manifests: web (trace 10, 20, 30, 40 rps) → api ×2 → db ×3, plus a separate
 * batch workload. Without manifests every service is declared, in workloads or graph.services, so a typo in an
 * edge is an unknown service rather than a new one.
 */
const BASE = `name: g
simulation: { stepSeconds: 1m, warmupSeconds: 2m, durationSeconds: 2m, decisionIntervalSeconds: 1m, tickSeconds: 15s }
pools:
  - { name: p, cpuMillicores: 4000, memoryMiB: 16384, costPerHour: 0.2 }
workloads:
  - name: web
    demand: { inline: { stepSeconds: 1m, values: [10, 20, 30, 40] } }
    serviceTimeSeconds: 0.01
    cpuMillicores: 500
    memoryMiB: 512
    slo: { maxUtilization: 0.8 }
  - name: batch
    demand: { inline: { stepSeconds: 1m, values: [1, 1, 1, 1] } }
    serviceTimeSeconds: 0.01
    cpuMillicores: 500
    memoryMiB: 512
    slo: { maxUtilization: 0.8 }
dependencies:
  - { from: web, to: api, callsPerRequest: 2 }
  - { from: api, to: db, callsPerRequest: 3, bytesPerCall: 512 }
`;
const GRAPH = `graph:
  entry: web
  workloadDefaults: { serviceTimeSeconds: 0.005, slo: { maxUtilization: 0.7 }, cpuMillicores: 250, memoryMiB: 256 }
  services:
    api: {}
    db: { memoryMiB: 4096, maxInstances: 3 }
`;

let dir: string;
beforeEach(() => {
  dir = tempDir('graph');
});
const load = (yaml: string) => {
  const path = join(dir, 'scenario.yaml');
  writeFileSync(path, yaml);
  return loadScenarioFile(path);
};
const loadError = (yaml: string) => {
  const e = thrown(() => load(yaml));
  expect(e).toBeInstanceOf(InvalidInputError);
  return e.message.replaceAll(join(dir, 'scenario.yaml'), 'scenario.yaml');
};

describe('a graph from manifests', () => {
  const example = readFileSync(resolve(ROOT, 'examples/online-boutique.yaml'), 'utf8')
    .replace('../data/nab/', `${ROOT}/data/nab/`)
    .replace('../data/online-boutique/', `${ROOT}/data/online-boutique/`);

  it('names a misspelt service and a misspelt exclusion', () => {
    expect(loadError(example.replace('    checkoutservice:\n', '    checkoutservise:\n'))).toMatch(
      /^scenario\.yaml: graph\.services\.checkoutservise: "checkoutservise" is not a service of the graph \(services: frontend, adservice, /,
    );
    expect(loadError(example.replace('  ratios: online-boutique', '  ratios: online-boutique\n  exclude: [emailsvc]'))).toMatch(/^scenario\.yaml: graph\.exclude: "emailsvc" is not a service of the graph/);
  });

  it('a workload the manifests lack joins the graph, here as a second entry point', () => {
    const search = `  - name: search
    demand: { csv: ${ROOT}/data/nab/elb_request_count_8c0756.csv, unit: requestsPerStep, scale: 10 }
    serviceTimeSeconds: 0.01
    cpuMillicores: 200
    memoryMiB: 256
    slo: { maxUtilization: 0.7 }
`;
    const s = load(
      example
        .replace('graph:\n', `${search}dependencies:\n  - { from: search, to: productcatalogservice, callsPerRequest: 2 }\ngraph:\n`)
        .replace('  entry: frontend', '  entry: [frontend, search]'),
    );
    const by = new Map(s.workloads.map((w) => [w.name, w.demand.values]));
    expect(s.workloads.slice(0, 2).map((w) => w.name)).toEqual(['frontend', 'search']);
    // search's trace is the frontend's divided by 50 (scale 10 vs 500).
    by.get('productcatalogservice')!.forEach((v, i) => expect(v).toBeCloseTo((by.get('frontend')![i] * 160) / 28 + 2 * by.get('search')![i], 9));
    expect(by.get('search')![100]).toBeCloseTo(by.get('frontend')![100] / 50, 9);
    expect(s.graph!.services.map((x) => x.name)).toContain('search');
  });

  it('declared dependencies override the derived ratios', () => {
    const s = load(example.replace('graph:\n', 'dependencies:\n  - { from: frontend, to: adservice, callsPerRequest: 1 }\ngraph:\n'));
    const frontend = s.workloads[0].demand.values;
    s.workloads.find((w) => w.name === 'adservice')!.demand.values.forEach((v, i) => expect(v).toBeCloseTo(frontend[i], 9));
    expect(s.dependencies.find((e) => e.from === 'frontend' && e.to === 'adservice')!.callsPerRequest).toBe(1);
  });
});

describe('a graph declared with dependencies', () => {
  it('generates the called services, propagating the trace step by step', () => {
    const s = load(BASE + GRAPH);
    expect(s.workloads.map((w) => [w.name, w.demand.values])).toEqual([
      ['web', [10, 20, 30, 40]],
      ['batch', [1, 1, 1, 1]],
      ['api', [20, 40, 60, 80]],
      ['db', [60, 120, 180, 240]],
    ]);
    const db = s.workloads[3];
    expect(db).toMatchObject({ perInstance: { cpuMillicores: 250, memoryMiB: 4096 }, maxInstances: 3, minInstances: 1, sizingQuantile: 0.95 });
    expect(s.dependencies).toEqual([
      { from: 'web', to: 'api', callsPerRequest: 2 },
      { from: 'api', to: 'db', callsPerRequest: 3, bytesPerCall: 512 },
    ]);
    expect(s.graph).toEqual({
      entry: ['web'],
      source: 'dependencies',
      services: [
        { name: 'web', sized: true },
        { name: 'batch', sized: true },
        { name: 'api', sized: true },
        { name: 'db', sized: true },
      ],
    });
  });

  it('leaves a scenario without graph: exactly as before (dependencies must name workloads)', () => {
    expect(loadError(BASE)).toBe('scenario.yaml: dependencies[0]: edge web -> api names unknown workload "api"');
  });

  it('excluded services get no workload but still pass demand on', () => {
    const s = load(BASE + GRAPH.replace('  services:', '  exclude: [api]\n  services:'));
    expect(s.workloads.map((w) => w.name)).toEqual(['web', 'batch', 'db']);
    expect(s.workloads[2].demand.values).toEqual([60, 120, 180, 240]);
  });

  it('names each mistake', () => {
    expect(loadError(BASE + GRAPH.replace('entry: web', 'entry: front'))).toBe(
      'scenario.yaml: graph.entry: "front" is not a workload; entry points are workloads in `workloads:`, whose demand traces enter the graph (workloads: web, batch)',
    );
    expect(loadError(BASE + GRAPH.replace('db: {', 'dbb: {'))).toBe('scenario.yaml: dependencies[1]: edge api → db names unknown service "db" (known services: web, batch, api, dbb)');
    expect(loadError(BASE + GRAPH.replace('cpuMillicores: 250, ', ''))).toContain(
      'scenario.yaml: graph.services.api: service "api" of the graph needs workload options (in graph.services.api or graph.workloadDefaults, and CPU and memory since no manifest gives them): cpuMillicores: is required',
    );
    expect(loadError(BASE + '  - { from: db, to: web, callsPerRequest: 0.1 }\n' + GRAPH)).toBe('scenario.yaml: the dependency graph has a cycle: web → api → db → web (edges declared: web → api at scenario.yaml: dependencies[0]; api → db at scenario.yaml: dependencies[1]; db → web at scenario.yaml: dependencies[2])');
    expect(loadError(BASE + '  - { from: api, to: cache, callsPerRequest: 1 }\n' + GRAPH)).toBe(
      'scenario.yaml: dependencies[2]: edge api → cache names unknown service "cache" (known services: web, batch, api, db)',
    );
    expect(loadError(BASE + '  - { from: web, to: batch, callsPerRequest: 1 }\n' + GRAPH)).toContain(
      'scenario.yaml: workloads: workload "batch" is called by web in the graph, so its demand comes from propagation',
    );
  });

  it('Online Boutique derivation options need manifests', () => {
    expect(loadError(BASE + GRAPH + '  cartLines: 2\n')).toBe(
      'scenario.yaml: graph.cartLines: applies to ratios derived for imported manifests; without graph.manifests, give each edge its callsPerRequest in dependencies',
    );
  });

  it('an entry with callers adds its own trace to what it is called with', () => {
    const s = load(BASE + '  - { from: web, to: batch, callsPerRequest: 0.5 }\n' + GRAPH.replace('entry: web', 'entry: [web, batch]'));
    expect(s.workloads.find((w) => w.name === 'batch')!.demand.values).toEqual([6, 11, 16, 21]);
  });
});
