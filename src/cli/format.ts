import { alertsJson, invoicesJson } from '../billing/export.ts';
import { invoicedPolicy } from '../sim/invoiced.ts';
import { reservationsJson } from './reservations.ts';
import { poolsJson } from './poolsFormat.ts';
import type { PolicyMetrics, PolicyResult, SimulationResult } from '../sim/types.ts';

const pct = (x: number, digits = 1) => `${(x * 100).toFixed(digits)}%`;
const money = (x: number) => `$${x.toFixed(2)}`;

/** A plain-text table with right-aligned numeric columns; the first column and those in `leftColumns` are left-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[], leftColumns: readonly number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 || leftColumns.includes(i) ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The comparison table printed after a replay. */
export function comparisonTable(result: SimulationResult): string {
  const oracle = result.policies.find((p) => p.metrics.name === 'oracle')?.metrics;
  const rows = result.policies.map(({ metrics: m }: { metrics: PolicyMetrics }) => [
    m.name,
    money(m.cost),
    oracle && oracle.cost > 0 ? `${((m.cost / oracle.cost - 1) * 100).toFixed(1)}%` : '-',
    m.nodeHours.toFixed(1),
    pct(m.sloAttainment, 2),
    pct(m.violationStepShare),
    pct(m.underProvisionedTimeShare),
    pct(m.overProvisionedTimeShare),
    String(m.actions),
  ]);
  return table(['policy', 'cost', 'vs oracle', 'node-hours', 'SLO attained', 'steps violating', 'under-prov time', 'over-prov time', 'actions'], rows);
}

/** Invoices of one policy's run, one row each, then the alerts. */
export function invoiceTable(policy: PolicyResult): string {
  const b = policy.billing;
  if (!b) return '';
  const day = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const rows = b.invoices.map((i) => [
    i.provider,
    i.providerKind,
    i.agreement ?? 'on-demand',
    `${day(i.coveredStartSeconds)} – ${day(i.coveredEndSeconds)}${i.periodShare < 1 ? ` (${pct(i.periodShare)} of period)` : ''}`,
    [...new Set(i.lines.map((l) => l.kind).filter((k) => k !== 'usage'))].join(', ') || '-',
    `${i.total.toFixed(2)} ${i.currency}`,
  ]);
  const total = b.invoices.reduce((s, i) => s + i.totalMicros, 0) / 1e6;
  rows.push(['total', '', '', '', '', `${total.toFixed(2)} ${b.invoices[0]?.currency ?? ''}`.trim()]);
  const out = [`Invoices of the ${policy.metrics.name} policy's run`, '', table(['provider', 'kind', 'agreement', 'metered', 'besides usage', 'total'], rows)];
  if (b.alerts.length) out.push('', 'Alerts', ...b.alerts.map((a) => `  ${day(a.atSeconds)}  ${a.kind.padEnd(20)} ${a.message}`));
  return out.join('\n');
}

/** Machine-readable results (`--json`). `invoices` and `alerts` are those of `invoicesPolicy`; `billing` has every policy's. */
export function resultJson(result: SimulationResult): unknown {
  const invoiced = invoicedPolicy(result);
  return {
    scenario: result.scenario,
    description: result.description,
    stepSeconds: result.stepSeconds,
    evaluatedSteps: result.evaluatedSteps,
    startSeconds: result.startSeconds,
    policies: result.policies.map((p) => p.metrics),
    notes: result.notes,
    invoicesPolicy: invoiced?.metrics.name ?? null,
    invoices: invoicesJson(invoiced?.billing?.invoices ?? []),
    alerts: alertsJson(invoiced?.billing?.alerts ?? []),
    billing: Object.fromEntries(
      result.policies.map((p) => [p.metrics.name, { cost: p.metrics.cost, onDemandCost: p.billing?.onDemandCost ?? null, invoices: invoicesJson(p.billing?.invoices ?? []), alerts: alertsJson(p.billing?.alerts ?? []) }]),
    ),
    // Optional: the reservations of the predictive policy's run (scenarios with `reservations:`).
    ...reservationsJson(result.policies.find((p) => p.reservations)),
    ...(result.maintenance ?? {}),
    ...poolsJson(result),
  };
}
