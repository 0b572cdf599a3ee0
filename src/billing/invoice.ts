/**
 * Rating metered usage into invoices, and alerts on agreement limits. Pure:
 * usage records and the price book in, invoices and alerts out.
 *
 * - A pool covered by an agreement is billed on that agreement's invoice for
 *   each of its periods: per resource of the rate card, the period's units
 *   across the covered pools are rated through the graduated tiers (first N
 *   units at rate a, the next at b, ...), one line per tier used; units
 *   beyond a unit cap are an `overage` line at the cap's overage rate; spend
 *   beyond a spend cap a `surcharge` line; a commitment not met a
 *   `commitment-shortfall` line.
 * - Every other pool is billed on demand at its costPerHour per node-hour,
 *   one line per pool, on one invoice per provider and `billing.period`.
 *
 * Money is exact (see money.ts): each line's quantity is held in micro
 * unit-hours, its rate in nano-units of the currency, and its amount is
 * rounded once, half to even, to micro-units of the currency. Totals are exact
 * sums of the lines.
 */

import type { Agreement, BilledResource, BillingPeriod, BillingSettings, RateTier } from '../core/billing.ts';
import { BILLED_RESOURCES } from '../core/billing.ts';
import { InvalidInputError } from '../core/errors.ts';
import type { Pool, Provider, ProviderKind } from '../core/model.ts';
import type { ReservationRecord, UsageRecord } from './meter.ts';
import { lineAmountMicros, MICROS_PER_UNIT, scaleMicros, toMicros, toMicroUnits, toNanoRate } from './money.ts';
import { periodsOver, windowIndexOf, type PeriodWindow } from './periods.ts';

export type LineKind = 'usage' | 'overage' | 'surcharge' | 'commitment-shortfall' | 'reservation';

export const UNIT_NAMES: Readonly<Record<BilledResource, string>> = { nodeHours: 'node-hour', vcpuHours: 'vCPU-hour', gibHours: 'GiB-hour' };

export interface InvoiceLine {
  readonly kind: LineKind;
  readonly description: string;
  /** The resource the line prices; absent for spend-based lines. */
  readonly resource?: BilledResource;
  /** On-demand lines: the pool. */
  readonly pool?: string;
  /** Usage lines of a rate card: 1-based tier. */
  readonly tier?: number;
  /** Unit-hours (to 6 decimals); for spend-based lines, the currency amount the line applies to. */
  readonly quantity: number;
  /** Price per unit (for spend-based lines, a share of the quantity). */
  readonly rate: number;
  readonly amountMicros: number;
  readonly amount: number;
}

export interface UsageTotals {
  readonly nodeHours: number;
  readonly vcpuHours: number;
  readonly gibHours: number;
}

export interface Invoice {
  /** `provider/agreement-or-on-demand/period-start`. */
  readonly id: string;
  readonly provider: string;
  readonly providerKind: ProviderKind;
  /** The agreement; absent for on-demand invoices. */
  readonly agreement?: string;
  readonly currency: string;
  readonly periodStartSeconds: number;
  readonly periodEndSeconds: number;
  /** The part of the period that was metered (the rest was outside the replay). */
  readonly coveredStartSeconds: number;
  readonly coveredEndSeconds: number;
  /** Share of the period covered; tier boundaries, commitments and caps were scaled by it. */
  readonly periodShare: number;
  readonly pools: readonly string[];
  readonly lines: readonly InvoiceLine[];
  readonly totalMicros: number;
  readonly total: number;
  /** Metered usage on this invoice, by pool and by account (for chargeback). */
  readonly usageByPool: Readonly<Record<string, UsageTotals>>;
  readonly usageByAccount: Readonly<Record<string, UsageTotals>>;
}

export type AlertKind = 'cap-near' | 'cap-exceeded' | 'commitment-shortfall';

export interface Alert {
  readonly kind: AlertKind;
  readonly agreement: string;
  readonly provider: string;
  readonly periodStartSeconds: number;
  /** When it was seen: the end of the hour in which usage crossed the threshold, or the period's covered end. */
  readonly atSeconds: number;
  /** The limit (units or money, as `unit` says), after pro rata scaling. */
  readonly limit: number;
  /** Usage against the limit when the alert was raised (for a shortfall: at period end). */
  readonly usage: number;
  readonly unit: string;
  readonly message: string;
}

export interface PriceBook {
  readonly pools: readonly Pool[];
  readonly providers: readonly Provider[];
  readonly agreements: readonly Agreement[];
  readonly billing: BillingSettings;
}

