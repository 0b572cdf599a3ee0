/**
 * The allocation problem file: a small valid file converted to the engine's
 * input (values worked out by hand), each kind of bad input made from it by
 * one edit and named with its line and field, and the bundled example.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../core/errors.ts';
import { buildContext } from '../optimize/horizon.ts';
import { thrown, tempFileWriter } from '../../test/helpers.ts';
import { loadAllocationFile } from './allocationFile.ts';
import { MAX_INPUT_FILE_BYTES } from './yamlFile.ts';

const VALID = `name: tiny
steps: 3
stepHours: 2
pools:
  - { name: a, provider: gcp, zone: z1, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.2, reservedCostPerHour: 0.12 }
  - { name: b, provider: own, zone: z2, cpuMillicores: 8000, memoryMiB: 32Gi, costPerHour: 0.3, minNodes: 1, tags: [pci] }
workloads:
  - name: web
    cpuMillicores: 500m
    memoryMiB: 512Mi
    instances: [2, 6, 4]
    minInstances: 2
    priority: 10
  - name: pay
    cpuMillicores: 1 vCPU
    memoryMiB: 1Gi
    instances: 2
    tags: [pci]
maintenance:
  - { name: fw, pool: b, fromStep: 1, toStep: 2, nodesDown: 1 }
traffic:
  - { from: web, to: pay, gibPerHour: 3 }
current:
  nodesByPool: { b: 1 }
  instances: { pay: { b: 2 } }
alternatives:
  - name: gcp-down
    outage: { provider: gcp, fromStep: 0, toStep: 1 }
`;

const write = tempFileWriter('allocfile');
/** The message of loading VALID with one edit. */
function errorOf(from: string | RegExp, to: string): string {
  const text = VALID.replace(from, to);
  expect(text).not.toBe(VALID);
  const e = thrown(() => loadAllocationFile(write(text)));
  expect(e).toBeInstanceOf(InvalidInputError);
  return e.message;
}

