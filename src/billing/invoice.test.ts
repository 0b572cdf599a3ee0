import { describe, expect, it } from 'vitest';
import type { Agreement, BillingSettings } from '../core/billing.ts';
import type { Pool } from '../core/model.ts';
import { bill, splitTiers, type PriceBook } from './invoice.ts';
import type { UsageRecord } from './meter.ts';
import { divRoundHalfEven, formatMicros, lineAmountMicros, microsToCents, toNanoRate } from './money.ts';
import { periodsOver } from './periods.ts';

const pool = (name: string, provider: string, costPerHour: number): Pool => ({
  name,
  provider,
  zone: 'z',
  nodeType: { name: 'n', capacity: { cpuMillicores: 4000, memoryMiB: 16384 } },
  costPerHour,
  provisioningDelaySeconds: 0,
  minNodes: 0,
  maxNodes: 100,
  tags: [],
});
const pools = [pool('p1', 'partner', 0.3), pool('p2', 'partner', 0.3), pool('c1', 'cloud', 0.192), pool('c2', 'cloud', 0.34)];
const billing: BillingSettings = { currency: 'USD', onDemandPeriod: { kind: 'replay' } };

const rec = (hour: number, pool: string, nodeHours: number, account = 'A'): UsageRecord => ({
  hourStartSeconds: hour * 3600,
  provider: pool.startsWith('p') ? 'partner' : 'cloud',
  providerKind: pool.startsWith('p') ? 'partner' : 'cloud',
  pool,
  zone: 'z',
  account,
  nodeHours,
  vcpuHours: nodeHours * 4,
  gibHours: nodeHours * 16,
});

/** 10 hours of 30 node-hours a hour on the partner (20 on p1 + 10 on p2): 300 node-hours. */
const partnerUsage = Array.from({ length: 10 }, (_, h) => [rec(h, 'p1', 20), rec(h, 'p2', 10, 'B')]).flat();
const span = { startSeconds: 0, endSeconds: 10 * 3600 };

const agreement = (over: Partial<Agreement> = {}): Agreement => ({
  name: 'deal',
  provider: 'partner',
  currency: 'USD',
  period: { kind: 'replay' },
  rates: { nodeHours: [{ upTo: 100, rate: 0.1 }, { upTo: 250, rate: 0.08 }, { rate: 0.05 }] },
  alertShare: 0.8,
  ...over,
});
const book = (agreements: Agreement[]): PriceBook => ({ pools, providers: [{ name: 'partner', kind: 'partner' }, { name: 'cloud', kind: 'cloud' }], agreements, billing });
const partnerInvoice = (a: Agreement, records = partnerUsage) => {
  const b = bill(records, book([a]), span);
  return { invoice: b.invoices.find((i) => i.agreement === a.name)!, alerts: b.alerts };
};
const amounts = (i: { lines: readonly { kind: string; amountMicros: number }[] }) => i.lines.map((l) => [l.kind, l.amountMicros]);

