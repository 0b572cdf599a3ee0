/**
 * Invoices, usage and alerts as files for accounting: CSV (RFC 4180: comma
 * separated, CRLF line ends, fields with a comma, quote or line break quoted,
 * quotes doubled) and JSON. Times are ISO 8601 UTC; money is the exact decimal
 * of the micro-unit amount (six places), so a spreadsheet's sum of the lines
 * equals the invoice total. Pure: values in, text out.
 *
 * The CSV writer is a few lines by hand: the project has no CSV dependency
 * (ingest parses a fixed two-column format) and writing is only quoting.
 */

import type { Alert, Invoice } from './invoice.ts';
import type { UsageRecord } from './meter.ts';
import { formatMicros, microsToCents } from './money.ts';

function field(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csv(header: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string {
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const quantity = (x: number) => x.toFixed(6);

/** One row per invoice: the period, the total (exact, and in cents rounded half to even) and the line count. */
export function invoicesCsv(invoices: readonly Invoice[]): string {
  return csv(
    ['invoice_id', 'provider', 'provider_kind', 'agreement', 'currency', 'period_start', 'period_end', 'covered_start', 'covered_end', 'period_share', 'lines', 'total', 'total_cents'],
    invoices.map((i) => [i.id, i.provider, i.providerKind, i.agreement ?? 'on-demand', i.currency, iso(i.periodStartSeconds), iso(i.periodEndSeconds), iso(i.coveredStartSeconds), iso(i.coveredEndSeconds), i.periodShare.toFixed(6), i.lines.length, formatMicros(i.totalMicros), microsToCents(i.totalMicros)]),
  );
}

/** One row per invoice line. */
export function invoiceLinesCsv(invoices: readonly Invoice[]): string {
  return csv(
    ['invoice_id', 'provider', 'agreement', 'currency', 'line', 'kind', 'description', 'resource', 'pool', 'tier', 'quantity', 'rate', 'amount'],
    invoices.flatMap((i) =>
      i.lines.map((l, n) => [i.id, i.provider, i.agreement ?? 'on-demand', i.currency, n + 1, l.kind, l.description, l.resource, l.pool, l.tier, quantity(l.quantity), l.rate, formatMicros(l.amountMicros)]),
    ),
  );
}

/** Hourly usage records. */
export function usageCsv(records: readonly UsageRecord[]): string {
  return csv(
    ['hour_start', 'provider', 'provider_kind', 'pool', 'zone', 'account', 'node_hours', 'vcpu_hours', 'gib_hours'],
    records.map((r) => [iso(r.hourStartSeconds), r.provider, r.providerKind, r.pool, r.zone, r.account, quantity(r.nodeHours), quantity(r.vcpuHours), quantity(r.gibHours)]),
  );
}

export function alertsCsv(alerts: readonly Alert[]): string {
  return csv(
    ['at', 'kind', 'agreement', 'provider', 'period_start', 'limit', 'usage', 'unit', 'message'],
    alerts.map((a) => [iso(a.atSeconds), a.kind, a.agreement, a.provider, iso(a.periodStartSeconds), a.limit, a.usage, a.unit, a.message]),
  );
}

/** Invoices as JSON-ready values: amounts as numbers and as exact decimal strings. */
export function invoicesJson(invoices: readonly Invoice[]): unknown[] {
  return invoices.map((i) => ({
    id: i.id,
    provider: i.provider,
    providerKind: i.providerKind,
    agreement: i.agreement ?? null,
    currency: i.currency,
    periodStart: iso(i.periodStartSeconds),
    periodEnd: iso(i.periodEndSeconds),
    coveredStart: iso(i.coveredStartSeconds),
    coveredEnd: iso(i.coveredEndSeconds),
    periodShare: i.periodShare,
    pools: i.pools,
    lines: i.lines.map((l) => ({ ...l, amountExact: formatMicros(l.amountMicros) })),
    total: i.total,
    totalMicros: i.totalMicros,
    totalExact: formatMicros(i.totalMicros),
    usageByPool: i.usageByPool,
    usageByAccount: i.usageByAccount,
  }));
}

export function alertsJson(alerts: readonly Alert[]): unknown[] {
  return alerts.map((a) => ({ ...a, at: iso(a.atSeconds), periodStart: iso(a.periodStartSeconds) }));
}
