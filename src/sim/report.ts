/**
 * A self-contained HTML report of a replay: the comparison table, the
 * invoices and the pools of the invoiced (predictive) policy's run (life
 * cycle and health changes, barred candidates, who was throttled, idle
 * capacity); per workload, demand against each policy's capacity with the
 * predictive policy's forecast band; then cost rate, and that policy's nodes
 * per pool, over time. Charts use uPlot, inlined so the file opens offline.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { invoicedPolicy } from './invoiced.ts';
import { poolChangeRows } from './pools.ts';
import type { PolicyMetrics, PolicyResult, SimulationResult } from './types.ts';

const require = createRequire(import.meta.url);

function uplotAssets(): { js: string; css: string } {
  const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return { js, css };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** JSON safe to embed inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

const POLICY_COLORS: Record<string, string> = {
  static: '#8c8c8c',
  reactive: '#d95f02',
  predictive: '#1b9e77',
  oracle: '#7570b3',
};

function metricsRow(m: PolicyMetrics, oracleCost: number | undefined): string {
  const cells = [
    m.name,
    `$${m.cost.toFixed(2)}`,
    oracleCost && oracleCost > 0 ? `${((m.cost / oracleCost - 1) * 100).toFixed(1)}%` : '–',
    m.nodeHours.toFixed(1),
    `${(m.sloAttainment * 100).toFixed(2)}%`,
    `${(m.violationStepShare * 100).toFixed(1)}%`,
    `${(m.underProvisionedTimeShare * 100).toFixed(1)}%`,
    `${(m.overProvisionedTimeShare * 100).toFixed(1)}%`,
    String(m.actions),
  ];
  return rowHtml(cells, 'policy', m.name);
}

/** A table row: the first cell its header, `data-<key>` set to `value`. */
const rowHtml = (cells: readonly string[], key: string, value: string) =>
  `<tr data-${key}="${escapeHtml(value)}">${cells.map((c, i) => (i === 0 ? `<th scope="row">${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`;

/** A table whose rows carry `data-<key>` from column `keyColumn`. */
const tableHtml = (id: string, head: readonly string[], rows: readonly (readonly string[])[], key: string, keyColumn = 0) =>
  `<table class="metrics" id="${id}">
<thead><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead>
<tbody>${rows.map((r) => rowHtml(r, key, r[keyColumn] ?? '')).join('')}</tbody>
</table>`;

/** The invoiced policy's invoices (one row each) and alerts, as HTML. */
function invoicesHtml(policy: PolicyResult | undefined): string {
  const b = policy?.billing;
  if (!policy || !b) return '';
  const day = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ');
  const rows = b.invoices.map((i) => [i.provider, i.providerKind, i.agreement ?? 'on-demand', `${day(i.coveredStartSeconds)} – ${day(i.coveredEndSeconds)}`, i.lines.map((l) => l.kind).filter((k) => k !== 'usage').join(', ') || '–', `${i.total.toFixed(2)} ${i.currency}`]);
  const alerts = b.alerts.map((a) => `<li>${escapeHtml(day(a.atSeconds))} ${escapeHtml(a.kind)}: ${escapeHtml(a.message)}</li>`).join('');
  return `<h2>Invoices of the ${escapeHtml(policy.metrics.name)} policy's run</h2>
${tableHtml('invoices', ['provider', 'kind', 'agreement', 'metered', 'besides usage', 'total'], rows, 'provider')}
${alerts ? `<ul class="muted" id="alerts">${alerts}</ul>` : ''}`;
}

/** Rows of the pool changes table beyond this are left to `headroom simulate --json`. */
const MAX_CHANGE_ROWS = 40;

/** Colours of the nodes-per-pool chart (ColorBrewer Dark2, then repeated). */
const POOL_COLORS = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666'];

/** The pool section of the invoiced policy's run, as HTML ('' when there is nothing to say). */
function poolsHtml(policy: PolicyResult | undefined): string {
  const r = policy?.pools;
  if (!policy || !r) return '';
  const parts: string[] = [];
  const { rows, more, scales } = poolChangeRows(r.changes, MAX_CHANGE_ROWS);
  if (rows.length) parts.push(tableHtml('pool-changes', ['time', 'pool', 'action', 'nodes', 'why'], rows, 'pool', 1));
  const notes = [
    ...(more > 0 ? [`${more} more changes (all in headroom simulate --json, poolChanges)`] : []),
    ...(scales > 0 ? [`and ${scales} node count changes of candidate pools`] : []),
    ...r.barred.map((b) => `candidate ${b.pool} not created: ${b.reason}`),
    ...(r.creationCost > 0 ? [`pool creation cost (one-off, not in the invoiced cost): ${r.creationCost.toFixed(2)}`] : []),
  ];
  if (notes.length) parts.push(`<ul class="muted" id="pool-notes">${notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>`);
  if (r.throttled.length) {
    parts.push('<h3>Throttled: instances the plan could not place (who lost what)</h3>');
    parts.push(tableHtml('throttled', ['workload', 'priority', 'missing instance-hours', 'hours short'], r.throttled.map((t) => [t.workload, String(t.priority), t.missingInstanceHours.toFixed(1), t.hoursShort.toFixed(1)]), 'workload'));
  }
  const idle = r.idle.filter((i) => i.idleNodeHours > 0);
  if (idle.length) {
    parts.push('<h3>Idle capacity</h3>');
    parts.push(tableHtml('idle', ['pool', 'idle node-hours', 'reclaimable (idle > threshold)', 'reserved but idle (minNodes)'], idle.map((i) => [i.pool, i.idleNodeHours.toFixed(1), i.reclaimableNodeHours.toFixed(1), i.reservedIdleNodeHours.toFixed(1)]), 'pool'));
  }
  return parts.length ? `<h2>Pools in the ${escapeHtml(policy.metrics.name)} policy's run</h2>\n${parts.join('\n')}` : '';
}

/** Round to keep the embedded data small without visible loss. */
const r3 = (xs: readonly number[]) => xs.map((x) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : null));