describe('rating through graduated tiers', () => {
  it('splits 300 node-hours over tiers 0–100, 100–250 and the rest', () => {
    const { invoice } = partnerInvoice(agreement());
    // 100 × 0.10 = 10.00; 150 × 0.08 = 12.00; 50 × 0.05 = 2.50.
    expect(amounts(invoice)).toEqual([
      ['usage', 10_000_000],
      ['usage', 12_000_000],
      ['usage', 2_500_000],
    ]);
    expect(invoice.lines.map((l) => [l.tier, l.quantity])).toEqual([
      [1, 100],
      [2, 150],
      [3, 50],
    ]);
    expect(invoice.totalMicros).toBe(24_500_000);
    expect(invoice.total).toBe(24.5);
    expect(invoice.pools).toEqual(['p1', 'p2']);
    expect(invoice.usageByPool.p1.nodeHours).toBeCloseTo(200, 9);
    expect(invoice.usageByAccount.B.nodeHours).toBeCloseTo(100, 9);
  });

  it('stops at the tier the usage reaches, and rounds each line once to micros', () => {
    // 123.4567891 node-hours -> 123.456789 held; 100 × 0.10 = 10; 23.456789 × 0.08 = 1.87654312 -> 1.876543.
    const { invoice } = partnerInvoice(agreement(), [rec(0, 'p1', 123.4567891)]);
    expect(amounts(invoice)).toEqual([
      ['usage', 10_000_000],
      ['usage', 1_876_543],
    ]);
    expect(invoice.totalMicros).toBe(11_876_543);
  });

  it('rates vCPU-hours and GiB-hours as separate cards', () => {
    // 300 node-hours of 4 vCPU, 16 GiB: 1200 vCPU-hours × 0.02 = 24; 4800 GiB-hours: 1000 × 0.004 + 3800 × 0.003 = 4 + 11.4.
    const { invoice } = partnerInvoice(agreement({ rates: { vcpuHours: [{ rate: 0.02 }], gibHours: [{ upTo: 1000, rate: 0.004 }, { rate: 0.003 }] } }));
    expect(amounts(invoice)).toEqual([
      ['usage', 24_000_000],
      ['usage', 4_000_000],
      ['usage', 11_400_000],
    ]);
    expect(invoice.lines.map((l) => l.resource)).toEqual(['vcpuHours', 'gibHours', 'gibHours']);
  });

  it('splitTiers scales boundaries by the covered share of the period', () => {
    const tiers = [{ upTo: 100, rate: 1 }, { rate: 0.5 }];
    expect(splitTiers(80_000_000, tiers, 0.5)).toEqual([
      [0, 50_000_000],
      [1, 30_000_000],
    ]);
    expect(splitTiers(0, tiers, 1)).toEqual([]);
  });
});

describe('commitments', () => {
  it('bills a minimum spend not reached as a shortfall line, and alerts', () => {
    const { invoice, alerts } = partnerInvoice(agreement({ commitment: { kind: 'spend', minSpend: 50 } }));
    expect(amounts(invoice).at(-1)).toEqual(['commitment-shortfall', 25_500_000]);
    expect(invoice.totalMicros).toBe(50_000_000);
    expect(alerts).toEqual([expect.objectContaining({ kind: 'commitment-shortfall', agreement: 'deal', atSeconds: 36000, limit: 50, usage: 24.5 })]);
  });

  it('bills committed units unused at the shortfall rate', () => {
    // 400 committed, 300 used: 100 × 0.10.
    const { invoice, alerts } = partnerInvoice(agreement({ commitment: { kind: 'units', resource: 'nodeHours', minUnits: 400, shortfallRate: 0.1 } }));
    expect(amounts(invoice).at(-1)).toEqual(['commitment-shortfall', 10_000_000]);
    expect(invoice.lines.at(-1)!.quantity).toBe(100);
    expect(invoice.totalMicros).toBe(34_500_000);
    expect(alerts.map((a) => [a.kind, a.usage, a.limit])).toEqual([['commitment-shortfall', 300, 400]]);
  });

  it('adds nothing when the commitment is met', () => {
    const { invoice, alerts } = partnerInvoice(agreement({ commitment: { kind: 'spend', minSpend: 24.5 } }));
    expect(invoice.totalMicros).toBe(24_500_000);
    expect(invoice.lines.every((l) => l.kind === 'usage')).toBe(true);
    expect(alerts).toEqual([]);
  });

  it('a commitment of a month, replayed for part of it, is pro rata', () => {
    // Jan 31 and Feb 1, 2026 (UTC): 1/31 of January's and 1/28 of February's 310 minimum.
    const jan31 = Date.UTC(2026, 0, 31) / 1000;
    const records = [rec(jan31 / 3600, 'p1', 1), rec(jan31 / 3600 + 24, 'p1', 1)];
    const b = bill(records, book([agreement({ period: { kind: 'month' }, commitment: { kind: 'spend', minSpend: 310 } })]), { startSeconds: jan31, endSeconds: jan31 + 2 * 86400 });
    const inv = b.invoices.filter((i) => i.agreement === 'deal');
    expect(inv.map((i) => [new Date(i.periodStartSeconds * 1000).toISOString().slice(0, 10), i.periodShare])).toEqual([
      ['2026-01-01', 1 / 31],
      ['2026-02-01', 1 / 28],
    ]);
    // Each 1 node-hour × 0.10 = 0.10 spent; January's minimum is 10.00, February's 310/28 = 11.0714285714 -> 11.071429.
    expect(inv.map((i) => i.totalMicros)).toEqual([10_000_000, 11_071_429]);
    // The tier boundary scales too: 100 × 1/31 = 3.2258 node-hours, so 1 node-hour stays in tier 1.
    expect(inv[0].lines[0].tier).toBe(1);
  });
});

