import type { Action, Allocation } from '../core/plan.ts';
import type { ObservedState } from '../drivers/driver.ts';
import { diffAllocation, type DiffOptions } from './diff.ts';

export interface ReconcileOptions extends DiffOptions {
  /** Remove old instances and nodes even if the target's new instances are not all running yet. */
  readonly forceRemovals?: boolean;
}

export interface ReconcileStep {
  /** Actions to apply now, in order. */
  readonly actions: Action[];
  /** Workloads whose surplus instances wait for their replacements to run (make before break). */
  readonly waiting: string[];
}

/**
 * The actions to take now to move the observed state toward `target`, make
 * before break: capacity is added at once, but a workload's surplus instances
 * are removed only when the target's instances of that workload all run, or
 * no capacity for them is on its way, or `forceRemovals`; and nodes are removed only when no workload is still
 * waiting, so a move between pools never leaves a gap while new nodes boot.
 * A pure scale-down (no new instances) is not held back.
 */
export function reconcileActions(observed: ObservedState, target: Allocation, options: ReconcileOptions): ReconcileStep {
  const nodesByPool: Record<string, number> = {};
  for (const p of new Set([...Object.keys(observed.readyNodesByPool), ...Object.keys(observed.pendingNodesByPool)])) {
    nodesByPool[p] = (observed.readyNodesByPool[p] ?? 0) + (observed.pendingNodesByPool[p] ?? 0);
  }
  const all = diffAllocation({ nodesByPool, instances: observed.desiredInstances }, target, options);
  const waiting: string[] = [];
  // Nodes on their way: pending now, or asked for by this very step.
  const incoming = new Set([
    ...Object.entries(observed.pendingNodesByPool).flatMap(([pool, n]) => (n > 0 ? [pool] : [])),
    ...all.flatMap((a) => (a.kind === 'scaleNodes' && a.toNodes > a.fromNodes ? [a.pool] : [])),
  ]);
  if (!options.forceRemovals) {
    const shrinking = new Set(all.flatMap((a) => (a.kind === 'scaleWorkload' && a.toInstances < a.fromInstances ? [a.workload] : [])));
    for (const w of shrinking) {
      const running = observed.runningInstances[w] ?? {};
      const wanted = target.instances[w] ?? {};
      // Wait only for replacements whose capacity is on its way; if none is, waiting cannot help.
      const short = Object.entries(wanted).filter(([pool, n]) => (running[pool] ?? 0) < n);
      if (short.some(([pool]) => incoming.has(pool))) waiting.push(w);
    }
  }
  const held = new Set(waiting);
  const actions = all.filter((a) => {
    if (a.phase <= 1) return true;
    if (a.kind === 'scaleWorkload') return !held.has(a.workload);
    return held.size === 0;
  });
  return { actions, waiting };
}
