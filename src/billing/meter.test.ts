import { describe, expect, it } from 'vitest';
import type { Pool, Workload } from '../core/model.ts';
import type { Action } from '../core/plan.ts';
import { SimulatorDriver, type UsageInterval } from '../drivers/simulator.ts';
import { meter, NO_ACCOUNT, totalsBy, UNALLOCATED, type UsageRecord } from './meter.ts';

const pool: Pool = {
  name: 'a',
  provider: 'acme',
  zone: 'z1',
  nodeType: { name: 'n', capacity: { cpuMillicores: 4000, memoryMiB: 16384 } },
  costPerHour: 0.2,
  provisioningDelaySeconds: 180,
  minNodes: 0,
  maxNodes: 10,
  tags: [],
};

const workload = (name: string, cpuMillicores: number, memoryMiB: number, account?: string): Workload => ({
  name,
  demand: { startSeconds: 0, stepSeconds: 300, values: [1] },
  service: { serviceTimeSeconds: 0.1, concurrency: 1 },
  perInstance: { cpuMillicores, memoryMiB },
  slo: { kind: 'utilization', maxUtilization: 0.7 },
  minInstances: 0,
  maxInstances: 100,
  priority: 0,
  sizingQuantile: 0.95,
  tags: [],
  ...(account ? { account } : {}),
});

const workloads = [workload('w1', 1000, 1024, 'A'), workload('w2', 500, 4096, 'B'), workload('w3', 1000, 1024)];

let seq = 0;
const base = () => ({ id: `m${seq++}`, decidedAtSeconds: 0, phase: 0, reason: 'test' });
const scaleNodes = (toNodes: number): Action => ({ ...base(), kind: 'scaleNodes', pool: 'a', fromNodes: 0, toNodes });
const scale = (w: string, toInstances: number): Action => ({ ...base(), kind: 'scaleWorkload', workload: w, pool: 'a', fromInstances: 0, toInstances });

/**
 * A tiny timeline, worked by hand:
 * - 3000..3600 (1/6 h): 1 node; w1 (A) 2 × (1000m, 1 GiB), w2 (B) 1 × (500m, 4 GiB).
 * - at 3600 a second node is requested (ready at 3780) and w3 (no account) asks for 2
 *   instances of (1000m, 1 GiB); 1 fits on the free 1500m until 3780, then both.
 * - runs to 9000, crossing the hour at 7200.
 * Node shares: A on 1 node (0.5 + 0.125)/2 = 0.3125, on 2 nodes (0.25 + 0.0625)/2 = 0.15625 per node-pair;
 * B on 1 node (0.125 + 0.25)/2 = 0.1875, on 2 (0.0625 + 0.125)/2; w3 per instance on 2 nodes (0.125 + 0.03125)/2.
 */
function simulate(): { records: UsageRecord[]; driver: SimulatorDriver; intervals: UsageInterval[] } {
  const driver = new SimulatorDriver([pool], workloads, 3000, { nodesByPool: { a: 1 }, instances: { w1: { a: 2 }, w2: { a: 1 } } });
  const intervals: UsageInterval[] = [];
  driver.onUsage((i) => intervals.push(i));
  driver.setTime(3600);
  driver.applySync(scaleNodes(2));
  driver.applySync(scale('w3', 2));
  driver.setTime(3780);
  driver.setTime(9000);
  return { records: meter(intervals, [pool], workloads, [{ name: 'acme', kind: 'partner' }]), driver, intervals };
}