describe('allocation file', () => {
  it('converts units and expands constant instances to one per step', () => {
    const { name, input, alternatives } = loadAllocationFile(write(VALID));
    expect(name).toBe('tiny');
    expect(input.steps).toBe(3);
    expect(input.stepHours).toBe(2);
    expect(input.pools.map((p) => p.nodeType.capacity)).toEqual([
      { cpuMillicores: 4000, memoryMiB: 16384 },
      { cpuMillicores: 8000, memoryMiB: 32768 },
    ]);
    expect(input.pools[0].reservedCostPerHour).toBe(0.12);
    expect(input.pools[1]).toMatchObject({ minNodes: 1, maxNodes: 1000, tags: ['pci'] });
    expect(input.workloads[0].perInstance).toEqual({ cpuMillicores: 500, memoryMiB: 512 });
    expect(input.workloads[1].perInstance).toEqual({ cpuMillicores: 1000, memoryMiB: 1024 });
    expect(input.workloads[1].instances).toEqual([2, 2, 2]);
    expect(alternatives).toEqual([{ name: 'gcp-down', outage: { provider: 'gcp', fromStep: 0, toStep: 1 } }]);
    expect(input.current).toMatchObject({ nodesByPool: { b: 1 }, instances: { pay: { b: 2 } } });
    // The engine accepts it as is.
    const ctx = buildContext(input);
    const web = ctx.workloadIndex.get('web')!;
    const pay = ctx.workloadIndex.get('pay')!;
    expect(ctx.req.map((r) => [r[web], r[pay]])).toEqual([
      [2, 2],
      [6, 2],
      [4, 2],
    ]);
  });

  it('names an unknown key with its line', () => {
    expect(errorOf('    priority: 10', '    priority: 10\n    prority: 3')).toMatch(/line 14: workloads\[0\]: unknown key "prority"/);
  });

  it('lists the first ten problems and counts the rest', () => {
    // Twelve workloads, each with an unknown key: 12 problems.
    const extra = Array.from({ length: 12 }, (_, i) => `  - { name: w${i}, cpuMillicores: 1, memoryMiB: 1, instances: 1, colour: red }`).join('\n');
    const message = errorOf('workloads:\n', `workloads:\n${extra}\n`);
    expect(message.match(/unknown key "colour"/g)).toHaveLength(10);
    expect(message).toContain('workloads[9]: unknown key "colour"');
    expect(message).not.toContain('workloads[10]');
    expect(message).toMatch(/… and 2 more problems$/);
    // Ten or fewer: all listed, nothing counted.
    expect(errorOf('    priority: 10', '    priority: 10\n    prority: 3')).not.toContain('more problem');
  });

  it('rejects per-step instances of the wrong length', () => {
    expect(errorOf('[2, 6, 4]', '[2, 6]')).toMatch(/line 11: workloads\[0\]\.instances: needs one value per step \(3\), got 2/);
  });

  it('rejects negative, fractional and non-numeric demand', () => {
    expect(errorOf('[2, 6, 4]', '[2, -6, 4]')).toMatch(/workloads\[0\]\.instances/);
    expect(errorOf('instances: 2', 'instances: 2.5')).toMatch(/workloads\[1\]\.instances/);
    expect(errorOf('[2, 6, 4]', '[2, .nan, 4]')).toMatch(/workloads\[0\]\.instances/);
  });

  it('rejects bad quantities with the field', () => {
    expect(errorOf('memoryMiB: 512Mi', 'memoryMiB: lots')).toMatch(/workloads\[0\]\.memoryMiB/);
    expect(errorOf('costPerHour: 0.2', 'costPerHour: -0.2')).toMatch(/pools\[0\]\.costPerHour/);
  });

  it('names references to pools, providers and workloads that do not exist', () => {
    expect(errorOf('pool: b, fromStep', 'pool: c, fromStep')).toMatch(/line 20: maintenance\[0\]\.pool: unknown pool "c"/);
    expect(errorOf('to: pay', 'to: payment')).toMatch(/traffic\[0\]\.to: unknown workload "payment"/);
    expect(errorOf('provider: gcp, fromStep', 'provider: azure, fromStep')).toMatch(/alternatives\[0\]\.outage\.provider: no pool has provider "azure"/);
    expect(errorOf('toStep: 1 }\n', 'toStep: 4 }\n')).toMatch(/alternatives\[0\]\.outage: needs 0 ≤ fromStep < toStep ≤ 3/);
    expect(errorOf('instances: { pay: { b: 2 } }', 'instances: { pay: { c: 2 } }')).toMatch(/line \d+: current\.instances\.pay\.c: unknown pool "c"/);
    expect(errorOf('nodesByPool: { b: 1 }', 'nodesByPool: { b: -1 }')).toMatch(/current\.nodesByPool\.b/);
    expect(errorOf('- name: pay', '- name: web')).toMatch(/workloads\[1\]\.name: "web" is used twice/);
    expect(errorOf('name: gcp-down', 'name: base')).toMatch(/reserved for the base case/);
  });

  it('names malformed YAML with its line and column', () => {
    expect(errorOf('  - name: pay', '  - name: pay\n   bad: [')).toMatch(/f\d+\.yaml:\d+:\d+: malformed YAML/);
  });

  it('refuses a file over the size limit without reading it', () => {
    const path = write(`${VALID}# ${'x'.repeat(MAX_INPUT_FILE_BYTES)}\n`);
    expect(thrown(() => loadAllocationFile(path)).message).toMatch(/allocation file is \d+ bytes; the limit is/);
  });

  it('loads the bundled example', () => {
    const { input, alternatives } = loadAllocationFile(resolve(import.meta.dirname, '../../examples/allocation.yaml'));
    expect(input.workloads.map((w) => w.name)).toContain('paymentservice');
    expect(input.workloads.every((w) => w.instances.length === input.steps)).toBe(true);
    expect(alternatives.length).toBeGreaterThan(0);
  });
});
