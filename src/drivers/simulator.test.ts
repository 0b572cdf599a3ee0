import { describe, expect, it } from 'vitest';
import type { Pool, Workload } from '../core/model.ts';
import { inverse, type Action } from '../core/plan.ts';
import { describeDriverContract } from '../../test/driverContract.ts';
import { SimulatorDriver } from './simulator.ts';

const pool = (name: string, over: Partial<Pool> = {}): Pool => ({
  name,
  provider: 'p',
  zone: 'z',
  nodeType: { name: `${name}-type`, capacity: { cpuMillicores: 4000, memoryMiB: 16384 } },
  costPerHour: 0.2,
  provisioningDelaySeconds: 180,
  minNodes: 0,
  maxNodes: 10,
  tags: [],
  ...over,
});

const workload = (name: string, priority: number, cpuMillicores = 1000): Workload => ({
  name,
  demand: { startSeconds: 0, stepSeconds: 300, values: [1] },
  service: { serviceTimeSeconds: 0.1, concurrency: 1 },
  perInstance: { cpuMillicores, memoryMiB: 1024 },
  slo: { kind: 'utilization', maxUtilization: 0.7 },
  minInstances: 0,
  maxInstances: 100,
  priority,
  sizingQuantile: 0.95,
  tags: [],
});

let seq = 0;
const base = () => ({ id: `a${seq++}`, decidedAtSeconds: 0, phase: 0, reason: 'test' });
const nodes = (p: string, fromNodes: number, toNodes: number): Action => ({ ...base(), kind: 'scaleNodes', pool: p, fromNodes, toNodes });
const inst = (w: string, p: string, fromInstances: number, toInstances: number): Action => ({ ...base(), kind: 'scaleWorkload', workload: w, pool: p, fromInstances, toInstances });