export interface Billing {
  readonly invoices: readonly Invoice[];
  readonly alerts: readonly Alert[];
}

const line = (l: Omit<InvoiceLine, 'amount'>): InvoiceLine => ({ ...l, amount: l.amountMicros / MICROS_PER_UNIT });

/** Micro-units of a quantity spread over tiers (scaled by `share`); [tier index, micro-units] for tiers used. */
export function splitTiers(microUnits: number, tiers: readonly RateTier[], share: number): [number, number][] {
  const out: [number, number][] = [];
  let below = 0;
  for (let i = 0; i < tiers.length && below < microUnits; i++) {
    const upTo = tiers[i].upTo === undefined ? Infinity : toMicroUnits(tiers[i].upTo! * share, 'tier upTo');
    const inTier = Math.min(microUnits, upTo) - below;
    if (inTier > 0) out.push([i, inTier]);
    below = Math.max(below, Math.min(microUnits, upTo));
  }
  return out;
}

/** Cost (float, for alert timing only) of `units` through the tiers. */
function tieredCost(units: number, tiers: readonly RateTier[], share: number): number {
  let cost = 0;
  let below = 0;
  for (const t of tiers) {
    const upTo = t.upTo === undefined ? Infinity : t.upTo * share;
    if (units > below) cost += (Math.min(units, upTo) - below) * t.rate;
    below = upTo;
  }
  return cost;
}

function sumUsage(records: readonly UsageRecord[], key: (r: UsageRecord) => string): Record<string, UsageTotals> {
  const out: Record<string, { nodeHours: number; vcpuHours: number; gibHours: number }> = {};
  for (const r of records) {
    const t = (out[key(r)] ??= { nodeHours: 0, vcpuHours: 0, gibHours: 0 });
    t.nodeHours += r.nodeHours;
    t.vcpuHours += r.vcpuHours;
    t.gibHours += r.gibHours;
  }
  return out;
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(6).replace(/0+$/, '').replace(/\.$/, ''));

interface Group {
  readonly window: PeriodWindow;
  readonly records: UsageRecord[];
}

/** Records bucketed into the windows of `period` over the span; a record counts at its hour's start (or the span's start). */
function groupByPeriod(records: readonly UsageRecord[], period: BillingPeriod, span: { startSeconds: number; endSeconds: number }): Group[] {
  const windows = periodsOver(period, span.startSeconds, span.endSeconds);
  const groups: Group[] = windows.map((window) => ({ window, records: [] }));
  for (const r of records) {
    const i = windowIndexOf(windows, Math.max(r.hourStartSeconds, span.startSeconds));
    if (i < 0) throw new InvalidInputError('usage records', `a record of pool "${r.pool}" at ${r.hourStartSeconds} lies outside the billed span ${span.startSeconds}..${span.endSeconds}`);
    groups[i].records.push(r);
  }
  return groups;
}

function invoiceOf(args: {
  provider: string;
  kind: ProviderKind;
  agreement?: string;
  currency: string;
  window: PeriodWindow;
  pools: readonly string[];
  lines: InvoiceLine[];
  records: readonly UsageRecord[];
}): Invoice {
  const totalMicros = args.lines.reduce((s, l) => s + l.amountMicros, 0);
  const w = args.window;
  return {
    id: `${args.provider}/${args.agreement ?? 'on-demand'}/${new Date(w.startSeconds * 1000).toISOString()}`,
    provider: args.provider,
    providerKind: args.kind,
    ...(args.agreement ? { agreement: args.agreement } : {}),
    currency: args.currency,
    periodStartSeconds: w.startSeconds,
    periodEndSeconds: w.endSeconds,
    coveredStartSeconds: w.coveredStartSeconds,
    coveredEndSeconds: w.coveredEndSeconds,
    periodShare: w.share,
    pools: args.pools,
    lines: args.lines,
    totalMicros,
    total: totalMicros / MICROS_PER_UNIT,
    usageByPool: sumUsage(args.records, (r) => r.pool),
    usageByAccount: sumUsage(args.records, (r) => r.account),
  };
}

