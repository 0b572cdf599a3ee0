import type { Action, Allocation } from '../core/plan.ts';

/** What is in place now (desired state, as the driver holds it). */
export interface CurrentState {
  readonly nodesByPool: Readonly<Record<string, number>>;
  /** workload -> pool -> desired instances */
  readonly instances: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export interface DiffOptions {
  readonly decidedAtSeconds: number;
  /** Prefix that makes action ids unique across decisions (e.g. policy name and time). */
  readonly idPrefix: string;
  readonly reason: string;
}

/**
 * The ordered actions that move `current` to `target`, in an order that never
 * removes capacity before its replacement is asked for:
 *   phase 0: add nodes; phase 1: add instances; phase 2: remove instances;
 *   phase 3: remove nodes.
 */
export function diffAllocation(current: CurrentState, target: Allocation, options: DiffOptions): Action[] {
  const base = { decidedAtSeconds: options.decidedAtSeconds, reason: options.reason };
  const actions: Action[] = [];
  let seq = 0;
  const id = () => `${options.idPrefix}#${seq++}`;
  const pools = [...new Set([...Object.keys(current.nodesByPool), ...Object.keys(target.nodesByPool)])].sort();
  const workloads = [...new Set([...Object.keys(current.instances), ...Object.keys(target.instances)])].sort();

  for (const pool of pools) {
    const from = current.nodesByPool[pool] ?? 0;
    const to = target.nodesByPool[pool] ?? 0;
    if (to > from) actions.push({ ...base, id: id(), kind: 'scaleNodes', phase: 0, pool, fromNodes: from, toNodes: to });
  }
  const instanceChanges: { workload: string; pool: string; from: number; to: number }[] = [];
  for (const workload of workloads) {
    const cur = current.instances[workload] ?? {};
    const tgt = target.instances[workload] ?? {};
    for (const pool of [...new Set([...Object.keys(cur), ...Object.keys(tgt)])].sort()) {
      const from = cur[pool] ?? 0;
      const to = tgt[pool] ?? 0;
      if (from !== to) instanceChanges.push({ workload, pool, from, to });
    }
  }
  for (const c of instanceChanges.filter((c) => c.to > c.from)) {
    actions.push({ ...base, id: id(), kind: 'scaleWorkload', phase: 1, workload: c.workload, pool: c.pool, fromInstances: c.from, toInstances: c.to });
  }
  for (const c of instanceChanges.filter((c) => c.to < c.from)) {
    actions.push({ ...base, id: id(), kind: 'scaleWorkload', phase: 2, workload: c.workload, pool: c.pool, fromInstances: c.from, toInstances: c.to });
  }
  for (const pool of pools) {
    const from = current.nodesByPool[pool] ?? 0;
    const to = target.nodesByPool[pool] ?? 0;
    if (to < from) {
      actions.push({ ...base, id: id(), kind: 'scaleNodes', phase: 3, pool, fromNodes: from, toNodes: to });
    }
  }
  return actions;
}
