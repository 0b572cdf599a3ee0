/** Reservation changes and reserved vs used, for the terminal and `--json`. */
import type { PolicyResult } from '../sim/types.ts';
import { table } from './format.ts';

const when = (s: number) => new Date(s * 1000).toISOString().slice(0, 16).replace('T', ' ');

/** Changes over time (time, account, zone/pool, from → to, why), then reserved vs used per account and the groups' forecasts. */
export function reservationTable(policy: PolicyResult): string {
  const r = policy.reservations;
  if (!r) return '';
  const out = [`Reservation changes of the ${policy.metrics.name} policy's run (nodes)`, ''];
  out.push(
    r.changes.length === 0
      ? '  (none)'
      : table(
          ['time', 'account', 'zone/pool', 'from → to', 'reason', 'why'],
          r.changes.map((c) => [when(c.timeSeconds), c.account, `${c.zone}/${c.pool}`, `${c.fromNodes} → ${c.toNodes}`, c.reason, c.detail]),
          [1, 2, 4, 5],
        ),
  );
  out.push('', 'Reserved vs used per account (node-hours in the reservation pools)', '');
  out.push(
    table(
      ['account', 'group', 'reserved', 'used', 'used/reserved', 'reserved cost', 'changes'],
      r.accounts.map((a) => [
        a.account,
        a.group ?? '-',
        a.reservedNodeHours.toFixed(1),
        a.usedNodeHours.toFixed(1),
        a.reservedNodeHours > 0 ? `${((a.usedNodeHours / a.reservedNodeHours) * 100).toFixed(1)}%` : '-',
        a.reservedCost.toFixed(2),
        String(a.changes),
      ]),
      [1],
    ),
  );
  const groups = [...new Set(r.groups.map((g) => g.group))];
  if (groups.length) {
    out.push('', `Group forecasts (peak ${Math.round(r.upperLevel * 100)}% upper bound over the horizon, node-equivalents; reconciled from members vs summed quantiles), mean over reviews`, '');
    out.push(
      table(
        ['group', 'upper (reconciled)', 'upper (summed)', 'predicted', 'reserved'],
        groups.map((g) => {
          const pts = r.groups.filter((p) => p.group === g);
          const mean = (f: (p: (typeof pts)[number]) => number) => (pts.reduce((s, p) => s + f(p), 0) / pts.length).toFixed(2);
          return [g, mean((p) => p.upperNodes), mean((p) => p.summedUpperNodes), mean((p) => p.predictedNodes), mean((p) => p.reservedNodes)];
        }),
      ),
    );
  }
  return out.join('\n');
}

/** The optional `--json` fields of a policy's reservations. */
export function reservationsJson(policy: PolicyResult | undefined): Record<string, unknown> {
  const r = policy?.reservations;
  if (!r) return {};
  return {
    reservations: r.changes.map((c) => ({
      time: new Date(c.timeSeconds * 1000).toISOString(),
      timeSeconds: c.timeSeconds,
      account: c.account,
      pool: c.pool,
      zone: c.zone,
      from: c.fromNodes,
      to: c.toNodes,
      reason: c.reason,
      detail: c.detail,
    })),
    reservedVsUsed: r.accounts,
    reservationGroups: r.groups,
  };
}
