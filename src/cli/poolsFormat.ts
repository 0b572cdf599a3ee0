/** Pool changes, fragmentation, idle capacity and throttling in `headroom simulate` (text and `--json`). */
import { invoicedPolicy } from '../sim/invoiced.ts';
import { poolChangeRows, type PoolChange, type PoolReport } from '../sim/pools.ts';
import type { PolicyResult, SimulationResult } from '../sim/types.ts';
import { table } from './format.ts';

const iso = (s: number) => new Date(s * 1000).toISOString();

/** Rows of the pool changes table beyond this are left to `--json`. */
const MAX_CHANGE_ROWS = 40;

/** Life cycle and health changes, one row each; node count changes of candidate pools are counted (all of them are in --json). */
export function poolChangesTable(all: readonly PoolChange[]): string {
  const { rows, more, scales } = poolChangeRows(all, MAX_CHANGE_ROWS);
  const moreText = more > 0 ? `\n  … ${more} more (all in --json poolChanges)` : '';
  const resized = scales > 0 ? `\n  and ${scales} node count changes of candidate pools (action "scale" in --json poolChanges)` : '';
  return table(['time', 'pool', 'action', 'nodes', 'why'], rows, [1, 2, 4]) + moreText + resized;
}

export function fragmentationTable(report: PoolReport): string {
  const rows = report.fragmentation.map((f) => [
    f.pool,
    String(f.samples),
    f.meanNodes.toFixed(1),
    (f.meanFreeCpuMillicores / 1000).toFixed(2),
    (f.meanFreeMemoryMiB / 1024).toFixed(1),
    (f.meanStrandedCpuMillicores / 1000).toFixed(2),
    (f.meanStrandedMemoryMiB / 1024).toFixed(1),
    (f.maxStrandedCpuMillicores / 1000).toFixed(2),
    (f.maxStrandedMemoryMiB / 1024).toFixed(1),
    f.samplesShortOfNodes === 0 ? '0' : `${f.samplesShortOfNodes} (up to ${f.maxNodesShort})`,
  ]);
  return table(['pool', 'hourly samples', 'mean nodes', 'free cores', 'free GiB', 'stranded cores', 'stranded GiB', 'max stranded cores', 'max stranded GiB', 'hours short of nodes'], rows);
}

export function idleTable(report: PoolReport): string {
  const rows = report.idle
    .filter((i) => i.idleNodeHours > 0)
    .map((i) => [i.pool, i.idleNodeHours.toFixed(1), i.reclaimableNodeHours.toFixed(1), i.reservedIdleNodeHours.toFixed(1)]);
  return rows.length ? table(['pool', 'idle node-hours', 'reclaimable (idle > threshold)', 'reserved but idle (minNodes)'], rows) : '';
}

/** The pool section of the text report for one policy's run. */
export function poolReportText(policy: PolicyResult): string {
  const r = policy.pools;
  if (!r) return '';
  const out: string[] = [];
  if (r.changes.length) out.push(`Pool changes in the ${policy.metrics.name} policy's run`, '', poolChangesTable(r.changes), '');
  if (r.barred.length) out.push('Candidate pools not created', ...r.barred.map((b) => `  ${b.pool}: ${b.reason}`), '');
  if (r.creationCost > 0) out.push(`Pool creation cost (one-off, not in the invoiced cost): ${r.creationCost.toFixed(2)}`, '');
  if (r.throttled.length) {
    out.push(
      'Throttled: instances the plan could not place (who lost what)',
      '',
      table(['workload', 'priority', 'missing instance-hours', 'hours short'], r.throttled.map((t) => [t.workload, String(t.priority), t.missingInstanceHours.toFixed(1), t.hoursShort.toFixed(1)])),
      '',
    );
  }
  if (r.fragmentation.length) out.push(`Fragmentation (instances packed node by node, hourly, ${policy.metrics.name} policy)`, '', fragmentationTable(r), '');
  const idle = idleTable(r);
  if (idle) out.push(`Idle capacity (${policy.metrics.name} policy)`, '', idle, '');
  return out.join('\n');
}

function changeJson(c: PoolChange): unknown {
  return { time: iso(c.timeSeconds), pool: c.pool, action: c.action, fromNodes: c.fromNodes, toNodes: c.toNodes, reason: c.reason, ...(c.network ? { network: c.network } : {}) };
}

/** `--json` fields: pool changes and fragmentation of the invoiced (predictive) policy's run, and every policy's pool report. */
export function poolsJson(result: SimulationResult): Record<string, unknown> {
  const p = invoicedPolicy(result);
  return {
    poolChanges: (p?.pools?.changes ?? []).map(changeJson),
    fragmentation: p?.pools?.fragmentation ?? [],
    pools: Object.fromEntries(
      result.policies.map((q) => [
        q.metrics.name,
        q.pools
          ? { changes: q.pools.changes.map(changeJson), fragmentation: q.pools.fragmentation, idle: q.pools.idle, throttled: q.pools.throttled, barred: q.pools.barred, creationCost: q.pools.creationCost }
          : null,
      ]),
    ),
  };
}