describe('caps', () => {
  it('bills units beyond a unit cap at the overage rate, and alerts at 80% and past the cap', () => {
    const { invoice, alerts } = partnerInvoice(agreement({ cap: { kind: 'units', resource: 'nodeHours', maxUnits: 200, overageRate: 0.2 } }));
    // Up to 200: 100 × 0.10 + 100 × 0.08 = 18; beyond: 100 × 0.20 = 20.
    expect(amounts(invoice)).toEqual([
      ['usage', 10_000_000],
      ['usage', 8_000_000],
      ['overage', 20_000_000],
    ]);
    expect(invoice.totalMicros).toBe(38_000_000);
    // Cumulative 30 node-hours a hour: 180 ≥ 160 after hour 6, 210 > 200 after hour 7.
    expect(alerts.map((a) => [a.kind, a.atSeconds, a.usage])).toEqual([
      ['cap-near', 6 * 3600, 180],
      ['cap-exceeded', 7 * 3600, 210],
    ]);
  });

  it('without an overage rate, a unit cap only alerts', () => {
    const { invoice, alerts } = partnerInvoice(agreement({ cap: { kind: 'units', resource: 'nodeHours', maxUnits: 200 } }));
    expect(invoice.totalMicros).toBe(24_500_000);
    expect(alerts.map((a) => a.kind)).toEqual(['cap-near', 'cap-exceeded']);
  });

  it('alerts at the configured share and not before', () => {
    // 50% of 400 = 200 reached after hour 7 (210); the cap itself never.
    const { alerts } = partnerInvoice(agreement({ alertShare: 0.5, cap: { kind: 'units', resource: 'nodeHours', maxUnits: 400 } }));
    expect(alerts.map((a) => [a.kind, a.atSeconds])).toEqual([['cap-near', 7 * 3600]]);
    const none = partnerInvoice(agreement({ alertShare: 0.75, cap: { kind: 'units', resource: 'nodeHours', maxUnits: 401 } }));
    expect(none.alerts).toEqual([]);
  });

  it('usage exactly at the threshold alerts; exactly at the cap does not exceed it', () => {
    // 300 node-hours against a cap of 300: 80% = 240 reached after hour 8; never above 300.
    const { alerts } = partnerInvoice(agreement({ cap: { kind: 'units', resource: 'nodeHours', maxUnits: 300 } }));
    expect(alerts.map((a) => [a.kind, a.atSeconds])).toEqual([['cap-near', 8 * 3600]]);
  });

  it('surcharges spend beyond a spend cap and alerts as spend crosses', () => {
    const { invoice, alerts } = partnerInvoice(agreement({ cap: { kind: 'spend', maxSpend: 20, overageMultiplier: 1.5 } }));
    // 24.50 spent, 4.50 beyond 20: surcharge 0.5 × 4.50 = 2.25.
    expect(amounts(invoice).at(-1)).toEqual(['surcharge', 2_250_000]);
    expect(invoice.totalMicros).toBe(26_750_000);
    // Spend after each hour: 3, 6, 9, 11.6, 14, 16.4 (≥ 16 after hour 6), 18.8, 21.2 (> 20 after hour 8).
    expect(alerts.map((a) => [a.kind, a.atSeconds])).toEqual([
      ['cap-near', 6 * 3600],
      ['cap-exceeded', 8 * 3600],
    ]);
    expect(alerts[0].usage).toBeCloseTo(16.4, 9);
  });
});