/** One agreement's invoice lines and alerts for one period. */
export function rateAgreementPeriod(a: Agreement, window: PeriodWindow, records: readonly UsageRecord[]): { lines: InvoiceLine[]; alerts: Alert[] } {
  const share = window.share;
  const lines: InvoiceLine[] = [];
  const alerts: Alert[] = [];
  const used: Partial<Record<BilledResource, number>> = {};
  for (const resource of BILLED_RESOURCES) {
    const tiers = a.rates[resource];
    if (!tiers) continue;
    const micro = toMicroUnits(records.reduce((s, r) => s + r[resource], 0), `${a.name} ${resource}`);
    used[resource] = micro;
    const unit = UNIT_NAMES[resource];
    const capMicro = a.cap?.kind === 'units' && a.cap.resource === resource && a.cap.overageRate !== undefined ? toMicroUnits(a.cap.maxUnits * share, 'cap maxUnits') : Infinity;
    const rated = Math.min(micro, capMicro);
    for (const [i, q] of splitTiers(rated, tiers, share)) {
      const t = tiers[i];
      const bounds = tiers.length === 1 ? '' : ` tier ${i + 1} (${i === 0 ? '0' : fmt(tiers[i - 1].upTo! * share)}–${t.upTo === undefined ? '' : fmt(t.upTo * share)} ${unit}s)`;
      lines.push(line({ kind: 'usage', description: `${unit}s${bounds} at ${t.rate}`, resource, tier: i + 1, quantity: q / 1e6, rate: t.rate, amountMicros: lineAmountMicros(q, toNanoRate(t.rate)) }));
    }
    if (micro > rated && a.cap?.kind === 'units') {
      const q = micro - rated;
      const rate = a.cap.overageRate!;
      lines.push(line({ kind: 'overage', description: `${unit}s beyond the cap of ${fmt(a.cap.maxUnits * share)} at the overage rate ${rate}`, resource, quantity: q / 1e6, rate, amountMicros: lineAmountMicros(q, toNanoRate(rate)) }));
    }
  }
  const usageMicros = lines.reduce((s, l) => s + l.amountMicros, 0);
  if (a.cap?.kind === 'spend') {
    const capMicros = toMicros(a.cap.maxSpend * share, 'cap maxSpend');
    if (usageMicros > capMicros && a.cap.overageMultiplier > 1) {
      const excess = usageMicros - capMicros;
      const rate = a.cap.overageMultiplier - 1;
      lines.push(line({ kind: 'surcharge', description: `surcharge of ${fmt(rate * 100)}% on spend beyond the cap of ${fmt(a.cap.maxSpend * share)}`, quantity: excess / MICROS_PER_UNIT, rate, amountMicros: scaleMicros(excess, rate) }));
    }
  }
  const c = a.commitment;
  if (c?.kind === 'spend') {
    const minMicros = toMicros(c.minSpend * share, 'commitment minSpend');
    const spent = lines.reduce((s, l) => s + l.amountMicros, 0);
    if (spent < minMicros) {
      lines.push(line({ kind: 'commitment-shortfall', description: `minimum spend ${fmt(c.minSpend * share)} not reached (spent ${(spent / MICROS_PER_UNIT).toFixed(2)})`, quantity: (minMicros - spent) / MICROS_PER_UNIT, rate: 1, amountMicros: minMicros - spent }));
      alerts.push(alert(a, window, 'commitment-shortfall', window.coveredEndSeconds, c.minSpend * share, spent / MICROS_PER_UNIT, a.currency));
    }
  } else if (c?.kind === 'units') {
    const minMicro = toMicroUnits(c.minUnits * share, 'commitment minUnits');
    const got = used[c.resource] ?? 0;
    if (got < minMicro) {
      const q = minMicro - got;
      lines.push(line({ kind: 'commitment-shortfall', description: `${fmt(q / 1e6)} committed ${UNIT_NAMES[c.resource]}s unused (minimum ${fmt(c.minUnits * share)}) at ${c.shortfallRate}`, resource: c.resource, quantity: q / 1e6, rate: c.shortfallRate, amountMicros: lineAmountMicros(q, toNanoRate(c.shortfallRate)) }));
      alerts.push(alert(a, window, 'commitment-shortfall', window.coveredEndSeconds, c.minUnits * share, got / 1e6, `${UNIT_NAMES[c.resource]}s`));
    }
  }
  if (a.cap) alerts.push(...capAlerts(a, window, records));
  return { lines, alerts };
}

