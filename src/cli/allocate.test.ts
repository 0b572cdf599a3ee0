/**
 * `headroom allocate FILE` in-process: a hand-solved two-step file (report,
 * JSON and what-if checked against numbers worked out below), usage mistakes,
 * and the bundled example's plan checked against its own constraints.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { captureOutput, tempDir } from '../../test/helpers.ts';
import { main } from './main.ts';
import { extraByPool } from './allocate.ts';

const out = captureOutput();
const dir = tempDir('allocate');

/**
 * Two pools of 4-vCPU nodes: `cheap` ($0.20/h, zone a) and `secure` ($0.40/h,
 * zone b, pci). `pay` (pci) needs 2 × 1 vCPU, `web` 4 then 8 × 1 vCPU.
 * Step 0: pay on one secure node, web fills one cheap node: $0.60.
 * Step 1: web 8 = 2 on the secure node's spare room + 6 on 2 cheap nodes: $0.80.
 * Total $1.40, with no churn or migration price.
 * Alternatives: `own` down at step 1 leaves pay nowhere to run (2 short);
 * cheap at twice the price makes every node $0.40: 2 nodes, then 3: $2.00.
 */
const HAND = `name: hand
steps: 2
pools:
  - { name: cheap, provider: cloud, zone: a, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.2 }
  - { name: secure, provider: own, zone: b, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.4, tags: [pci] }
workloads:
  - { name: web, cpuMillicores: 1 vCPU, memoryMiB: 1 GiB, instances: [4, 8] }
  - { name: pay, cpuMillicores: 1 vCPU, memoryMiB: 1 GiB, instances: 2, tags: [pci], priority: 10 }
costs: { churnPerNode: 0, migrationPerInstance: 0 }
alternatives:
  - name: own-down
    outage: { provider: own, fromStep: 1, toStep: 2 }
  - name: cheap-dearer
    priceChanges: [{ pool: cheap, factor: 2 }]
`;