describe('on-demand invoices', () => {
  it('bills every pool no agreement covers at its costPerHour, one invoice per provider', () => {
    const records = [rec(0, 'c1', 10), rec(1, 'c1', 2.5), rec(0, 'c2', 7), rec(0, 'p1', 1)];
    const b = bill(records, book([]), { startSeconds: 0, endSeconds: 7200 });
    expect(b.invoices.map((i) => [i.provider, i.agreement, i.totalMicros])).toEqual([
      // 12.5 × 0.192 = 2.4; 7 × 0.34 = 2.38.
      ['cloud', undefined, 4_780_000],
      // 1 × 0.3.
      ['partner', undefined, 300_000],
    ]);
    expect(b.invoices[0].lines.map((l) => [l.pool, l.quantity, l.amountMicros])).toEqual([
      ['c1', 12.5, 2_400_000],
      ['c2', 7, 2_380_000],
    ]);
    expect(b.alerts).toEqual([]);
  });

  it('puts covered pools on the agreement and the rest on demand', () => {
    const b = bill([...partnerUsage, rec(0, 'c1', 10)], book([agreement({ pools: ['p1'] })]), span);
    expect(b.invoices.map((i) => [i.provider, i.agreement ?? 'on-demand', i.pools])).toEqual([
      ['cloud', 'on-demand', ['c1', 'c2']],
      ['partner', 'deal', ['p1']],
      ['partner', 'on-demand', ['p2']],
    ]);
    // p1: 200 node-hours -> 10 + 8 = 18; p2: 100 × 0.3 = 30.
    expect(b.invoices.map((i) => i.totalMicros)).toEqual([1_920_000, 18_000_000, 30_000_000]);
  });

  it('rejects records outside the span', () => {
    expect(() => bill([rec(5, 'c1', 1)], book([]), { startSeconds: 0, endSeconds: 3600 })).toThrow(/outside the billed span/);
  });
});

describe('money', () => {
  it.each([
    [5n, 2n, 2n],
    [7n, 2n, 4n],
    [9n, 4n, 2n],
    [11n, 4n, 3n],
    [-5n, 2n, -2n],
    [-7n, 2n, -4n],
    [0n, 3n, 0n],
  ])('%d / %d rounds half to even to %d', (n, d, q) => {
    expect(divRoundHalfEven(n, d)).toBe(q);
  });

  it('rounds a line once: ties to even micros', () => {
    // 1 node-hour at 0.0000025 = 2.5 micros -> 2; at 0.0000035 = 3.5 micros -> 4.
    expect(lineAmountMicros(1_000_000, toNanoRate(0.0000025))).toBe(2);
    expect(lineAmountMicros(1_000_000, toNanoRate(0.0000035))).toBe(4);
    // 1/3 node-hour (333333 micro-units) at 0.3: 99999.9 micros -> 100000.
    expect(lineAmountMicros(333_333, toNanoRate(0.3))).toBe(100_000);
  });

  it('formats micros exactly and converts to cents half to even', () => {
    expect(formatMicros(24_500_000)).toBe('24.500000');
    expect(formatMicros(1_876_543)).toBe('1.876543');
    expect(formatMicros(-5)).toBe('-0.000005');
    expect(microsToCents(11_071_429)).toBe(1107);
    expect(microsToCents(5_000)).toBe(0);
    expect(microsToCents(15_000)).toBe(2);
  });
});

describe('periods', () => {
  it('cuts calendar months, fixed periods aligned to the epoch, and the whole span', () => {
    const start = Date.UTC(2026, 0, 20) / 1000;
    const end = Date.UTC(2026, 2, 3) / 1000;
    expect(periodsOver({ kind: 'month' }, start, end).map((w) => new Date(w.startSeconds * 1000).toISOString().slice(0, 10))).toEqual(['2026-01-01', '2026-02-01', '2026-03-01']);
    expect(periodsOver({ kind: 'month' }, start, end).map((w) => w.share)).toEqual([12 / 31, 1, 2 / 31]);
    expect(periodsOver({ kind: 'fixed', seconds: 86400 }, 43200, 3 * 86400).map((w) => [w.startSeconds, w.share])).toEqual([
      [0, 0.5],
      [86400, 1],
      [172800, 1],
    ]);
    expect(periodsOver({ kind: 'replay' }, 100, 200)).toEqual([{ startSeconds: 100, endSeconds: 200, coveredStartSeconds: 100, coveredEndSeconds: 200, share: 1 }]);
  });
});