describe('SimulatorDriver', () => {
  it('respects network bandwidth where the pool declares it (CPU/memory would fit more)', () => {
    // Node: 4000m, 16 GiB, 1000 Mbps. Instance: 500m, 1 GiB, 300 Mbps → CPU fits 8, memory 16, network ⌊1000/300⌋ = 3 per node.
    const netPool = pool('n', { nodeType: { name: 'n-type', capacity: { cpuMillicores: 4000, memoryMiB: 16384, networkMbps: 1000 } } });
    const heavy: Workload = { ...workload('heavy', 5, 500), perInstance: { cpuMillicores: 500, memoryMiB: 1024, networkMbps: 300 } };
    const light: Workload = { ...workload('light', 1, 500), perInstance: { cpuMillicores: 500, memoryMiB: 1024, networkMbps: 50 } };
    const d = new SimulatorDriver([netPool], [heavy, light], 0, { nodesByPool: { n: 2 }, instances: { heavy: { n: 8 }, light: { n: 8 } } });
    // heavy (higher priority) takes 6 × 300 = 1800 of 2000 Mbps; light gets ⌊200 / 50⌋ = 4, though CPU has room for 10.
    expect(d.running()).toEqual({ heavy: { n: 6 }, light: { n: 4 } });
    // A pool that declares no bandwidth does not constrain it: CPU decides (2 nodes × 8 = 16).
    const plain = new SimulatorDriver([pool('a')], [{ ...heavy }], 0, { nodesByPool: { a: 2 }, instances: { heavy: { a: 20 } } });
    expect(plain.runningTotal('heavy')).toBe(16);
  });

  it('makes capacity requested at t usable at t + the provisioning delay, and bills from the request', () => {
    const d = new SimulatorDriver([pool('a')], [workload('w', 1)], 1000);
    d.applySync(nodes('a', 0, 1));
    d.applySync(inst('w', 'a', 0, 4));
    expect(d.runningTotal('w')).toBe(0);
    d.setTime(1000 + 179);
    expect(d.runningTotal('w')).toBe(0);
    expect(d.observeSync().pendingNodesByPool.a).toBe(1);
    d.setTime(1000 + 180);
    expect(d.runningTotal('w')).toBe(4);
    d.setTime(1000 + 3600);
    // One node billed for the whole hour, provisioning included.
    expect(d.cost).toBeCloseTo(0.2, 10);
    expect(d.nodeHoursByPool().a).toBeCloseTo(1, 10);
  });

  it('frees capacity at once on scale-down and stops what no longer fits, lowest priority first', () => {
    const d = new SimulatorDriver([pool('a')], [workload('gold', 10, 2000), workload('bronze', 1, 2000)], 0, {
      nodesByPool: { a: 2 },
      instances: { gold: { a: 2 }, bronze: { a: 2 } },
    });
    expect(d.running()).toEqual({ gold: { a: 2 }, bronze: { a: 2 } });
    d.applySync(nodes('a', 2, 1));
    expect(d.running()).toEqual({ gold: { a: 2 }, bronze: {} });
    expect(d.costPerHour()).toBeCloseTo(0.2, 10);
  });

  it('keeps running instances in place (no preemption) when a higher priority grows', () => {
    const d = new SimulatorDriver([pool('a')], [workload('gold', 10, 2000), workload('bronze', 1, 2000)], 0, {
      nodesByPool: { a: 1 },
      instances: { bronze: { a: 2 } },
    });
    d.applySync(inst('gold', 'a', 0, 2));
    // The node is full of bronze: gold waits, pending, until capacity is ready.
    expect(d.running()).toEqual({ gold: {}, bronze: { a: 2 } });
    d.applySync(nodes('a', 1, 2));
    d.setTime(180);
    expect(d.running()).toEqual({ gold: { a: 2 }, bronze: { a: 2 } });
  });

  it('pins instances to their pool: no start on another pool with room', () => {
    const d = new SimulatorDriver([pool('a'), pool('b')], [workload('w', 1)], 0, { nodesByPool: { a: 0, b: 1 } });
    d.applySync(inst('w', 'a', 0, 2));
    expect(d.runningTotal('w')).toBe(0);
  });

  it('executes an action id once and logs it', () => {
    const d = new SimulatorDriver([pool('a')], [workload('w', 1)], 0);
    const a = nodes('a', 0, 3);
    expect(d.applySync(a).ok).toBe(true);
    expect(d.applySync({ ...a, toNodes: 5 } as Action).ok).toBe(true);
    expect(d.nodeCounts().a).toBe(3);
    expect(d.log.map((r) => [r.action.id, r.status])).toEqual([[a.id, 'succeeded']]);
  });

  it('rejects a node count above the quota and says so', () => {
    const d = new SimulatorDriver([pool('a', { maxNodes: 2 })], [workload('w', 1)], 0);
    const r = d.applySync(nodes('a', 0, 3));
    expect(r.ok).toBe(false);
    expect(r.error).toMatch(/pool "a" allows 0\.\.2 nodes, asked for 3/);
    expect(d.log[0].status).toBe('failed');
  });

  it('resizes requests so fewer instances fit (limits are not modelled), and the inverse restores them', () => {
    const d = new SimulatorDriver([pool('a')], [workload('w', 1, 1000)], 0, { nodesByPool: { a: 1 }, instances: { w: { a: 4 } } });
    expect(d.runningTotal('w')).toBe(4);
    const grow: Action = { ...base(), kind: 'resizeWorkload', workload: 'w', from: { requests: { cpuMillicores: 1000 } }, to: { requests: { cpuMillicores: 1500 }, limits: { cpuMillicores: 3000 } } };
    expect(d.applySync(grow).ok).toBe(true);
    // 4000m / 1500m = 2 instances fit on the node.
    expect(d.runningTotal('w')).toBe(2);
    expect(d.applySync(inverse(grow, 'undo')).ok).toBe(true);
    expect(d.runningTotal('w')).toBe(4);
  });

  it('rejects a resize to zero or of an unknown workload', () => {
    const d = new SimulatorDriver([pool('a')], [workload('w', 1)], 0);
    expect(d.applySync({ ...base(), kind: 'resizeWorkload', workload: 'w', from: {}, to: { requests: { memoryMiB: 0 } } }).error).toBe(
      'workload "w": requests must be more than 0 (got 1000m CPU, 0 MiB)',
    );
    expect(d.applySync({ ...base(), kind: 'resizeWorkload', workload: 'nope', from: {}, to: {} }).error).toBe('unknown workload "nope"');
  });
});

describeDriverContract('SimulatorDriver', async () => {
  const d = new SimulatorDriver([pool('a')], [workload('web', 1)], 0, { nodesByPool: { a: 2 }, instances: { web: { a: 1 } } });
  // The simulator is in-process: a restart that keeps its state is the same object.
  return { driver: d, workload: 'web', pool: 'a', initialInstances: 1, restarted: () => d };
});
