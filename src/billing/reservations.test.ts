import { describe, expect, it } from 'vitest';
import type { Pool, Workload } from '../core/model.ts';
import type { UsageInterval } from '../core/billing.ts';
import { InvalidInputError } from '../core/errors.ts';
import { SimulatorDriver } from '../drivers/simulator.ts';
import { bill, priceBookOf, totalMicros } from './invoice.ts';
import { HourlyMeter } from './meter.ts';

/** On demand 0.20 per node-hour, committed 0.12. */
const pool: Pool = {
  name: 'r',
  provider: 'cloud',
  zone: 'z1',
  nodeType: { name: 'n', capacity: { cpuMillicores: 4000, memoryMiB: 16384 } },
  costPerHour: 0.2,
  committedCostPerHour: 0.12,
  provisioningDelaySeconds: 0,
  minNodes: 0,
  maxNodes: 10,
  tags: [],
};
const plain: Pool = { ...pool, name: 'p', committedCostPerHour: undefined };
const workloads: Workload[] = [];
const book = priceBookOf({ pools: [pool, plain], providers: [] });

const interval = (startSeconds: number, endSeconds: number, nodes: number, reserved: number): UsageInterval => ({
  startSeconds,
  endSeconds,
  nodesByPool: { r: nodes },
  runningInstances: {},
  reservedNodesByPool: { r: reserved },
});

describe('reserved capacity: metered and billed', () => {
  /**
   * By hand (hours from 0):
   * - 0..0.5 h: 3 nodes, 2 reserved → reserved 1.0, covered 1.0, node-hours 1.5;
   * - 0.5..1.5 h: 1 node, 2 reserved (crosses the hour) → each hour reserved 1.0, covered 0.5, node-hours 0.5;
   * - 1.5..2 h: no node, 4 reserved → reserved 2.0, covered 0.
   * Reserved 5 node-hours × 0.12 = 0.60 (paid, used or not); on demand 2.5 − 2 = 0.5 node-hours × 0.20 = 0.10.
   */
  const meter = new HourlyMeter([pool, plain], workloads, []);
  for (const i of [interval(0, 1800, 3, 2), interval(1800, 5400, 1, 2), interval(5400, 7200, 0, 4)]) meter.add(i);

  it('meters reserved and covered node-hours per clock hour', () => {
    expect(meter.reservationRecords()).toEqual([
      { hourStartSeconds: 0, pool: 'r', zone: 'z1', reservedNodeHours: 2, coveredNodeHours: 1.5 },
      { hourStartSeconds: 3600, pool: 'r', zone: 'z1', reservedNodeHours: 3, coveredNodeHours: 0.5 },
    ]);
  });

  it('bills reserved node-hours at the committed price and the rest on demand', () => {
    const { invoices } = bill(meter.records(), book, { startSeconds: 0, endSeconds: 7200 }, meter.reservationRecords());
    expect(invoices).toHaveLength(1);
    const lines = invoices[0].lines.map((l) => ({ kind: l.kind, quantity: l.quantity, rate: l.rate, amount: l.amount }));
    expect(lines).toEqual([
      { kind: 'reservation', quantity: 5, rate: 0.12, amount: 0.6 },
      { kind: 'usage', quantity: 0.5, rate: 0.2, amount: 0.1 },
    ]);
    expect(invoices[0].total).toBe(0.7);
  });

  it('without reservation records the same usage is all on demand', () => {
    const { invoices } = bill(meter.records(), book, { startSeconds: 0, endSeconds: 7200 });
    expect(invoices[0].lines.map((l) => [l.kind, l.quantity])).toEqual([['usage', 2.5]]);
  });

  it('rejects reservations in a pool without a committed price', () => {
    const m = new HourlyMeter([pool, plain], workloads, []);
    m.add({ startSeconds: 0, endSeconds: 3600, nodesByPool: { p: 1 }, runningInstances: {}, reservedNodesByPool: { p: 1 } });
    expect(() => bill(m.records(), book, { startSeconds: 0, endSeconds: 3600 }, m.reservationRecords())).toThrow(InvalidInputError);
  });
});

describe('SimulatorDriver reservations', () => {
  it('bills reserved nodes at the committed price whether used or not, and the invoices agree', () => {
    const driver = new SimulatorDriver([pool], workloads, 0, { nodesByPool: { r: 3 } });
    const meter = new HourlyMeter([pool], workloads, []);
    driver.onUsage((i) => meter.add(i));
    driver.setReservedNodes({ r: 2 });
    // 2 × 0.12 + 1 × 0.20 = 0.44 per hour.
    expect(driver.costPerHour()).toBeCloseTo(0.44, 12);
    driver.setTime(3600);
    driver.setReservedNodes({ r: 5 });
    // 5 reserved, 3 running: 5 × 0.12 = 0.60 per hour.
    expect(driver.costPerHour()).toBeCloseTo(0.6, 12);
    driver.setTime(7200);
    expect(driver.cost).toBeCloseTo(1.04, 12);
    const { invoices } = bill(meter.records(), priceBookOf({ pools: [pool], providers: [] }), { startSeconds: 0, endSeconds: 7200 }, meter.reservationRecords());
    expect(totalMicros(invoices)).toBe(1_040_000);
  });

  it('refuses reservations where there is no committed price, and fractional nodes', () => {
    const driver = new SimulatorDriver([plain, pool], workloads, 0);
    expect(() => driver.setReservedNodes({ p: 1 })).toThrow(/no committed price/);
    expect(() => driver.setReservedNodes({ r: 1.5 })).toThrow(/whole number/);
  });
});