describe('metering a simulated timeline', () => {
  const { records, driver, intervals } = simulate();
  const row = (hour: number, account: string) => records.find((r) => r.hourStartSeconds === hour && r.account === account);

  it('reports the intervals the simulator billed', () => {
    expect(intervals.map((i) => [i.startSeconds, i.endSeconds, i.nodesByPool.a])).toEqual([
      [3000, 3600, 1],
      [3600, 3780, 2],
      [3780, 9000, 2],
    ]);
    expect(intervals[1].runningInstances.w3).toEqual({ a: 1 });
    expect(intervals[2].runningInstances.w3).toEqual({ a: 2 });
  });

  // [hour start, account, node-hours, vCPU-hours, GiB-hours], by hand.
  const expected: [number, string, number, number, number][] = [
    [0, 'A', 0.3125 / 6, 2 / 6, 2 / 6],
    [0, 'B', 0.1875 / 6, 0.5 / 6, 4 / 6],
    [0, UNALLOCATED, 0.5 / 6, 1.5 / 6, 10 / 6],
    [3600, 'A', 0.3125, 2, 2],
    [3600, 'B', 0.1875, 0.5, 4],
    [3600, NO_ACCOUNT, 0.15625 * 0.05 + 0.3125 * 0.95, 0.05 + 1.9, 0.05 + 1.9],
    [3600, UNALLOCATED, 2 - 0.3125 - 0.1875 - 0.3046875, 8 - 2 - 0.5 - 1.95, 32 - 2 - 4 - 1.95],
    [7200, 'A', 0.15625, 1, 1],
    [7200, 'B', 0.09375, 0.25, 2],
    [7200, NO_ACCOUNT, 0.15625, 1, 1],
    [7200, UNALLOCATED, 1 - 0.40625, 4 - 2.25, 16 - 4],
  ];
  it.each(expected)('hour %i, account %s: %d node-hours, %d vCPU-hours, %d GiB-hours', (hour, account, nodeHours, vcpuHours, gibHours) => {
    const r = row(hour, account);
    expect(r).toBeDefined();
    expect(r!.nodeHours).toBeCloseTo(nodeHours, 12);
    expect(r!.vcpuHours).toBeCloseTo(vcpuHours, 12);
    expect(r!.gibHours).toBeCloseTo(gibHours, 12);
    expect(r).toMatchObject({ provider: 'acme', providerKind: 'partner', pool: 'a', zone: 'z1' });
  });

  it('has no other records', () => {
    expect(records).toHaveLength(expected.length);
  });

  it("adds up, per pool-hour, to the nodes billed: and in all to the simulator's node-hours", () => {
    const byHour = totalsBy(records, (r) => String(r.hourStartSeconds));
    expect(byHour.get('0')!.nodeHours).toBeCloseTo(1 / 6, 12);
    expect(byHour.get('3600')!.nodeHours).toBeCloseTo(2, 12);
    expect(byHour.get('3600')!.vcpuHours).toBeCloseTo(8, 12);
    expect(byHour.get('7200')!.gibHours).toBeCloseTo(16, 12);
    const total = totalsBy(records, (r) => r.pool).get('a')!;
    expect(total.nodeHours).toBeCloseTo(driver.nodeHoursByPool().a, 12);
  });

  it('splits an interval at every hour it crosses and skips pools without nodes', () => {
    const rs = meter([{ startSeconds: 1800, endSeconds: 12600, nodesByPool: { a: 1 }, runningInstances: {} }, { startSeconds: 12600, endSeconds: 13000, nodesByPool: { a: 0 }, runningInstances: {} }], [pool], workloads);
    expect(rs.map((r) => [r.hourStartSeconds, r.account, r.nodeHours])).toEqual([
      [0, UNALLOCATED, 0.5],
      [3600, UNALLOCATED, 1],
      [7200, UNALLOCATED, 1],
      [10800, UNALLOCATED, 0.5],
    ]);
  });

  it('gives the same records for consecutive equal intervals as for one long one', () => {
    const state = { nodesByPool: { a: 2 }, runningInstances: { w1: { a: 3 }, w3: { a: 1 } } };
    const ticks = Array.from({ length: 480 }, (_, k) => ({ startSeconds: 3000 + 15 * k, endSeconds: 3015 + 15 * k, nodesByPool: { a: 2 }, runningInstances: { w1: { a: 3 }, w3: { a: 1 } } }));
    const long = meter([{ startSeconds: 3000, endSeconds: 10200, ...state }], [pool], workloads);
    const short = meter(ticks, [pool], workloads);
    expect(short.map((r) => r.hourStartSeconds)).toEqual(long.map((r) => r.hourStartSeconds));
    short.forEach((r, i) => {
      expect(r.account).toBe(long[i].account);
      expect(r.nodeHours).toBeCloseTo(long[i].nodeHours, 12);
      expect(r.gibHours).toBeCloseTo(long[i].gibHours, 12);
    });
    // A change in between is not merged away: w1 at 3 then 1 instance.
    const changed = meter([{ startSeconds: 0, endSeconds: 1800, ...state }, { startSeconds: 1800, endSeconds: 3600, nodesByPool: { a: 2 }, runningInstances: { w1: { a: 1 } } }], [pool], workloads);
    expect(changed.find((r) => r.account === 'A')!.vcpuHours).toBeCloseTo(3 * 0.5 + 1 * 0.5, 12);
  });

  it('rejects an interval that names an unknown pool or workload', () => {
    expect(() => meter([{ startSeconds: 0, endSeconds: 10, nodesByPool: { zz: 1 }, runningInstances: {} }], [pool], workloads)).toThrow(/unknown pool "zz"/);
    expect(() => meter([{ startSeconds: 0, endSeconds: 10, nodesByPool: { a: 1 }, runningInstances: { ww: { a: 1 } } }], [pool], workloads)).toThrow(/unknown workload "ww"/);
  });
});