function alert(a: Agreement, window: PeriodWindow, kind: AlertKind, atSeconds: number, limit: number, usage: number, unit: string): Alert {
  const what =
    kind === 'commitment-shortfall'
      ? `commitment not reached: ${fmt(usage)} of ${fmt(limit)} ${unit}`
      : kind === 'cap-exceeded'
        ? `usage passed the cap: ${fmt(usage)} > ${fmt(limit)} ${unit}`
        : `usage reached ${Math.round(a.alertShare * 100)}% of the cap: ${fmt(usage)} of ${fmt(limit)} ${unit}`;
  return { kind, agreement: a.name, provider: a.provider, periodStartSeconds: window.startSeconds, atSeconds, limit, usage, unit, message: `${a.name} (${a.provider}), period from ${new Date(window.startSeconds * 1000).toISOString()}: ${what}` };
}

/** Cap alerts, timed by the hour in which cumulative usage (or spend) first reached alertShare × cap and the cap. */
function capAlerts(a: Agreement, window: PeriodWindow, records: readonly UsageRecord[]): Alert[] {
  const cap = a.cap!;
  const byHour = new Map<number, Partial<Record<BilledResource, number>>>();
  for (const r of records) {
    const h = byHour.get(r.hourStartSeconds) ?? {};
    for (const res of BILLED_RESOURCES) h[res] = (h[res] ?? 0) + r[res];
    byHour.set(r.hourStartSeconds, h);
  }
  const limit = cap.kind === 'units' ? cap.maxUnits * window.share : cap.maxSpend * window.share;
  const unit = cap.kind === 'units' ? `${UNIT_NAMES[cap.resource]}s` : a.currency;
  const cumulative: Partial<Record<BilledResource, number>> = {};
  const out: Alert[] = [];
  let near = false;
  // Relative slack so a usage that equals a limit up to float noise counts as reaching it.
  const reaches = (x: number, threshold: number) => x >= threshold * (1 - 1e-12);
  for (const hour of [...byHour.keys()].sort((x, y) => x - y)) {
    for (const [res, v] of Object.entries(byHour.get(hour)!) as [BilledResource, number][]) cumulative[res] = (cumulative[res] ?? 0) + v;
    const usage =
      cap.kind === 'units'
        ? (cumulative[cap.resource] ?? 0)
        : BILLED_RESOURCES.reduce((s, res) => s + (a.rates[res] ? tieredCost(cumulative[res] ?? 0, a.rates[res]!, window.share) : 0), 0);
    const at = Math.min(hour + 3600, window.coveredEndSeconds);
    if (!near && reaches(usage, a.alertShare * limit)) {
      near = true;
      if (a.alertShare < 1) out.push(alert(a, window, 'cap-near', at, limit, usage, unit));
    }
    if (usage > limit * (1 + 1e-12)) {
      out.push(alert(a, window, 'cap-exceeded', at, limit, usage, unit));
      break;
    }
  }
  return out;
}

/**
 * Invoices and alerts for metered usage over [startSeconds, endSeconds):
 * one invoice per agreement and period, and one on-demand invoice per
 * provider and period for the pools no agreement covers. Invoices are
 * ordered by provider, then agreement (on-demand last), then period.
 */