export function renderReport(result: SimulationResult): string {
  const { js, css } = uplotAssets();
  const oracleCost = result.policies.find((p) => p.metrics.name === 'oracle')?.metrics.cost;
  const workloads = Object.keys(result.demandRps);
  const time = result.policies[0]?.timeline.timeSeconds ?? [];

  const charts = workloads.map((w) => {
    const band = result.forecastBands[w];
    return {
      id: `w-${w.replace(/[^a-zA-Z0-9_-]/g, '_')}`,
      title: `${w}: demand and capacity (requests/s)`,
      series: [
        { label: 'demand', color: '#000000', values: r3(result.demandRps[w]), width: 1.5 },
        ...(band
          ? [
              { label: `forecast p${Math.round(band.upperLevel * 100)}`, color: '#66c2a5', values: r3(band.upper), width: 1, dash: true },
              { label: 'forecast median', color: '#66c2a5', values: r3(band.median), width: 1 },
            ]
          : []),
        ...result.policies.map((p) => ({
          label: `${p.metrics.name} capacity`,
          color: POLICY_COLORS[p.metrics.name] ?? '#333',
          values: r3(p.timeline.capacityRps[w] ?? []),
          width: 1.25,
        })),
      ],
    };
  });
  charts.push({
    id: 'cost',
    title: 'Cost rate ($/hour)',
    series: result.policies.map((p) => ({
      label: p.metrics.name,
      color: POLICY_COLORS[p.metrics.name] ?? '#333',
      values: r3(p.timeline.costPerHour),
      width: 1.25,
    })),
  });

  const invoiced = invoicedPolicy(result);
  const usedPools = Object.entries(invoiced?.timeline.nodes ?? {}).filter(([, v]) => v.some((x) => x > 0));
  if (invoiced && usedPools.length) {
    charts.push({
      id: 'nodes',
      title: `Nodes per pool (${invoiced.metrics.name} policy)`,
      series: usedPools.map(([pool, v], i) => ({ label: pool, color: POOL_COLORS[i % POOL_COLORS.length], values: r3(v), width: 1.25 })),
    });
  }

  const data = { time, charts };
  const notes = result.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>headroom replay: ${escapeHtml(result.scenario)}</title>
<style>${css}
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1200px; padding: 0 16px; color: #222; }
table.metrics { border-collapse: collapse; margin: 12px 0 20px; }
table.metrics th, table.metrics td { padding: 4px 10px; border-bottom: 1px solid #ddd; text-align: right; }
table.metrics th[scope=row], table.metrics thead th:first-child { text-align: left; }
.chart { margin: 18px 0 28px; }
.chart h3 { margin: 0 0 6px; font-size: 15px; }
h3 { font-size: 15px; }
#pool-changes td:last-child { text-align: left; }
.muted { color: #666; }
</style>
</head>
<body>
<h1>headroom replay: ${escapeHtml(result.scenario)}</h1>
<p class="muted">${result.description ? escapeHtml(result.description.replace(/\.?\s*$/, '.')) : 'A replay of demand traces.'} ${result.evaluatedSteps} steps of ${result.stepSeconds} s evaluated, starting ${new Date(result.startSeconds * 1000).toISOString()}.</p>
<table class="metrics" id="metrics">
<thead><tr><th>policy</th><th>cost</th><th>vs oracle</th><th>node-hours</th><th>SLO attained</th><th>steps violating</th><th>under-prov time</th><th>over-prov time</th><th>actions</th></tr></thead>
<tbody>${result.policies.map((p) => metricsRow(p.metrics, oracleCost)).join('')}</tbody>
</table>
${notes ? `<ul class="muted">${notes}</ul>` : ''}
${invoicesHtml(invoiced)}
${poolsHtml(invoiced)}
<div id="charts"></div>
<script>${js}</script>
<script>
const DATA = ${scriptJson(data)};
const root = document.getElementById('charts');
const width = () => Math.min(1160, document.body.clientWidth - 8);
for (const c of DATA.charts) {
  const box = document.createElement('div');
  box.className = 'chart';
  box.id = c.id;
  const h = document.createElement('h3');
  h.textContent = c.title;
  box.appendChild(h);
  root.appendChild(box);
  new uPlot({
    width: width(), height: 280,
    series: [{}, ...c.series.map((s) => ({ label: s.label, stroke: s.color, width: s.width, dash: s.dash ? [4, 4] : undefined, points: { show: false } }))],
    axes: [{}, { size: 70 }],
  }, [DATA.time, ...c.series.map((s) => s.values)], box);
}
document.body.dataset.chartsRendered = String(document.querySelectorAll('.uplot').length);
</script>
</body>
</html>
`;
}