function write(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('headroom allocate', () => {
  it('prints the hand-solved plan, its proof of optimality and the what-if comparison', async () => {
    expect(await main(['allocate', write('hand.yaml', HAND)])).toBe(0);
    const text = out.stdout;
    expect(text).toContain('Allocation "hand": 2 workloads, 2 pools, 2 steps of 1 h; exact MIP');
    expect(text).toMatch(/total spend\s+1\.40\n/);
    expect(text).toMatch(/lower bound\s+1\.40\n/);
    expect(text).toMatch(/gap\s+0\.00%\n/);
    expect(text).toContain('Every workload gets every instance it needs at every step.');
    // Step 1 node by node: one cheap node full of web (4 vCPU, 12 GiB left that nothing can use), one half full.
    expect(text).toContain('Packing at the busiest step (1)');
    expect(text).toMatch(/cheap\s+2\s+6\s+2\s+75%\s+19%\s+0\.0\s+12\.0\n/);
    expect(text).toMatch(/secure\s+1\s+4\s+1\s+100%\s+25%\s+0\.0\s+12\.0\n/);
    expect(text).toContain('Every step packs onto its nodes node by node');
    expect(text).toMatch(/own-down\s+yes\s+no\s+1\.\d\d\s+\S+\s+pay short 2 at step 1/);
    expect(text).toMatch(/cheap-dearer\s+yes\s+yes\s+2\.00/);
    expect(text).toContain('Cheapest alternative that holds every SLO: cheap-dearer.');
  });

  it('writes the same result as JSON', async () => {
    const json = join(dir, 'hand.json');
    expect(await main(['allocate', write('hand2.yaml', HAND), '--json', json])).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    expect(result.method).toBe('exact');
    expect(result.cost.total).toBeCloseTo(1.4, 9);
    expect(result.gap).toBeCloseTo(0, 6);
    expect(result.steps.map((s: { nodesByPool: Record<string, number> }) => s.nodesByPool)).toEqual([
      { cheap: 1, secure: 1 },
      { cheap: 2, secure: 1 },
    ]);
    // pay only ever runs where pci is offered.
    for (const s of result.steps) expect(Object.keys(s.instances.pay)).toEqual(['secure']);
    expect(result.whatIf.best).toBe('cheap-dearer');
    expect(result.packing.busiestStep).toBe(1);
    expect(result.packing.stepsNeedingMoreNodes).toEqual([]);
    expect(result.packing.pools.map((p: { pool: string; nodesNeeded: number }) => [p.pool, p.nodesNeeded])).toEqual([
      ['cheap', 2],
      ['secure', 1],
    ]);
  });

  it('explains a named workload: the pci tag is why pay runs on the dearer pool', async () => {
    expect(await main(['allocate', write('hand3.yaml', HAND.replace(/alternatives:[\s\S]*$/, '')), '--explain', 'pay'])).toBe(0);
    expect(out.stdout).toContain('Why each workload got what it got');
    expect(out.stdout).toMatch(/pay \(peak at step 0\)\n {2}'pay' at its peak \(step 0\) needs 2 instances and got 2: 2 in 'secure'/);
    expect(out.stdout).toContain("passed over 'cheap' (0.05/h per instance): does not offer tag pci");
    expect(out.stdout).not.toMatch(/^web \(peak/m);
  });

  it('rejects an unknown workload to explain, a bad method and a bad time limit (exit 2, nothing written)', async () => {
    const file = write('hand4.yaml', HAND);
    const json = join(dir, 'never.json');
    expect(await main(['allocate', file, '--explain', 'nope', '--json', json])).toBe(2);
    expect(out.stderr).toContain('--explain: unknown workload "nope"');
    // Checked before solving: on a file the solver would reject, the name is still what is reported.
    const impossible = HAND.replace('instances: 2, tags', 'instances: 2, minInstances: 2, tags').replace('costPerHour: 0.4, tags', 'costPerHour: 0.4, maxNodes: 0, tags');
    expect(await main(['allocate', write('impossible-explain.yaml', impossible), '--explain', 'nope'])).toBe(2);
    expect(out.stderr).toContain('--explain: unknown workload "nope"');
    expect(out.stderr).not.toContain('every pool it may use');
    expect(await main(['allocate', file, '--method', 'fast'])).toBe(2);
    expect(out.stderr).toContain('--method: expected auto, exact or decomposition, got "fast"');
    expect(await main(['allocate', file, '--time-limit', '-1'])).toBe(2);
    expect(out.stderr).toContain('--time-limit: expected seconds in (0, 3600]');
    expect(await main(['allocate', file, '--resplit-pools', 'all'])).toBe(2);
    expect(out.stderr).toContain('--resplit-pools: expected given or touched, got "all"');
    expect(await main(['allocate', file, '--lp-window-steps', '1.5'])).toBe(2);
    expect(out.stderr).toContain('--lp-window-steps: expected a whole number of steps ≥ 0, got "1.5"');
    expect(() => readFileSync(json)).toThrow();
  });

  it('--lp-window-steps solves the decomposition\'s LP in windows and says so; the plan is the same here', async () => {
    const file = write('hand-windows.yaml', HAND.slice(0, HAND.indexOf('alternatives:')));
    expect(await main(['allocate', file, '--method', 'decomposition', '--json', '-'])).toBe(0);
    const one = JSON.parse(out.stdout);
    out.stdout = '';
    expect(await main(['allocate', file, '--method', 'decomposition', '--lp-window-steps', '1'])).toBe(0);
    expect(out.stdout).toContain('aggregated LP bound in 2 windows');
    out.stdout = '';
    expect(await main(['allocate', file, '--method', 'decomposition', '--lp-window-steps', '1', '--json', '-'])).toBe(0);
    const windowed = JSON.parse(out.stdout);
    expect(windowed.cost.objective).toBeCloseTo(one.cost.objective, 9);
    expect(windowed.lowerBound).toBeLessThanOrEqual(one.lowerBound + 1e-9);
  });

  it('an impossible file names the conflicting constraints in its own terms (exit 2)', async () => {
    const impossible = HAND.replace('instances: 2, tags', 'instances: 2, minInstances: 2, tags').replace('costPerHour: 0.4, tags', 'costPerHour: 0.4, maxNodes: 0, tags');
    expect(await main(['allocate', write('impossible.yaml', impossible)])).toBe(2);
    expect(out.stderr).toContain("workload 'pay' guarantees instances at steps 0–1, but every pool it may use ('secure') is unavailable then (quota 0)");
    expect(out.stdout).toBe('');
  });

  it('lists the pools short of nodes most short first, five at most, and counts the rest', () => {
    const pools = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((pool, i) => ({ pool, extraNodes: i % 4 }));
    // b, f: 1; c, g: 2; d, h: 3; a and e need none.
    expect(extraByPool(pools)).toBe('d +3, h +3, c +2, g +2, b +1 and 1 more pool');
    expect(extraByPool(pools, 2)).toBe('d +3, h +3 and 4 more pools');
    expect(extraByPool(pools, 6)).toBe('d +3, h +3, c +2, g +2, b +1, f +1');
  });

  it('says when the plan does not pack node by node, and --pack-nodes pays for the nodes that do', async () => {
    // Three 2.5-vCPU instances on 4-vCPU nodes: 2 nodes in aggregate, 3 node by node.
    const three = `name: three
steps: 1
pools: [{ name: p, cpuMillicores: 4 vCPU, memoryMiB: 16 GiB, costPerHour: 0.1 }]
workloads:
${['a', 'b', 'c'].map((n) => `  - { name: ${n}, cpuMillicores: 2500m, memoryMiB: 1 GiB, instances: 1 }`).join('\n')}
costs: { churnPerNode: 0, migrationPerInstance: 0 }
`;
    const file = write('three.yaml', three);
    expect(await main(['allocate', file])).toBe(0);
    expect(out.stdout).toMatch(/total spend\s+0\.20\n/);
    expect(out.stdout).toContain('Packing node by node needs more nodes than the plan counts at 1 step(s)');
    expect(out.stdout).toContain('step 0: 1 more node, 0.10/h (p +1)');
    out.stdout = '';
    expect(await main(['allocate', file, '--pack-nodes'])).toBe(0);
    expect(out.stdout).toMatch(/total spend\s+0\.30\n/);
    expect(out.stdout).toContain('Every step packs onto its nodes node by node');
    expect(out.stdout).toContain('With --pack-nodes: 1 node-step(s) added, 0 emptied into room elsewhere and 0 instance(s) moved');
  });

  it('names the line of a bad value in the file', async () => {
    expect(await main(['allocate', write('bad.yaml', HAND.replace('instances: [4, 8]', 'instances: [4, -8]'))])).toBe(2);
    expect(out.stderr).toMatch(/bad\.yaml: invalid allocation file:\n {2}line 7: workloads\[0\]\.instances/);
  });

  it('the bundled example: every instance placed, pci only where offered, the storefront survives losing a zone', async () => {
    const json = join(dir, 'example.json');
    expect(await main(['allocate', resolve(import.meta.dirname, '../../examples/allocation.yaml'), '--time-limit', '3', '--json', json])).toBe(0);
    const result = JSON.parse(readFileSync(json, 'utf8'));
    const zoneOf: Record<string, string> = {
      'gcp-a-standard': 'a',
      'gcp-b-standard': 'b',
      'gcp-a-highcpu': 'a',
      'gcp-b-highcpu': 'b',
      'aws-a-general': 'aws-a',
      'aws-b-general': 'aws-b',
      'aws-a-compute': 'aws-a',
      'dc-fra-rack': 'fra',
    };
    expect(Object.values(result.shortfall).flat().every((s) => s === 0)).toBe(true);
    for (const step of result.steps) {
      for (const pool of Object.keys(step.instances.paymentservice)) expect(['aws-a-general', 'aws-b-general', 'dc-fra-rack']).toContain(pool);
      const byZone: Record<string, number> = {};
      let total = 0;
      for (const [pool, n] of Object.entries(step.instances.frontend as Record<string, number>)) {
        byZone[zoneOf[pool]] = (byZone[zoneOf[pool]] ?? 0) + n;
        total += n;
      }
      for (const n of Object.values(byZone)) expect(total - n).toBeGreaterThanOrEqual(15);
    }
    expect(result.lowerBound).toBeLessThanOrEqual(result.cost.objective);
    expect(result.whatIf.alternatives.map((a: { name: string }) => a.name)).toEqual(['firmware-at-night', 'firmware-in-the-afternoon', 'gcp-outage-evening']);
  });
});