export function bill(
  records: readonly UsageRecord[],
  book: PriceBook,
  span: { startSeconds: number; endSeconds: number },
  reservations: readonly ReservationRecord[] = [],
): Billing {
  const poolByName = new Map(book.pools.map((p) => [p.name, p]));
  const kindOf = new Map(book.providers.map((p) => [p.name, p.kind]));
  const agreementOf = new Map<string, Agreement>();
  for (const a of book.agreements) {
    for (const p of a.pools ?? book.pools.filter((q) => q.provider === a.provider).map((q) => q.name)) agreementOf.set(p, a);
  }
  for (const r of reservations) {
    const pool = poolByName.get(r.pool);
    if (!pool) throw new InvalidInputError('reservation records', `unknown pool "${r.pool}"`);
    if (agreementOf.has(r.pool)) throw new InvalidInputError('reservation records', `pool "${r.pool}" is under agreement "${agreementOf.get(r.pool)!.name}"; reservations apply to on-demand pools only`);
    if (r.reservedNodeHours > 0 && pool.committedCostPerHour === undefined) throw new InvalidInputError('reservation records', `pool "${r.pool}" has no committed price`);
  }
  const invoices: Invoice[] = [];
  const alerts: Alert[] = [];
  for (const a of book.agreements) {
    const pools = a.pools ?? book.pools.filter((q) => q.provider === a.provider).map((q) => q.name);
    const mine = records.filter((r) => agreementOf.get(r.pool) === a);
    for (const g of groupByPeriod(mine, a.period, span)) {
      const rated = rateAgreementPeriod(a, g.window, g.records);
      invoices.push(invoiceOf({ provider: a.provider, kind: kindOf.get(a.provider) ?? 'cloud', agreement: a.name, currency: a.currency, window: g.window, pools, lines: rated.lines, records: g.records }));
      alerts.push(...rated.alerts);
    }
  }
  const onDemandProviders = [...new Set(book.pools.filter((p) => !agreementOf.has(p.name)).map((p) => p.provider))];
  for (const provider of onDemandProviders) {
    const pools = book.pools.filter((p) => p.provider === provider && !agreementOf.has(p.name));
    const names = new Set(pools.map((p) => p.name));
    const mine = records.filter((r) => names.has(r.pool));
    const windows = periodsOver(book.billing.onDemandPeriod, span.startSeconds, span.endSeconds);
    for (const g of groupByPeriod(mine, book.billing.onDemandPeriod, span)) {
      const lines: InvoiceLine[] = [];
      const inWindow = (r: ReservationRecord) => windows[windowIndexOf(windows, Math.max(r.hourStartSeconds, span.startSeconds))]?.startSeconds === g.window.startSeconds;
      for (const p of pools) {
        // Reserved node-hours are paid at the committed price, used or not; the node-hours they cover are not paid again.
        const held = reservations.filter((r) => r.pool === p.name && inWindow(r));
        const reserved = held.reduce((s, r) => s + r.reservedNodeHours, 0);
        const covered = held.reduce((s, r) => s + r.coveredNodeHours, 0);
        if (reserved > 0) {
          const rq = toMicroUnits(reserved, `pool ${p.name} reserved node-hours`);
          const rate = p.committedCostPerHour!;
          lines.push(line({ kind: 'reservation', description: `${p.name} (${p.nodeType.name}, ${p.zone}) node-hours reserved at ${rate}`, resource: 'nodeHours', pool: p.name, quantity: rq / 1e6, rate, amountMicros: lineAmountMicros(rq, toNanoRate(rate, `pool ${p.name} committedCostPerHour`)) }));
        }
        const used = g.records.reduce((s, r) => s + (r.pool === p.name ? r.nodeHours : 0), 0);
        const q = toMicroUnits(Math.max(0, used - covered), `pool ${p.name} node-hours`);
        if (q === 0) continue;
        const beyond = reserved > 0 ? ' beyond the reservation' : '';
        lines.push(line({ kind: 'usage', description: `${p.name} (${p.nodeType.name}, ${p.zone}) node-hours${beyond} on demand at ${p.costPerHour}`, resource: 'nodeHours', pool: p.name, quantity: q / 1e6, rate: p.costPerHour, amountMicros: lineAmountMicros(q, toNanoRate(p.costPerHour, `pool ${p.name} costPerHour`)) }));
      }
      invoices.push(invoiceOf({ provider, kind: kindOf.get(provider) ?? 'cloud', currency: book.billing.currency, window: g.window, pools: pools.map((p) => p.name), lines, records: g.records }));
    }
  }
  for (const r of records) if (!poolByName.has(r.pool)) throw new InvalidInputError('usage records', `unknown pool "${r.pool}"`);
  invoices.sort((x, y) => x.provider.localeCompare(y.provider) || (x.agreement === undefined ? 1 : 0) - (y.agreement === undefined ? 1 : 0) || (x.agreement ?? '').localeCompare(y.agreement ?? '') || x.periodStartSeconds - y.periodStartSeconds);
  alerts.sort((x, y) => x.atSeconds - y.atSeconds || x.agreement.localeCompare(y.agreement));
  return { invoices, alerts };
}

/** Sum of invoice totals, in micros (exact) — what the usage cost. */
export function totalMicros(invoices: readonly Invoice[]): number {
  return invoices.reduce((s, i) => s + i.totalMicros, 0);
}

/** What to bill a scenario's usage with; providers named only by pools count as cloud providers. */
export function priceBookOf(scenario: {
  readonly pools: readonly Pool[];
  readonly providers: readonly Provider[];
  readonly agreements?: readonly Agreement[];
  readonly billing?: BillingSettings;
}): PriceBook {
  const named = new Set(scenario.providers.map((p) => p.name));
  const implicit = [...new Set(scenario.pools.map((p) => p.provider))].filter((p) => !named.has(p)).map((name): Provider => ({ name, kind: 'cloud' }));
  return {
    pools: scenario.pools,
    providers: [...scenario.providers, ...implicit],
    agreements: scenario.agreements ?? [],
    billing: scenario.billing ?? { currency: 'USD', onDemandPeriod: { kind: 'replay' } },
  };
}
