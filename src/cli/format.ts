import type { PolicyMetrics, SimulationResult } from '../sim/types.ts';

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

/** Machine-readable results (`--json`). */
export function resultJson(result: SimulationResult): unknown {
  return {
    scenario: result.scenario,
    description: result.description,
    stepSeconds: result.stepSeconds,
    evaluatedSteps: result.evaluatedSteps,
    startSeconds: result.startSeconds,
    policies: result.policies.map((p) => p.metrics),
    notes: result.notes,
  };
}
